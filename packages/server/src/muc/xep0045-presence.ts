// XEP-0045 §7.1–7.3 and §7.6: entering a room, the presence occupants see of
// each other, changing availability or nick, and leaving. Errors follow §7.2
// (and §18): the joiner gets them as a presence error from room@service/nick.

import { Element, xml } from '@switchboard/xml';
import type { Jid } from '@switchboard/jid';
import { stanzaError, type StanzaError } from '@switchboard/protocol';
import { readHistoryRequest } from './history.ts';
import { Occupant, type Room } from './room.ts';
import { NS_MUC, STATUS, type Role } from './types.ts';
import { avatarPresence } from './xep0486-avatar.ts';

/** Presence from a user's full JID to room@service/nick: enter, update, nick change or leave. */
export function presenceToRoom(room: Room, stanza: Element, from: Jid, nick: string): StanzaError | undefined {
  const realJid = from.toString();
  const type = stanza.attrs.type;
  const current = room.byRealJid.get(realJid);
  if (type === 'unavailable') {
    if (current) leave(room, current, realJid, stanza);
    return undefined;
  }
  if (type === 'error') {
    // The user's server could not deliver to that session: it is gone (§18 leaves the rest to the service).
    if (current) leave(room, current, realJid, undefined);
    return undefined;
  }
  if (type !== undefined) return undefined; // subscription types mean nothing to a room
  if (!current) return enter(room, stanza, from, nick);
  if (current.nick !== nick) return changeNick(room, current, realJid, stanza, nick);
  // §7.7: a change of availability, broadcast to everyone.
  current.sessions.set(realJid, stripped(stanza));
  current.primary = realJid;
  broadcastPresence(room, current);
  return undefined;
}

/** The user's own presence without what is the room's to write. */
function stripped(stanza: Element): Element {
  const attrs = stanza.withAttrs({ to: undefined, from: undefined, id: undefined }).attrs;
  return new Element(stanza.name, attrs, stanza.children.filter((c) => typeof c !== 'string' && c.attrs.xmlns !== NS_MUC));
}

function validNick(room: Room, nick: string): StanzaError | undefined {
  // A nick is a JID resource, already prepared when `to` was parsed; here only the service's bound applies.
  if (nick.length === 0) return stanzaError('jid-malformed', { text: 'a nickname is required' });
  if ([...nick].length > room.host.limits.maxNickLength) return stanzaError('not-acceptable', { text: `nicknames are at most ${room.host.limits.maxNickLength} characters` });
  return undefined;
}

