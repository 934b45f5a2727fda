// XEP-0280 §6.1: which messages are copied to the account's other resources.
// A message is eligible unless it is marked private (§7.1, or XEP-0334
// <no-copy/>), and when it is of type chat, of type normal with a <body>,
// or an error answering an eligible message. Groupchat never is (the MUC
// sends every occupant's resource its own copy), nor a MUC private message
// that reached one full JID (XEP-0280 §6.2, XEP-0045 §7.5: the occupant's
// other resources are not in the room).

import type { Element } from '@switchboard/xml';

export const NS_CARBONS = 'urn:xmpp:carbons:2';
export const NS_HINTS = 'urn:xmpp:hints';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';

/** The type that decides eligibility, as the classifier read it. */
export type MessageKind = 'chat' | 'normal' | 'groupchat' | 'headline' | 'error';

/**
 * `answersEligible` tells, for an error, whether it answers a message that
 * was eligible (the module remembers what its users sent).
 */
export function eligibleForCarbons(stanza: Element, type: MessageKind, answersEligible: () => boolean): boolean {
  let body = false;
  for (const child of stanza.children) {
    if (typeof child === 'string') continue;
    const ns = child.attrs.xmlns;
    if (ns === NS_CARBONS) {
      // §7.1 private; and a carbon is never carbon-copied again.
      if (child.name === 'private' || child.name === 'received' || child.name === 'sent') return false;
    } else if (ns === NS_HINTS && child.name === 'no-copy') {
      return false;
    } else if (child.name === 'body' && (ns === undefined || ns === 'jabber:client')) {
      body = true;
    }
  }
  switch (type) {
    case 'chat':
      return true;
    case 'normal':
      return body;
    case 'error':
      return answersEligible();
    default:
      return false;
  }
}

/** A private message from a MUC occupant, sent to one full JID (not copied on the receiving side). */
export function isMucPrivateMessage(stanza: Element): boolean {
  return stanza.getChild('x', NS_MUC_USER) !== undefined;
}
