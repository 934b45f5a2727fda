// A persistent room's stored document (MucStore.putRoom): configuration,
// affiliations, subject and the occupant-id salt. Occupants and roles are
// not stored: they last one visit (§5.1).

import type { Room, RoomHost, Subject } from './room.ts';
import { Room as RoomClass } from './room.ts';
import { restoreVcard } from './xep0486-avatar.ts';
import { DEFAULT_ROOM_CONFIG, type AffiliationEntry, type RoomConfig } from './types.ts';

interface RoomDocument {
  v: 1;
  config: RoomConfig;
  affiliations: [string, AffiliationEntry][];
  subject?: Subject;
  idSalt: string;
  /** The room's vCard (XEP-0486), when an owner set one. */
  vcard?: string;
}

export function roomDocument(room: Room): string {
  const doc: RoomDocument = { v: 1, config: room.config, affiliations: [...room.affiliations], idSalt: room.idSalt };
  if (room.subject) doc.subject = room.subject;
  if (room.vcard !== undefined) doc.vcard = room.vcard;
  return JSON.stringify(doc);
}

export function roomFromDocument(jid: string, host: RoomHost, text: string): Room {
  const doc = JSON.parse(text) as RoomDocument;
  const room = new RoomClass(jid, host, { ...DEFAULT_ROOM_CONFIG, ...doc.config });
  for (const [bare, entry] of doc.affiliations) room.affiliations.set(bare, entry);
  if (doc.subject) room.subject = doc.subject;
  room.idSalt = doc.idSalt;
  if (doc.vcard !== undefined) restoreVcard(room, doc.vcard);
  return room;
}
