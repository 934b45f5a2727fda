// XEP-0280 Message Carbons on the client: enabling them, and reading every
// incoming message as what it is — a message to this resource, or a copy of
// one received or sent by another resource of the account. A carbon is
// accepted only from the account's own bare JID (XEP-0280 §11): anyone else
// can wrap a message in <received/> to make it look as if it came from
// someone it did not, so such a "carbon" is dropped.

import { Element, xml } from '@switchboard/xml';
import { NS_MAM, parseForwarded, stanzaIdBy } from '@switchboard/protocol';

export const NS_CARBONS = 'urn:xmpp:carbons:2';

/** A message the client received, as the application should see it. */
export interface IncomingMessage {
  /**
   * - message: addressed to this resource (or the bare JID)
   * - received-carbon: another resource of the account received it
   * - sent-carbon: another resource of the account sent it
   */
  kind: 'message' | 'received-carbon' | 'sent-carbon';
  /** The message itself; for a carbon, the forwarded message, unwrapped. */
  stanza: Element;
  /** XEP-0359: the id the account's archive gave it, when the server put one on it. */
  stanzaId?: string;
}

/** The account's bare JID of a full JID. */
export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}

/**
 * Reads an incoming message stanza. Undefined for what is not a message for
 * the application: a MAM result (the archive query that asked for it takes
 * it) or a carbon that does not come from the account (forged).
 */
export function readMessage(el: Element, accountBare: string): IncomingMessage | undefined {
  if (el.name !== 'message') return undefined;
  let carbon: Element | undefined;
  for (const child of el.children) {
    if (typeof child === 'string') continue;
    const ns = child.attrs.xmlns;
    if (ns === NS_CARBONS && (child.name === 'received' || child.name === 'sent')) carbon = child;
    else if (ns === NS_MAM && child.name === 'result') return undefined;
  }
  if (!carbon) {
    const stanzaId = stanzaIdBy(el, accountBare);
    return stanzaId === undefined ? { kind: 'message', stanza: el } : { kind: 'message', stanza: el, stanzaId };
  }
  // §11: only the account's own server, speaking for the bare JID, sends carbons.
  if (el.attrs.from !== accountBare) return undefined;
  const forwarded = parseForwarded(carbon.getChild('forwarded'));
  if (!forwarded || forwarded.stanza.name !== 'message') return undefined;
  const kind = carbon.name === 'received' ? 'received-carbon' : 'sent-carbon';
  const stanzaId = stanzaIdBy(forwarded.stanza, accountBare);
  return stanzaId === undefined ? { kind, stanza: forwarded.stanza } : { kind, stanza: forwarded.stanza, stanzaId };
}

/** The iq payload that turns carbons on or off for this resource (§4, §5). */
export function carbonsRequest(enable: boolean): Element {
  return xml('iq', { type: 'set' }, xml(enable ? 'enable' : 'disable', { xmlns: NS_CARBONS }));
}

/** XEP-0334 / XEP-0280 §7.1: a message marked not to be copied to the other resources. */
export function markPrivate(message: Element): Element {
  return message.append(xml('private', { xmlns: NS_CARBONS }), xml('no-copy', { xmlns: 'urn:xmpp:hints' }));
}
