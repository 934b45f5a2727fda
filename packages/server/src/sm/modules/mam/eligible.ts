// Which messages enter a user's archive (XEP-0313 §5 business rules, with
// the XEP-0334 storage hints) and whether the user's preferences (§6) keep a
// given contact's messages out.

import type { Element } from '@switchboard/xml';
import type { MessageType } from '@switchboard/protocol';
import type { ArchivePrefs } from '../../../storage/archive.ts';

const NS_HINTS = 'urn:xmpp:hints';

/**
 * §5: messages of type chat or normal with a body. Groupchat is the room's to
 * archive, errors and headlines are not conversation. XEP-0334: <no-store/>
 * and <no-permanent-store/> keep a message out, <store/> lets one without a
 * body in (a chat marker the sender wants kept).
 */
export function archivable(stanza: Element, type: MessageType): boolean {
  if (type !== 'chat' && type !== 'normal') return false;
  let body = false;
  let store = false;
  for (const child of stanza.children) {
    if (typeof child === 'string') continue;
    if (child.name === 'body') body = true;
    else if (child.attrs.xmlns === NS_HINTS) {
      if (child.name === 'no-store' || child.name === 'no-permanent-store') return false;
      if (child.name === 'store') store = true;
    }
  }
  return body || store;
}

/** The text the full-text field searches: the body. */
export function bodyText(stanza: Element): string | undefined {
  return stanza.getChildText('body');
}

/**
 * §6.1: does the user archive messages with `contact` (a bare JID)? The
 * lists win over the default; `roster` asks whether the contact is in the
 * roster, which only then is looked up.
 */
export function decide(prefs: ArchivePrefs, contact: string, inRoster: () => boolean | Promise<boolean>): boolean | Promise<boolean> {
  if (prefs.never.includes(contact)) return false;
  if (prefs.always.includes(contact)) return true;
  if (prefs.default === 'always') return true;
  if (prefs.default === 'never') return false;
  return inRoster();
}
