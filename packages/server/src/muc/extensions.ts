// Room IQs beyond XEP-0045's own: registration (§7.10), the room's vCard
// (XEP-0054 for room avatars), and its archive (XEP-0313). 'unhandled' means
// the room does not serve that namespace (service-unavailable).

import type { Element } from '@switchboard/xml';
import type { Jid } from '@switchboard/jid';
import type { StanzaError } from '@switchboard/protocol';
import type { MucStore } from '../storage/ports.ts';
import type { Room } from './room.ts';

export async function roomExtensions(room: Room, stanza: Element, payload: Element, from: Jid, store: MucStore): Promise<Element | StanzaError | undefined | 'unhandled'> {
  void room;
  void stanza;
  void payload;
  void from;
  void store;
  return 'unhandled';
}
