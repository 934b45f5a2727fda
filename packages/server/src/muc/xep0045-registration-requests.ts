// XEP-0045 §9.9 approving registration requests. In a members-only room a
// user without an affiliation may not make itself a member, so its §7.10
// registration becomes a request: the room keeps it and sends each owner and
// admin a <message/> carrying the muc#register form (type 'form', with
// muc#register_allow false), as §9.9's example does. An owner or admin
// answers by sending the form back to the room, submitted: allowed, the user
// becomes a member with the nick it asked for (§7.10's reservation); denied,
// the request is dropped. Either way the user is told with a message whose
// muc#register form (type 'result') carries the nick and muc#register_allow.
//
// §9.9's example form does not say who asks: we add a jid-single field
// `muc#jid`, as §8.6's voice request form has, so a decision names its user.
// A request reserves nothing yet, but two pending requests may not ask for
// the same nick (conflict), and the nick is checked again when approved.

import { xml, type Element } from '@switchboard/xml';
import { parseJid, type Jid } from '@switchboard/jid';
import { stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Room } from './room.ts';
import { broadcastPresence } from './xep0045-presence.ts';
import { AFFILIATION_RANK, NS_DATA, NS_MUC_REGISTER } from './types.ts';

/** Requests one room keeps at most; past it a new one gets resource-constraint. */
export const MAX_REGISTRATION_REQUESTS = 100;
/** A user replaces its request at most this often: each one is a message to every owner and admin. */
export const REQUEST_INTERVAL_MS = 60_000;

/** The muc#register fields a request may carry besides the nick (§15.5.1). */
const EXTRA_FIELDS: readonly [string, string, string][] = [
  ['muc#register_first', 'text-single', 'Given Name'],
  ['muc#register_last', 'text-single', 'Family Name'],
  ['muc#register_url', 'text-single', 'A Web Page'],
  ['muc#register_email', 'text-single', 'Email Address'],
  ['muc#register_faqentry', 'text-multi', 'FAQ Entry'],
];
const MAX_FIELD_LENGTH = 1024;

/** §7.10 in a members-only room, from a user with no affiliation: kept as a request, sent to owners and admins. */
export async function requestRegistration(room: Room, bare: string, nick: string, form: Element): Promise<StanzaError | undefined> {
  const earlier = room.registrationRequests.get(bare);
  if (!earlier && room.registrationRequests.size >= MAX_REGISTRATION_REQUESTS) {
    return stanzaError('resource-constraint', { type: 'wait', text: 'too many registration requests are waiting in this room' });
  }
  // The same request again is already with the admins; another one replaces it, but not in a flood.
  if (earlier?.nick === nick) return undefined;
  if (earlier && Date.now() - Date.parse(earlier.requestedAt) < REQUEST_INTERVAL_MS) {
    return stanzaError('resource-constraint', { type: 'wait', text: 'your request was just sent to the admins; wait before changing it' });
  }
  const fields: Record<string, string> = {};
  for (const [name] of EXTRA_FIELDS) {
    const value = fieldValue(form, name);
    if (value !== undefined && value !== '') fields[name] = [...value].slice(0, MAX_FIELD_LENGTH).join('');
  }
  room.registrationRequests.set(bare, { nick, fields, requestedAt: new Date().toISOString() });
  if (room.config.persistent) await room.host.save(room);
  const approval = approvalForm(room, bare);
  for (const [jid, entry] of room.affiliations) {
    if (AFFILIATION_RANK[entry.affiliation] < AFFILIATION_RANK.admin) continue;
    // To the bare JID: the admin's server delivers it to its sessions, or keeps it offline.
    room.host.send(xml('message', { from: room.jid, to: jid, id: `regreq-${Date.now().toString(36)}` }, xml('body', {}, `${bare} asks to register with ${room.jid} as "${room.registrationRequests.get(bare)!.nick}".`), approval));
  }
  return undefined;
}