/** §7.2: the checks, in the order §7.2.6–7.2.11 gives them, then the entry itself. */
function enter(room: Room, stanza: Element, from: Jid, asked: string): StanzaError | undefined {
  const bare = from.bare().toString();
  const realJid = from.toString();
  const affiliation = room.affiliation(bare);
  // §7.10: a user who reserved a nick enters under it, whatever it asked for; status 210 tells it (§15.6).
  const reserved = room.reservedNick(bare);
  const nick = reserved ?? asked;
  const assigned = nick !== asked;
  const bad = validNick(room, nick);
  if (bad) return bad;
  // §10.1.1: a locked room exists only for its owner.
  if (room.locked && affiliation !== 'owner') return stanzaError('item-not-found', { text: 'the room is being configured' });
  const x = stanza.getChild('x', NS_MUC);
  const isAdmin = affiliation === 'owner' || affiliation === 'admin';
  // §7.2.6
  if (room.config.password !== '' && !isAdmin && x?.getChildText('password') !== room.config.password) return stanzaError('not-authorized', { type: 'auth', text: 'a password is required' });
  // §7.2.7
  if (room.config.membersOnly && affiliation === 'none') return stanzaError('registration-required', { type: 'auth' });
  // §7.2.8
  if (affiliation === 'outcast') return stanzaError('forbidden', { type: 'auth' });
  // §7.2.9: the nick is another user's, in the room or reserved (§7.10).
  const holder = room.occupants.get(nick);
  if (holder && holder.bareJid !== bare) return stanzaError('conflict', { type: 'cancel' });
  const reservedBy = room.nickOwner(nick);
  if (reservedBy !== undefined && reservedBy !== bare) return stanzaError('conflict', { type: 'cancel', text: 'that nickname is reserved' });
  // §7.2.10: admins and owners enter a full room (§7.2.10 allows it).
  const limit = Math.min(room.config.maxUsers || Infinity, room.host.limits.maxOccupants);
  if (!holder && room.occupants.size >= limit && !isAdmin) return stanzaError('service-unavailable', { type: 'wait', text: 'the room is full' });

  const history = readHistoryRequest(x?.getChild('history'));
  if (holder) {
    // One user, several sessions, one nick (as Prosody 0.12): the new session joins the occupant.
    holder.sessions.set(realJid, stripped(stanza));
    holder.primary = realJid;
    room.byRealJid.set(realJid, holder);
    sendRoster(room, holder, realJid);
    broadcastPresence(room, holder, [realJid]);
    sendSelf(room, holder, realJid, false, assigned);
  } else {
    const role: Role = room.defaultRole(affiliation);
    const occupant = new Occupant(nick, bare, realJid, stripped(stanza), role, room.occupantId(bare), room.host.limits);
    const created = pendingCreation.has(room);
    pendingCreation.delete(room);
    room.occupants.set(nick, occupant);
    room.byRealJid.set(realJid, occupant);
    sendRoster(room, occupant, realJid);
    // The others learn of the newcomer.
    for (const [jid, other] of room.sessions()) {
      if (other !== occupant) room.host.send(room.presenceOf(occupant, other, jid));
    }
    sendSelf(room, occupant, realJid, created, assigned);
  }
  // XEP-0486 §5.2 (as Prosody's mod_vcard_muc): the room's avatar hash, from its bare JID.
  if (room.avatarHashes.length > 0) room.host.send(avatarPresence(room).withAttrs({ to: realJid }));
  // §7.2.15–16: history, then the subject (always, empty when none).
  for (const message of room.history.select(history, room.jid)) room.host.send(message.withAttrs({ to: realJid }));
  const subject = room.subject;
  room.host.send(xml('message', { type: 'groupchat', from: subject?.from ?? room.jid, to: realJid, id: `subject-${Date.now().toString(36)}` }, xml('subject', {}, subject?.text || undefined)));
  return undefined;
}

/** Rooms the service just created, whose first presence gets status 201. */
export const pendingCreation = new WeakSet<Room>();

/** §7.2.3: the presence of every other occupant, to one new session. */
function sendRoster(room: Room, viewer: Occupant, to: string): void {
  for (const other of room.occupants.values()) if (other !== viewer) room.host.send(room.presenceOf(other, viewer, to));
}

/** §7.2.3 self-presence with 110, and 100/170/201/210 as they apply; the real JID is always shown to its owner. */
function sendSelf(room: Room, occupant: Occupant, to: string, created: boolean, assigned = false): void {
  const codes: string[] = [STATUS.self];
  if (room.config.whois === 'anyone') codes.push(STATUS.nonAnonymous);
  if (room.config.enableLogging) codes.push(STATUS.logging);
  if (created) codes.push(STATUS.created);
  if (assigned) codes.push(STATUS.nickModified);
  room.host.send(room.presenceOf(occupant, occupant, to, { codes, item: { jid: to } }));
}

/** The occupant's presence to every session (its own with 110), except `skip`. */
export function broadcastPresence(room: Room, occupant: Occupant, skip: readonly string[] = [], codes: readonly string[] = []): void {
  for (const [jid, viewer] of room.sessions()) {
    if (skip.includes(jid)) continue;
    const self = viewer === occupant;
    room.host.send(room.presenceOf(occupant, viewer, jid, { codes: self ? [...codes, STATUS.self] : codes, item: self ? { jid } : undefined }));
  }
}

