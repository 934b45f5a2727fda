// XEP-0077 in-band registration before authentication (§3.1). The c2s owns
// credentials, as jabberd2's authreg does: it stores the SCRAM keys, then
// tells the sm with `sm:sessions create`. Off unless the operator enables it.

import { Element, xml } from '@switchboard/xml';
import { prepareLocalpart } from '@switchboard/jid';
import { iqResult, replyWithError, stanzaError } from '@switchboard/protocol';

export const NS_REGISTER = 'jabber:iq:register';
export const NS_REGISTER_FEATURE = 'http://jabber.org/features/iq-register';

export type RegisterOutcome = 'created' | 'conflict' | 'failed';

/** Answers a registration iq on an unauthenticated stream, or undefined if `el` is not one. */
export async function handleRegistration(
  el: Element,
  options: { enabled: boolean; secure: boolean; create: (username: string, password: string) => Promise<RegisterOutcome> },
): Promise<Element | undefined> {
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
  const outcome = await options.create(username, password);
  if (outcome === 'conflict') return replyWithError(el, stanzaError('conflict'));
  if (outcome === 'failed') return replyWithError(el, stanzaError('internal-server-error'));
  return iqResult(el);
}