/** The §9.9 form for `bare`'s request. */
export function approvalForm(room: Room, bare: string): Element {
  const request = room.registrationRequests.get(bare)!;
  return xml(
    'x',
    { xmlns: NS_DATA, type: 'form' },
    xml('title', {}, 'Registration request'),
    xml('instructions', {}, 'To approve this registration request, set "Allow this person to register with the room?" and submit. To skip it, cancel.'),
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MUC_REGISTER)),
    xml('field', { var: 'muc#jid', type: 'jid-single', label: 'Jabber ID' }, xml('value', {}, bare)),
    xml('field', { var: 'muc#register_roomnick', type: 'text-single', label: 'Desired Nickname' }, xml('value', {}, request.nick)),
    EXTRA_FIELDS.filter(([name]) => request.fields[name] !== undefined).map(([name, type, label]) => xml('field', { var: name, type, label }, xml('value', {}, request.fields[name]!))),
    xml('field', { var: 'muc#register_allow', type: 'boolean', label: 'Allow this person to register with the room?' }, xml('value', {}, '0')),
  );
}

/**
 * §9.9: the form an owner or admin sent back. 'cancel' skips it (the request
 * stays); a submitted form with muc#register_allow true grants membership and
 * the nick, false drops the request. Errors go to the one who answered.
 */
export function registrationDecision(room: Room, from: Jid, form: Element): StanzaError | undefined {
  if (form.attrs.type === 'cancel') return undefined;
  if (form.attrs.type !== 'submit') return stanzaError('bad-request', { text: 'submit the muc#register form' });
  const actor = room.affiliation(from.bare().toString());
  if (AFFILIATION_RANK[actor] < AFFILIATION_RANK.admin) return stanzaError('forbidden', { type: 'auth', text: 'only owners and admins approve registrations' });
  const parsed = parseJid(fieldValue(form, 'muc#jid') ?? '');
  if (!parsed.ok) return stanzaError('jid-malformed', { text: 'muc#jid names the user' });
  const bare = parsed.jid.bare().toString();
  const request = room.registrationRequests.get(bare);
  if (!request) return stanzaError('item-not-found', { text: 'no registration request from that user' });
  const allowValue = fieldValue(form, 'muc#register_allow');
  const allowed = allowValue === '1' || allowValue === 'true';
  room.registrationRequests.delete(bare);
  let refusal: StanzaError | undefined;
  if (allowed) {
    const holder = room.nickOwner(request.nick);
    const inUse = room.occupants.get(request.nick);
    if ((holder !== undefined && holder !== bare) || (inUse !== undefined && inUse.bareJid !== bare)) {
      refusal = stanzaError('conflict', { text: 'that nickname was reserved or taken since the request' });
    } else {
      const entry = room.affiliations.get(bare);
      if (entry && AFFILIATION_RANK[entry.affiliation] >= AFFILIATION_RANK.member) entry.nick = request.nick;
      else if (entry?.affiliation === 'outcast') refusal = stanzaError('forbidden', { type: 'auth', text: 'that user was banned since the request' });
      else room.affiliations.set(bare, { affiliation: 'member', nick: request.nick });
    }
  }
  const granted = allowed && refusal === undefined;
  tellRequester(room, bare, request.nick, granted);
  if (room.config.persistent) void room.host.save(room).catch((err: unknown) => console.error('switchboard: muc: saving a registration decision', err));
  // §9.3: should the user be in the room already (a member of old), the others see the membership.
  if (granted) for (const occupant of room.occupants.values()) if (occupant.bareJid === bare) broadcastPresence(room, occupant);
  return refusal;
}

/** The user learns the outcome: a message from the room, with the muc#register form as a result. */
function tellRequester(room: Room, bare: string, nick: string, granted: boolean): void {
  const result = xml(
    'x',
    { xmlns: NS_DATA, type: 'result' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MUC_REGISTER)),
    xml('field', { var: 'muc#register_roomnick' }, xml('value', {}, nick)),
    xml('field', { var: 'muc#register_allow' }, xml('value', {}, granted ? '1' : '0')),
  );
  const body = granted ? `Your registration with ${room.jid} as "${nick}" was approved: you are a member.` : `Your registration with ${room.jid} as "${nick}" was not approved.`;
  room.host.send(xml('message', { from: room.jid, to: bare, id: `regres-${Date.now().toString(36)}` }, xml('body', {}, body), result));
}

export function fieldValue(form: Element, name: string): string | undefined {
  for (const field of form.getChildren('field')) if (field.attrs.var === name) return field.getChildText('value');
  return undefined;
}
