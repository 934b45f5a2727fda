// Room IQs beyond XEP-0045's own: the room's archive (XEP-0313). 'unhandled'
// means the room does not serve that namespace (service-unavailable).

import type { Element } from '@switchboard/xml';
import type { Jid } from '@switchboard/jid';
import { NS_MAM, type StanzaError } from '@switchboard/protocol';
import type { MessageArchive } from '../storage/archive.ts';
import type { Room } from './room.ts';
import { roomArchiveMetadata, roomArchiveQuery } from './xep0313-room.ts';

export async function roomExtensions(room: Room, stanza: Element, payload: Element, from: Jid, archive: MessageArchive): Promise<Element | StanzaError | undefined | 'unhandled'> {
  if (payload.attrs.xmlns === NS_MAM && payload.name === 'query') return roomArchiveQuery(room, stanza, payload, from, archive);
  if (payload.attrs.xmlns === NS_MAM && payload.name === 'metadata') return roomArchiveMetadata(room, stanza, from, archive);
  return 'unhandled';
}
