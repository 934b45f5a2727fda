// XEP-0045 messages: groupchat (§7.4), subject (§8.1), private messages
// (§7.5), mediated invitations and declines (§7.8.2), voice requests (§7.13),
// and answers to registration requests (§9.9).
// Each occupant is throttled (resource-constraint past its burst).

import { xml, type Element } from '@switchboard/xml';
import type { Jid } from '@switchboard/jid';
import { parseJid } from '@switchboard/jid';
import { NS_STANZA_ID, stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Occupant, Room } from './room.ts';
import { NS_DATA, NS_MUC_REGISTER, NS_MUC_REQUEST, NS_MUC_USER, NS_OCCUPANT_ID } from './types.ts';
import { registrationDecision } from './xep0045-registration-requests.ts';
import { broadcastPresence } from './xep0045-presence.ts';

const flooded = (): StanzaError => stanzaError('resource-constraint', { type: 'wait', text: 'too many messages; slow down' });

/** A message to the room's bare JID. */
export function messageToRoom(room: Room, stanza: Element, from: Jid): StanzaError | undefined {
  const realJid = from.toString();
  const occupant = room.byRealJid.get(realJid);
  const x = stanza.getChild('x', NS_MUC_USER);
  if (x && (x.getChild('invite') || x.getChild('decline'))) return invitation(room, stanza, from, occupant, x);
  const form = stanza.getChild('x', NS_DATA);
  if (form && formType(form) === NS_MUC_REQUEST) return voiceRequest(room, occupant, form);
  // §9.9: an owner's or admin's answer to a registration request (they need not be in the room).
  if (form && formType(form) === NS_MUC_REGISTER) return registrationDecision(room, from, form);
  if (stanza.attrs.type !== 'groupchat') return stanzaError('bad-request', { text: 'messages to a room are groupchat' });
  // §7.4 / §18: only occupants speak in a room.
  if (!occupant) return stanzaError('not-acceptable', { text: 'only occupants may send messages to the room' });
  if (!occupant.bucket.tryTake()) return flooded();
  const subject = stanza.getChild('subject');
  const body = stanza.getChild('body');
  if (subject && !body) return changeSubject(room, stanza, occupant, subject.text());
  // §7.4: a visitor has no voice in a moderated room.
  if (occupant.role === 'visitor') return stanzaError('forbidden', { type: 'auth', text: 'you have no voice in this room' });
  broadcastMessage(room, occupant, stanza);
  return undefined;
}

/** Sends one message from an occupant to every session in the room, keeps it in history and the archive. */
export function broadcastMessage(room: Room, occupant: Occupant, stanza: Element): void {
  const from = room.occupantJid(occupant.nick);
  // An occupant id or a stanza id by the room is the room's to write (XEP-0421 §4, XEP-0359 §3.1).
  const children = stanza.children.filter((c) => typeof c !== 'string' && c.attrs.xmlns !== NS_OCCUPANT_ID && !(c.attrs.xmlns === NS_STANZA_ID && c.attrs.by === room.jid)) as Element[];
  // XEP-0421: the occupant id goes with every message, so clients can tell one user from another.
  children.push(xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: occupant.occupantId }));
  const message = xml('message', { type: 'groupchat', from, id: stanza.attrs.id }, children);
  const langAttr = stanza.attrs['xml:lang'];
  if (langAttr !== undefined) message.attrs['xml:lang'] = langAttr;
  if (stanza.getChild('body') || stanza.getChild('subject')) room.history.add(message);
  room.host.archive?.(room, message, occupant.nick);
  // One stanza for all: the sm and each c2s get it once and stamp `to` per session.
  room.host.fanOut(message, room.sessionJids());
}

/** §8.1: moderators, or participants when the room allows it, set the subject. */
function changeSubject(room: Room, stanza: Element, occupant: Occupant, text: string): StanzaError | undefined {
  if (occupant.role !== 'moderator' && !(room.config.changeSubject && occupant.role === 'participant')) return stanzaError('forbidden', { type: 'auth', text: 'you may not change the subject' });
  if ([...text].length > room.host.limits.maxSubjectLength) return stanzaError('not-acceptable', { text: `the subject is at most ${room.host.limits.maxSubjectLength} characters` });
  const from = room.occupantJid(occupant.nick);
  room.subject = { text, from, stamp: new Date().toISOString() };
  const message = xml('message', { type: 'groupchat', from, id: stanza.attrs.id }, xml('subject', {}, text));
  room.host.fanOut(message, room.sessionJids());
  if (room.config.persistent) void room.host.save(room).catch((err: unknown) => console.error('switchboard: muc: saving the subject', err));
  return undefined;
}

/** §7.5: a message to room@service/nick from an occupant, to every session of that occupant. */
export function privateMessage(room: Room, stanza: Element, from: Jid, nick: string): StanzaError | undefined {
  const sender = room.byRealJid.get(from.toString());
  if (!sender) return stanzaError('not-acceptable', { text: 'only occupants may send private messages' });
  // §7.5: a groupchat to one occupant makes no sense.
  if (stanza.attrs.type === 'groupchat') return stanzaError('bad-request', { text: 'private messages are not groupchat' });
  const target = room.occupants.get(nick);
  if (!target) return stanzaError('item-not-found', { text: 'no such occupant' });
  const allow = room.config.allowPm;
  const mayPm = allow === 'anyone' || (allow === 'participants' && sender.role !== 'visitor') || (allow === 'moderators' && sender.role === 'moderator');
  if (!mayPm) return stanzaError('forbidden', { type: 'auth', text: 'private messages are not allowed in this room' });
  if (!sender.bucket.tryTake()) return flooded();
  const children = stanza.children.filter((c) => typeof c !== 'string' && c.attrs.xmlns !== NS_MUC_USER && c.attrs.xmlns !== NS_OCCUPANT_ID) as Element[];
  // §7.5: the <x/> marks it as a private message in a room, so the client does not treat it as a 1:1 chat.
  children.push(xml('x', { xmlns: NS_MUC_USER }), xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: sender.occupantId }));
  for (const jid of target.sessions.keys()) {
    room.host.send(xml('message', { type: stanza.attrs.type, from: room.occupantJid(sender.nick), to: jid, id: stanza.attrs.id }, children));
  }
  return undefined;
}

