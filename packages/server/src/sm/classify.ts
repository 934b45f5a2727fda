// Each stanza is classified once into a typed value (jabberd2's pkt_t), and
// everything after works on that.

import type { Element } from '@switchboard/xml';
import { parseJid, type Jid } from '@switchboard/jid';
import { messageType, presenceType, iqType, type IqType, type MessageType, type PresenceType } from '@switchboard/protocol';

/**
 * - self: no `to` (RFC 6120 §10.3: on behalf of the sender's account)
 * - host: our domain itself
 * - bare / full: a local user's address
 * - remote: another domain (no s2s yet)
 */
export type AddressClass = 'self' | 'host' | 'bare' | 'full' | 'remote';

/** `text`: the stanza as text, when the c2s had it (Envelope.text); it goes with the stanza while the stanza is delivered unchanged. */
export type Classified =
  | { kind: 'message'; type: MessageType; stanza: Element; to: Jid | undefined; address: AddressClass; text: string | undefined }
  | { kind: 'presence'; type: PresenceType; stanza: Element; to: Jid | undefined; address: AddressClass; text: string | undefined }
  | { kind: 'iq'; type: IqType; stanza: Element; to: Jid | undefined; address: AddressClass; text: string | undefined };

export type ClassifyResult = { ok: true; value: Classified } | { ok: false; problem: 'jid-malformed' | 'bad-request' };

export function classify(stanza: Element, domain: string, text?: string): ClassifyResult {
  let to: Jid | undefined;
  let address: AddressClass = 'self';
  const rawTo = stanza.attrs.to;
  if (rawTo !== undefined) {
    const parsed = parseJid(rawTo);
    if (!parsed.ok) return { ok: false, problem: 'jid-malformed' };
    to = parsed.jid;
    if (to.domain !== domain) address = 'remote';
    // A resource on the domain itself (host/resource) is still the server's.
    else if (to.local === undefined) address = 'host';
    else address = to.resource === undefined ? 'bare' : 'full';
  }
  switch (stanza.name) {
    case 'message':
      return { ok: true, value: { kind: 'message', type: messageType(stanza), stanza, to, address, text } };
    case 'presence': {
      const type = presenceType(stanza);
      if (type === undefined) return { ok: false, problem: 'bad-request' };
      return { ok: true, value: { kind: 'presence', type, stanza, to, address, text } };
    }
    case 'iq': {
      const type = iqType(stanza);
      if (type === undefined || stanza.attrs.id === undefined) return { ok: false, problem: 'bad-request' };
      return { ok: true, value: { kind: 'iq', type, stanza, to, address, text } };
    }
    default:
      return { ok: false, problem: 'bad-request' };
  }
}