/** §7.6: unavailable with 303 and the new nick, then available under it; the nick checks of §7.2.9. */
function changeNick(room: Room, occupant: Occupant, realJid: string, stanza: Element, nick: string): StanzaError | undefined {
  const bad = validNick(room, nick);
  if (bad) return bad;
  if (!room.config.allowNickChange && occupant.role !== 'moderator') return stanzaError('not-allowed');
  const holder = room.occupants.get(nick);
  if (holder && holder !== occupant) return stanzaError('conflict', { type: 'cancel' });
  const reservedBy = room.nickOwner(nick);
  if (reservedBy !== undefined && reservedBy !== occupant.bareJid) return stanzaError('conflict', { type: 'cancel', text: 'that nickname is reserved' });
  occupant.sessions.set(realJid, stripped(stanza));
  occupant.primary = realJid;
  for (const [jid, viewer] of room.sessions()) {
    const self = viewer === occupant;
    room.host.send(room.presenceOf(occupant, viewer, jid, { type: 'unavailable', codes: self ? [STATUS.newNick, STATUS.self] : [STATUS.newNick], item: { nick, role: occupant.role, ...(self ? { jid } : {}) } }));
  }
  room.occupants.delete(occupant.nick);
  occupant.nick = nick;
  room.occupants.set(nick, occupant);
  broadcastPresence(room, occupant);
  return undefined;
}

/** §7.14: one session leaves; the occupant goes when its last session does. */
export function leave(room: Room, occupant: Occupant, realJid: string, stanza: Element | undefined): void {
  occupant.sessions.delete(realJid);
  room.byRealJid.delete(realJid);
  const status = stanza?.getChild('status');
  const unavailable = room.presenceOf(occupant, occupant, realJid, { type: 'unavailable', codes: [STATUS.self], item: { jid: realJid } });
  if (status) unavailable.children.unshift(status);
  room.host.send(unavailable);
  if (occupant.sessions.size > 0) {
    // Another session of the user stays: the others see its presence now.
    occupant.primary = occupant.sessions.keys().next().value!;
    broadcastPresence(room, occupant);
    return;
  }
  room.occupants.delete(occupant.nick);
  for (const [jid, viewer] of room.sessions()) {
    const p = room.presenceOf(occupant, viewer, jid, { type: 'unavailable', realJid });
    if (status) p.children.unshift(status);
    room.host.send(p);
  }
  afterLeave(room);
}

/** Removes an occupant for the room's reasons (§8.2 kick 307, §9.1 ban 301, §9.4 members-only 321/322, shutdown 332). */
export function removeOccupant(room: Room, occupant: Occupant, codes: readonly string[], options: { actor?: string; reason?: string; extra?: Element[] } = {}): void {
  const extra = [
    ...(options.actor ? [xml('actor', { nick: options.actor })] : []),
    ...(options.reason ? [xml('reason', {}, options.reason)] : []),
  ];
  const itemChildren = extra;
  const sessions = [...occupant.sessions.keys()];
  for (const jid of sessions) {
    const p = room.presenceOf(occupant, occupant, jid, { type: 'unavailable', codes: [...codes, STATUS.self], item: { jid }, extra: options.extra });
    attachToItem(p, itemChildren);
    room.host.send(p);
    room.byRealJid.delete(jid);
  }
  occupant.sessions.clear();
  room.occupants.delete(occupant.nick);
  for (const [jid, viewer] of room.sessions()) {
    const p = room.presenceOf(occupant, viewer, jid, { type: 'unavailable', codes, realJid: sessions[0], extra: options.extra });
    attachToItem(p, itemChildren);
    room.host.send(p);
  }
}

function attachToItem(presence: Element, children: Element[]): void {
  if (children.length === 0) return;
  const item = presence.getChildren('x').at(-1)?.getChild('item');
  item?.children.push(...children);
}

/**
 * A temporary room goes when its last occupant does (§10.2
 * muc#roomconfig_persistentroom), and so does a room never configured; an
 * empty persistent room is unloaded (it is all in the store).
 */
export function afterLeave(room: Room): void {
  if (room.isEmpty) room.host.forget(room);
}
