// XEP-0077 in-band registration before authentication (§3.1). The c2s owns
// credentials, as jabberd2's authreg does: it stores the SCRAM keys, then
// tells the sm with `sm:sessions create`. Off unless the operator enables it;
// when on, attempts are limited per address (auth/registration-limit.ts) and
// may require an invitation presented first as XEP-0445 describes
// (auth/invites.ts), or a XEP-0158 CAPTCHA answered in the registration's
// data form (auth/captcha.ts), which an invitation makes unnecessary.

import { Element, xml } from '@switchboard/xml';
import { prepareLocalpart } from '@switchboard/jid';
import { formElement, iqResult, NS_DATA_FORMS, readFormFields, replyWithError, stanzaError, type FormField } from '@switchboard/protocol';
import type { CaptchaVerdict, Challenge } from '../auth/captcha.ts';

export const NS_REGISTER = 'jabber:iq:register';
export const NS_REGISTER_FEATURE = 'http://jabber.org/features/iq-register';
/** XEP-0445 §3: the stream feature saying registration takes a token. */
export const NS_IBR_TOKEN = 'urn:xmpp:ibr-token:0';
/** XEP-0379 / XEP-0401: the element a token is presented in. */
export const NS_PARS = 'urn:xmpp:pars:0';
/** XEP-0158 §3.2: the FORM_TYPE of a CAPTCHA form. */
export const NS_CAPTCHA = 'urn:xmpp:captcha';

export type RegisterOutcome = 'created' | 'conflict' | 'failed' | 'invite-invalid';

export interface RegistrationOptions {
  enabled: boolean;
  secure: boolean;
  /** Counts an attempt to create an account from this stream's address; false when it is over its limit. */
  admit(): boolean | Promise<boolean>;
  /** An invitation is required, and the one this stream presented (validated), if any. */
  invite: { required: boolean; token: string | undefined };
  create(username: string, password: string, invite: string | undefined): Promise<RegisterOutcome>;
  /** XEP-0158: set when this stream must answer a CAPTCHA to register (on, and no invitation presented). */
  captcha?: {
    /** The `from` field: the server's address. */
    from: string;
    /** A new challenge, or undefined when the table of pending ones is full. */
    issue(): Challenge | undefined;
    /** Spends the challenge `id` and says whether `answer` was right. */
    check(id: string, answer: string): CaptchaVerdict;
  };
}

/** XEP-0077 §4 with XEP-0158 §4: the registration form with a `qa` CAPTCHA; the legacy fields stay beside it. */
function captchaForm(el: Element, from: string, challenge: Challenge): Element {
  const fields: FormField[] = [
    { var: 'FORM_TYPE', type: 'hidden', values: [NS_CAPTCHA] },
    { var: 'from', type: 'hidden', values: [from] },
    { var: 'challenge', type: 'hidden', values: [challenge.id] },
    { var: 'sid', type: 'hidden', values: [el.attrs.id ?? ''] },
    { var: 'username', type: 'text-single', label: 'Username', required: true, values: [] },
    { var: 'password', type: 'text-private', label: 'Password', required: true, values: [] },
    { var: 'qa', type: 'text-single', label: challenge.question, required: true, values: [] },
  ];
  return iqResult(
    el,
    xml(
      'query',
      { xmlns: NS_REGISTER },
      xml('instructions', {}, `Choose a username and password, and answer: ${challenge.question}`),
      xml('username'),
      xml('password'),
      formElement('form', fields),
    ),
  );
}

