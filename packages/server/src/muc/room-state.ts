// A persistent room's stored document (MucStore.putRoom): configuration,
// affiliations, subject, the occupant-id salt, §9.9 registration requests
// and XEP-0317 hats. Occupants and roles are
// not stored: they last one visit (§5.1).

import type { HatDefinition, RegistrationRequest, Room, RoomHost, Subject } from './room.ts';
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
  /** §9.9 requests awaiting approval, by bare JID. */
  registrationRequests?: [string, RegistrationRequest][];
  /** XEP-0317: the hats defined (by URI) and worn (by bare JID). */
  hats?: [string, HatDefinition][];
  hatsWorn?: [string, string[]][];
}

export function roomDocument(room: Room): string {
  const doc: RoomDocument = { v: 1, config: room.config, affiliations: [...room.affiliations], idSalt: room.idSalt };
  if (room.subject) doc.subject = room.subject;
  if (room.vcard !== undefined) doc.vcard = room.vcard;
  if (room.registrationRequests.size > 0) doc.registrationRequests = [...room.registrationRequests];
  if (room.hats.size > 0) doc.hats = [...room.hats];
  if (room.hatsWorn.size > 0) doc.hatsWorn = [...room.hatsWorn];
  return JSON.stringify(doc);
}

export function roomFromDocument(jid: string, host: RoomHost, text: string): Room {
  const doc = JSON.parse(text) as RoomDocument;
  const room = new RoomClass(jid, host, { ...DEFAULT_ROOM_CONFIG, ...doc.config });
  for (const [bare, entry] of doc.affiliations) room.affiliations.set(bare, entry);
  if (doc.subject) room.subject = doc.subject;
  room.idSalt = doc.idSalt;
  if (doc.vcard !== undefined) restoreVcard(room, doc.vcard);
  for (const [bare, request] of doc.registrationRequests ?? []) room.registrationRequests.set(bare, request);
  for (const [uri, hat] of doc.hats ?? []) room.hats.set(uri, hat);
  for (const [bare, uris] of doc.hatsWorn ?? []) room.hatsWorn.set(bare, uris);
  return room;
}