/** §7.8.2 invite (the room sends it on, adding the invitee as a member of a members-only room), §7.8.2 decline. */
function invitation(room: Room, stanza: Element, from: Jid, occupant: Occupant | undefined, x: Element): StanzaError | undefined {
  const decline = x.getChild('decline');
  if (decline) {
    const to = parseJid(decline.attrs.to ?? '');
    if (!to.ok) return stanzaError('jid-malformed');
    const reason = decline.getChild('reason');
    room.host.send(xml('message', { from: room.jid, to: to.jid.toString() }, xml('x', { xmlns: NS_MUC_USER }, xml('decline', { from: from.bare().toString() }, reason && xml('reason', {}, reason.text())))));
    return undefined;
  }
  if (!occupant) return stanzaError('not-acceptable', { text: 'only occupants may invite' });
  const bare = from.bare().toString();
  const affiliation = room.affiliation(bare);
  const privileged = affiliation === 'owner' || affiliation === 'admin';
  // §7.8.2: in a members-only room only those allowed may invite; elsewhere anyone in the room may.
  if (room.config.membersOnly && !privileged && !room.config.allowInvites) return stanzaError('forbidden', { type: 'auth', text: 'you may not invite to this room' });
  if (!occupant.bucket.tryTake()) return flooded();
  for (const invite of x.getChildren('invite')) {
    const to = parseJid(invite.attrs.to ?? '');
    if (!to.ok) return stanzaError('jid-malformed');
    const invitee = to.jid.bare().toString();
    if (room.config.membersOnly && room.affiliation(invitee) === 'none') {
      room.setAffiliation(invitee, 'member');
      if (room.config.persistent) void room.host.save(room).catch((err: unknown) => console.error('switchboard: muc: saving a membership', err));
    }
    const reason = invite.getChild('reason');
    room.host.send(
      xml(
        'message',
        { from: room.jid, to: to.jid.toString(), id: stanza.attrs.id },
        xml('x', { xmlns: NS_MUC_USER }, xml('invite', { from: bare }, reason && xml('reason', {}, reason.text())), room.config.password !== '' && xml('password', {}, room.config.password)),
        xml('body', {}, `${bare} invites you to the room ${room.jid}${reason ? ` (${reason.text()})` : ''}`),
      ),
    );
  }
  return undefined;
}

function formType(form: Element): string | undefined {
  return fieldValue(form, 'FORM_TYPE');
}

function fieldValue(form: Element, name: string): string | undefined {
  for (const field of form.getChildren('field')) if (field.attrs.var === name) return field.getChildText('value');
  return undefined;
}

/** §8.6: a moderator's answer to a voice request; approval makes the visitor a participant (§8.3's broadcast). */
function voiceDecision(room: Room, form: Element): StanzaError | undefined {
  const allow = fieldValue(form, 'muc#request_allow');
  if (allow !== 'true' && allow !== '1') return undefined; // denied: the visitor stays as it is
  const nick = fieldValue(form, 'muc#roomnick');
  const jid = fieldValue(form, 'muc#jid');
  const target = (nick !== undefined ? room.occupants.get(nick) : undefined) ?? (jid !== undefined ? room.byRealJid.get(jid) : undefined);
  if (!target) return stanzaError('item-not-found', { text: 'no such occupant' });
  if (target.role !== 'visitor') return undefined;
  target.role = 'participant';
  broadcastPresence(room, target);
  return undefined;
}

/** §7.13: a visitor asks for voice; the request goes to every moderator (§8.6 approval is an admin item set). */
function voiceRequest(room: Room, occupant: Occupant | undefined, form: Element): StanzaError | undefined {
  if (!occupant) return stanzaError('not-acceptable');
  // §8.6: the form submitted back by a moderator is the decision, not a request.
  if (form.attrs.type === 'submit' && occupant.role === 'moderator' && fieldValue(form, 'muc#request_allow') !== undefined) return voiceDecision(room, form);
  if (!room.config.voiceRequests) return stanzaError('forbidden', { type: 'auth', text: 'voice requests are off in this room' });
  if (occupant.role !== 'visitor') return undefined;
  if (!occupant.bucket.tryTake()) return flooded();
  void form;
  const request = xml(
    'x',
    { xmlns: NS_DATA, type: 'form' },
    xml('title', {}, 'Voice request'),
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MUC_REQUEST)),
    xml('field', { var: 'muc#role', type: 'list-single', label: 'Requested role' }, xml('value', {}, 'participant')),
    xml('field', { var: 'muc#jid', type: 'jid-single', label: 'User ID' }, xml('value', {}, occupant.primary)),
    xml('field', { var: 'muc#roomnick', type: 'text-single', label: 'Room Nickname' }, xml('value', {}, occupant.nick)),
    xml('field', { var: 'muc#request_allow', type: 'boolean', label: 'Grant voice to this person?' }, xml('value', {}, 'false')),
  );
  for (const [jid, viewer] of room.sessions()) {
    if (viewer.role === 'moderator') room.host.send(xml('message', { from: room.jid, to: jid }, request));
  }
  return undefined;
}
