// XEP-0077 in-band registration before authentication (§3.1). The c2s owns
// credentials, as jabberd2's authreg does: it stores the SCRAM keys, then
// tells the sm with `sm:sessions create`. Off unless the operator enables it;
// when on, attempts are limited per address (auth/registration-limit.ts) and
// may require an invitation presented first as XEP-0445 describes
// (auth/invites.ts).

import { Element, xml } from '@switchboard/xml';
import { prepareLocalpart } from '@switchboard/jid';
import { iqResult, replyWithError, stanzaError } from '@switchboard/protocol';

export const NS_REGISTER = 'jabber:iq:register';
export const NS_REGISTER_FEATURE = 'http://jabber.org/features/iq-register';
/** XEP-0445 §3: the stream feature saying registration takes a token. */
export const NS_IBR_TOKEN = 'urn:xmpp:ibr-token:0';
/** XEP-0379 / XEP-0401: the element a token is presented in. */
export const NS_PARS = 'urn:xmpp:pars:0';

export type RegisterOutcome = 'created' | 'conflict' | 'failed' | 'invite-invalid';

export interface RegistrationOptions {
  enabled: boolean;
  secure: boolean;
  /** Counts an attempt to create an account from this stream's address; false when it is over its limit. */
  admit(): boolean;
  /** An invitation is required, and the one this stream presented (validated), if any. */
  invite: { required: boolean; token: string | undefined };
  create(username: string, password: string, invite: string | undefined): Promise<RegisterOutcome>;
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
    return iqResult(el, xml('query', { xmlns: NS_REGISTER }, xml('instructions', {}, 'Choose a username and password.'), xml('username'), xml('password')));
  }
  if (el.attrs.type !== 'set') return replyWithError(el, stanzaError('bad-request'));
  const rawUsername = query.getChildText('username');
  const password = query.getChildText('password');
  // §3.1: missing fields are not-acceptable.
  if (!rawUsername || !password) return replyWithError(el, stanzaError('not-acceptable', { text: 'username and password are required' }));
  const username = prepareLocalpart(rawUsername);
  if (username === undefined) return replyWithError(el, stanzaError('jid-malformed'));
  if (options.invite.required && options.invite.token === undefined) {
    return replyWithError(el, stanzaError('forbidden', { text: 'registration needs an invitation (XEP-0445)' }));
  }
  // Local policy (§3.1 leaves it to the server): wait, then try again.
  if (!options.admit()) return replyWithError(el, stanzaError('policy-violation', { type: 'wait', text: 'too many registrations from this address; try again later' }));
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