/** Answers a registration iq on an unauthenticated stream, or undefined if `el` is not one. */
export async function handleRegistration(el: Element, options: RegistrationOptions): Promise<Element | undefined> {
  if (el.name !== 'iq') return undefined;
  const query = el.getChild('query', NS_REGISTER);
  if (!query) return undefined;
  if (!options.enabled) return replyWithError(el, stanzaError('service-unavailable'));
  // Credentials travel in the clear here: the same rule as SASL PLAIN.
  if (!options.secure) return replyWithError(el, stanzaError('not-authorized', { text: 'register over TLS' }));
  if (el.attrs.type === 'get') {
    if (options.captcha) {
      const challenge = options.captcha.issue();
      // Too many challenges pending (in all or from this address): come back later.
      if (!challenge) return replyWithError(el, stanzaError('resource-constraint', { text: 'too many registrations under way; try again later' }));
      return captchaForm(el, options.captcha.from, challenge);
    }
    return iqResult(el, xml('query', { xmlns: NS_REGISTER }, xml('instructions', {}, 'Choose a username and password.'), xml('username'), xml('password')));
  }
  if (el.attrs.type !== 'set') return replyWithError(el, stanzaError('bad-request'));
  // A data form (XEP-0077 §4) carries the fields; a client without one sends them as elements.
  const form = query.getChild('x', NS_DATA_FORMS);
  const fields = new Map<string, string>();
  if (form) for (const f of readFormFields(form)) fields.set(f.var, f.values[0] ?? '');
  const rawUsername = fields.get('username') || query.getChildText('username');
  const password = fields.get('password') || query.getChildText('password');
  // §3.1: missing fields are not-acceptable.
  if (!rawUsername || !password) return replyWithError(el, stanzaError('not-acceptable', { text: 'username and password are required' }));
  const username = prepareLocalpart(rawUsername);
  if (username === undefined) return replyWithError(el, stanzaError('jid-malformed'));
  if (options.invite.required && options.invite.token === undefined) {
    return replyWithError(el, stanzaError('forbidden', { text: 'registration needs an invitation (XEP-0445)' }));
  }
  // XEP-0158 §3.5: a CAPTCHA not answered is not-acceptable, like a missing field (XEP-0077 §3.1).
  const challenge = fields.get('FORM_TYPE') === NS_CAPTCHA ? fields.get('challenge') : undefined;
  const answer = fields.get('qa');
  if (options.captcha && (!challenge || answer === undefined)) {
    return replyWithError(el, stanzaError('not-acceptable', { text: 'answer the CAPTCHA of the registration form (iq get)' }));
  }
  // Local policy (§3.1 leaves it to the server): wait, then try again. Wrong answers count too.
  if (!(await options.admit())) return replyWithError(el, stanzaError('policy-violation', { type: 'wait', text: 'too many registrations from this address; try again later' }));
  if (options.captcha) {
    // One answer per challenge, right or wrong: a wrong one, or one to a spent, expired or someone else's challenge, makes no account.
    const verdict = options.captcha.check(challenge!, answer!);
    if (verdict !== 'right') return replyWithError(el, stanzaError('not-acceptable', { text: verdict === 'wrong' ? 'wrong answer to the CAPTCHA; ask for a new form' : 'unknown or expired CAPTCHA; ask for a new form' }));
  }
  const outcome = await options.create(username, password, options.invite.token);
  if (outcome === 'conflict') return replyWithError(el, stanzaError('conflict'));
  if (outcome === 'invite-invalid') return replyWithError(el, stanzaError('forbidden', { text: 'the invitation is invalid, expired or spent' }));
  if (outcome === 'failed') return replyWithError(el, stanzaError('internal-server-error'));
  return iqResult(el);
}

/** XEP-0445 §3 (Prosody's mod_invites_register does the same): a token presented before registering. */
export async function handlePreauth(el: Element, options: { enabled: boolean; validate(token: string): Promise<boolean> }): Promise<{ reply: Element; token?: string } | undefined> {
  const preauth = el.name === 'iq' ? el.getChild('preauth', NS_PARS) : undefined;
  if (!preauth) return undefined;
  const reply = (r: Element | undefined): { reply: Element } => ({ reply: r! });
  if (!options.enabled) return reply(replyWithError(el, stanzaError('service-unavailable')));
  if (el.attrs.type !== 'set') return reply(replyWithError(el, stanzaError('bad-request')));
  const token = preauth.attrs.token ?? '';
  if (!(await options.validate(token))) return reply(replyWithError(el, stanzaError('forbidden', { text: 'the invitation is invalid or expired' })));
  return { reply: iqResult(el), token };
}
