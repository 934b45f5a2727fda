// XEP-0486 MUC avatars: a vcard-temp (XEP-0054) on the room's bare JID, set
// by its owners (§3.2) and read by anyone (§3.4). Its avatar's XEP-0153 hash
// (SHA-1 of each PHOTO's BINVAL) is advertised in disco#info as
// muc#roominfo_avatarhash (§3.3) and, as Prosody's mod_vcard_muc does (the
// XEP's §5.2 "previous usage"), in a presence from the room's bare JID with
// vcard-temp:x:update, sent to each session as it enters and to everyone
// when it changes, together with a status 104 message (configuration changed).

import { createHash } from 'node:crypto';
import { parseElement, xml, type Element } from '@switchboard/xml';
import { stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Room } from './room.ts';
import { NS_MUC_USER, STATUS } from './types.ts';

export const NS_VCARD = 'vcard-temp';
export const NS_VCARD_UPDATE = 'vcard-temp:x:update';
/** A room's vCard is kept with the room (in memory and in its document): bounded. */
export const MAX_VCARD_CHARS = 128 * 1024;

/** §3.4: the room's vCard, or an empty one. */
export function vcardGet(room: Room): Element {
  if (room.vcard !== undefined) {
    const parsed = parseElement(room.vcard);
    if (!('condition' in parsed)) return parsed;
  }
  return xml('vCard', { xmlns: NS_VCARD });
}

/** §3.2: an owner sets the vCard (an empty one removes the avatar); everyone present learns of the change. */
export async function vcardSet(room: Room, vcard: Element, actorBare: string): Promise<StanzaError | undefined> {
  if (room.affiliation(actorBare) !== 'owner') return stanzaError('forbidden', { type: 'auth', text: 'only owners may set the room’s vCard' });
  const text = vcard.getChildren().length === 0 ? undefined : xml('vCard', { xmlns: NS_VCARD }, vcard.getChildren()).toString();
  if (text !== undefined && text.length > MAX_VCARD_CHARS) return stanzaError('not-acceptable', { text: `a room's vCard is at most ${MAX_VCARD_CHARS} characters` });
  const before = room.avatarHashes.join(' ');
  restoreVcard(room, text);
  if (room.config.persistent) await room.host.save(room);
  const recipients = room.sessionJids();
  room.host.fanOut(xml('message', { type: 'groupchat', from: room.jid }, xml('x', { xmlns: NS_MUC_USER }, xml('status', { code: STATUS.configChanged }))), recipients);
  if (room.avatarHashes.join(' ') !== before) room.host.fanOut(avatarPresence(room), recipients);
  return undefined;
}

/** Sets the vCard text and its avatar hashes (when a room is loaded, and when an owner sets it). */
export function restoreVcard(room: Room, text: string | undefined): void {
  room.vcard = text;
  room.avatarHashes = text === undefined ? [] : photoHashes(text);
}

/** The room's presence with its avatar hash (XEP-0153 §4.1; an empty <photo/> when there is none). */
export function avatarPresence(room: Room): Element {
  const hash = room.avatarHashes[0];
  return xml('presence', { from: room.jid }, xml('x', { xmlns: NS_VCARD_UPDATE }, xml('photo', {}, hash)));
}

function photoHashes(text: string): string[] {
  const parsed = parseElement(text);
  if ('condition' in parsed) return [];
  const hashes: string[] = [];
  for (const photo of parsed.getChildren('PHOTO')) {
    const binval = photo.getChildText('BINVAL');
    if (!binval) continue;
    hashes.push(createHash('sha1').update(Buffer.from(binval.replace(/\s+/g, ''), 'base64')).digest('hex'));
  }
  return hashes;
}
