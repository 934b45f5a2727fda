// XEP-0045 §7.10 registering with a room (jabber:iq:register with the
// muc#register form): the user reserves a nickname and becomes a member;
// nobody else may then enter or change to that nick (§7.2.9), and the user
// entering under another nick is given the reserved one (status 210, §7.2.9
// and §15.6). §7.12: the reserved nick is discovered with disco#info on the
// node x-roomuser-item. A registration is cancelled with <remove/>
// (XEP-0077 §3.2): the nick is released and a member becomes none.
// In a members-only room a user with no affiliation cannot make itself a
// member: its registration is a request for the owners and admins to
// approve (§9.9, xep0045-registration-requests.ts).

import { xml, type Element } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { NS_DISCO_INFO, stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Room } from './room.ts';
import { broadcastPresence, removeOccupant } from './xep0045-presence.ts';
import { AFFILIATION_RANK, NS_DATA, NS_MUC_REGISTER, STATUS } from './types.ts';
import { fieldValue, requestRegistration } from './xep0045-registration-requests.ts';

export const NS_REGISTER = 'jabber:iq:register';
/** §7.12 */
export const ROOMUSER_NODE = 'x-roomuser-item';

/** §7.10 get: the form, or <registered/> with the nick when the user has one. */
export function registerGet(room: Room, bare: string): Element | StanzaError {
  const refused = mayRegister(room, bare);
  if (refused) return refused;
  const nick = room.reservedNick(bare);
  if (nick !== undefined) return xml('query', { xmlns: NS_REGISTER }, xml('registered'), xml('username', {}, nick));
  const pending = room.registrationRequests.get(bare);
  const instructions = pending
    ? `Your request for "${pending.nick}" is waiting for an admin's approval; submitting again replaces it.`
    : room.config.membersOnly && room.affiliation(bare) === 'none'
      ? "Ask to become a member of this room with a nickname; the room's admins approve it."
      : 'Reserve a nickname in this room.';
  return xml(
    'query',
    { xmlns: NS_REGISTER },
    xml('instructions', {}, instructions),
    xml(
      'x',
      { xmlns: NS_DATA, type: 'form' },
      xml('title', {}, `Registration with ${room.config.name || room.jid}`),
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MUC_REGISTER)),
      xml('field', { var: 'muc#register_roomnick', type: 'text-single', label: 'Desired Nickname' }, xml('required')),
    ),
  );
}

/** §7.10 set: the submitted form reserves the nick (conflict when it is another's); <remove/> cancels. */
export async function registerSet(room: Room, query: Element, bare: string): Promise<StanzaError | undefined> {
  const refused = mayRegister(room, bare);
  if (refused) return refused;
  if (query.getChild('remove')) return unregister(room, bare);
  const form = query.getChild('x', NS_DATA);
  if (!form || form.attrs.type !== 'submit' || fieldValue(form, 'FORM_TYPE') !== NS_MUC_REGISTER) return stanzaError('bad-request', { text: 'submit the muc#register form' });
  const wanted = fieldValue(form, 'muc#register_roomnick') ?? '';
  // The nick is a resourcepart of the room's JID (RFC 7622), prepared as any occupant JID is.
  const parsed = parseJid(`${room.jid}/${wanted}`);
  if (wanted === '' || !parsed.ok || parsed.jid.resource === undefined) return stanzaError('not-acceptable', { text: 'not a valid nickname' });
  const nick = parsed.jid.resource;
  if ([...nick].length > room.host.limits.maxNickLength) return stanzaError('not-acceptable', { text: `nicknames are at most ${room.host.limits.maxNickLength} characters` });
  const owner = room.nickOwner(nick) ?? room.pendingNickOwner(nick);
  const inUse = room.occupants.get(nick);
  if ((owner !== undefined && owner !== bare) || (inUse !== undefined && inUse.bareJid !== bare)) return stanzaError('conflict', { text: 'that nickname is reserved, asked for or in use' });
  // §9.9: in a members-only room membership is the admins' to give.
  if (room.config.membersOnly && room.affiliation(bare) === 'none') return requestRegistration(room, bare, nick, form);
  const before = room.affiliation(bare);
  const entry = room.affiliations.get(bare);
  if (entry && AFFILIATION_RANK[entry.affiliation] >= AFFILIATION_RANK.member) entry.nick = nick;
  else room.affiliations.set(bare, { affiliation: 'member', nick });
  if (room.config.persistent) await room.host.save(room);
  // §9.3: an occupant who became a member is shown with the new affiliation (and role, in a moderated room).
  if (before !== room.affiliation(bare)) {
    for (const occupant of room.occupants.values()) {
      if (occupant.bareJid !== bare) continue;
      if (occupant.role === 'visitor') occupant.role = room.defaultRole('member');
      broadcastPresence(room, occupant);
    }
  }
  return undefined;
}

async function unregister(room: Room, bare: string): Promise<StanzaError | undefined> {
  // A request not yet answered is withdrawn.
  if (room.registrationRequests.delete(bare)) {
    if (room.config.persistent) await room.host.save(room);
    return undefined;
  }
  const entry = room.affiliations.get(bare);
  if (!entry || entry.nick === undefined) return stanzaError('item-not-found', { text: 'not registered' });
  delete entry.nick;
  const demoted = entry.affiliation === 'member';
  if (demoted) room.setAffiliation(bare, 'none');
  if (room.config.persistent) await room.host.save(room);
  if (!demoted) return undefined;
  for (const occupant of [...room.occupants.values()]) {
    if (occupant.bareJid !== bare) continue;
    // §9.4: in a members-only room, losing membership is leaving.
    if (room.config.membersOnly) removeOccupant(room, occupant, [STATUS.affiliationChange]);
    else broadcastPresence(room, occupant);
  }
  return undefined;
}

/** Outcasts may not register (§7.2.8). */
function mayRegister(room: Room, bare: string): StanzaError | undefined {
  if (room.affiliation(bare) === 'outcast') return stanzaError('forbidden', { type: 'auth' });
  return undefined;
}

/** §7.12: the reserved nick as an identity; none when the user has not registered. */
export function reservedNickInfo(room: Room, bare: string): Element {
  const nick = room.reservedNick(bare);
  return xml('query', { xmlns: NS_DISCO_INFO, node: ROOMUSER_NODE }, nick !== undefined && xml('identity', { category: 'conference', type: 'text', name: nick }));
}
