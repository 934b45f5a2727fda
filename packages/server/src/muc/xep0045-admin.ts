// XEP-0045 §8 (moderator) and §9 (admin) item queries in muc#admin: roles by
// nick (kick §8.2, voice §8.3–8.5, moderator §9.6–9.7) and affiliations by
// JID (ban §9.1, members §9.3–9.5, admins §10.8–10.10, owners §10.5–10.7),
// with the lists each may read. Who may act on whom follows the tables of §5.

import { xml, type Element } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Occupant, Room } from './room.ts';
import { broadcastPresence, removeOccupant } from './xep0045-presence.ts';
import { AFFILIATIONS, AFFILIATION_RANK, NS_MUC_ADMIN, ROLES, STATUS, type Affiliation, type Role } from './types.ts';

/** iq get: the occupants with a role, or the JIDs with an affiliation. */
export function adminGet(room: Room, query: Element, actorJid: string): Element | StanzaError {
  const items = query.getChildren('item');
  if (items.length !== 1) return stanzaError('bad-request');
  const item = items[0]!;
  const actor = room.byRealJid.get(actorJid);
  const actorBare = actorJid.slice(0, actorJid.includes('/') ? actorJid.indexOf('/') : undefined);
  const actorAffiliation = room.affiliation(actorBare);
  const out = xml('query', { xmlns: NS_MUC_ADMIN });
  const role = item.attrs.role as Role | undefined;
  const affiliation = item.attrs.affiliation as Affiliation | undefined;
  if (role !== undefined) {
    if (!ROLES.includes(role) || role === 'none') return stanzaError('bad-request');
    if (actor?.role !== 'moderator') return stanzaError('forbidden', { type: 'auth' });
    for (const o of room.occupants.values()) {
      if (o.role === role) out.children.push(xml('item', { affiliation: room.affiliation(o.bareJid), role: o.role, nick: o.nick, jid: room.showsRealJids(actor) ? o.primary : undefined }));
    }
    return out;
  }
  if (affiliation === undefined || !AFFILIATIONS.includes(affiliation) || affiliation === 'none') return stanzaError('bad-request');
  const mayRead =
    AFFILIATION_RANK[actorAffiliation] >= AFFILIATION_RANK.admin ||
    (affiliation === 'member' && actor !== undefined && room.config.getMemberList.includes(actor.role));
  if (!mayRead) return stanzaError('forbidden', { type: 'auth' });
  for (const [jid, entry] of room.affiliations) {
    if (entry.affiliation !== affiliation) continue;
    const el = xml('item', { affiliation, jid, nick: entry.nick });
    if (entry.reason) el.children.push(xml('reason', {}, entry.reason));
    out.children.push(el);
  }
  return out;
}

/** iq set: each item a change; all are checked before any is made (§9.? "the service MUST apply all or none"). */
export async function adminSet(room: Room, query: Element, actorJid: string): Promise<StanzaError | undefined> {
  const items = query.getChildren('item');
  if (items.length === 0) return stanzaError('bad-request');
  const actor = room.byRealJid.get(actorJid);
  const actorBare = actorJid.slice(0, actorJid.includes('/') ? actorJid.indexOf('/') : undefined);
  const actorAffiliation = room.affiliation(actorBare);
  const changes: (() => void)[] = [];
  let affiliationsChanged = false;
  for (const item of items) {
    const reason = item.getChildText('reason');
    if (item.attrs.role !== undefined) {
      const change = roleChange(room, item, actor, actorAffiliation, reason);
      if (typeof change !== 'function') return change;
      changes.push(change);
    } else if (item.attrs.affiliation !== undefined) {
      const change = affiliationChange(room, item, actor, actorBare, actorAffiliation, reason);
      if (typeof change !== 'function') return change;
      changes.push(change);
      affiliationsChanged = true;
    } else {
      return stanzaError('bad-request');
    }
  }
  for (const change of changes) change();
  if (affiliationsChanged && room.config.persistent) await room.host.save(room);
  return undefined;
}

function roleChange(room: Room, item: Element, actor: Occupant | undefined, actorAffiliation: Affiliation, reason: string | undefined): (() => void) | StanzaError {
  const role = item.attrs.role as Role;
  const nick = item.attrs.nick;
  if (!ROLES.includes(role) || nick === undefined) return stanzaError('bad-request');
  if (actor?.role !== 'moderator') return stanzaError('forbidden', { type: 'auth' });
  const target = room.occupants.get(nick);
  if (!target) return stanzaError('item-not-found');
  const targetAffiliation = room.affiliation(target.bareJid);
  // §8.2 / §9.7: an admin or owner is not kicked, silenced or demoted by a moderator of lower or equal rank.
  if (role !== 'moderator' && AFFILIATION_RANK[targetAffiliation] >= AFFILIATION_RANK.admin && AFFILIATION_RANK[targetAffiliation] >= AFFILIATION_RANK[actorAffiliation]) return stanzaError('not-allowed');
  // §9.6: granting or revoking moderator is an admin's act.
  if ((role === 'moderator' || target.role === 'moderator') && AFFILIATION_RANK[actorAffiliation] < AFFILIATION_RANK.admin) return stanzaError('not-allowed');
  return () => {
    if (role === 'none') {
      removeOccupant(room, target, [STATUS.kicked], { actor: actor.nick, reason });
      return;
    }
    target.role = role;
    broadcastPresence(room, target, [], []);
  };
}

function affiliationChange(room: Room, item: Element, actor: Occupant | undefined, actorBare: string, actorAffiliation: Affiliation, reason: string | undefined): (() => void) | StanzaError {
  const affiliation = item.attrs.affiliation as Affiliation;
  if (!AFFILIATIONS.includes(affiliation)) return stanzaError('bad-request');
  let bare: string | undefined;
  if (item.attrs.jid !== undefined) {
    const parsed = parseJid(item.attrs.jid);
    if (!parsed.ok) return stanzaError('jid-malformed');
    bare = parsed.jid.bare().toString();
  } else if (item.attrs.nick !== undefined) {
    bare = room.occupants.get(item.attrs.nick)?.bareJid;
    if (bare === undefined) return stanzaError('item-not-found');
  } else {
    return stanzaError('bad-request');
  }
  const target = bare;
  const current = room.affiliation(target);
  // §9: admins manage members and outcasts of lower rank; §10: owners manage admins and owners.
  if (AFFILIATION_RANK[actorAffiliation] < AFFILIATION_RANK.admin) return stanzaError('forbidden', { type: 'auth' });
  const needsOwner = AFFILIATION_RANK[affiliation] >= AFFILIATION_RANK.admin || AFFILIATION_RANK[current] >= AFFILIATION_RANK.admin;
  if (needsOwner && actorAffiliation !== 'owner') return stanzaError('not-allowed');
  // §10.7: a room always keeps an owner.
  if (current === 'owner' && affiliation !== 'owner' && room.owners().length === 1) return stanzaError('conflict', { text: 'the room needs an owner' });
  void actorBare;
  return () => {
    room.setAffiliation(target, affiliation, reason);
    for (const occupant of [...room.occupants.values()]) {
      if (occupant.bareJid !== target) continue;
      if (affiliation === 'outcast') {
        removeOccupant(room, occupant, [STATUS.banned], { actor: actor?.nick, reason });
      } else if (affiliation === 'none' && room.config.membersOnly) {
        // §9.4: in a members-only room, losing membership is leaving.
        removeOccupant(room, occupant, [STATUS.affiliationChange], { actor: actor?.nick, reason });
      } else {
        // §9.3–9.8: the role follows the new affiliation.
        if (occupant.role !== 'moderator' || AFFILIATION_RANK[affiliation] < AFFILIATION_RANK.admin) occupant.role = room.defaultRole(affiliation);
        broadcastPresence(room, occupant);
      }
    }
  };
}

/** §9.? when a room becomes members-only, everyone without membership leaves with 322. */
export function enforceMembersOnly(room: Room): void {
  if (!room.config.membersOnly) return;
  for (const occupant of [...room.occupants.values()]) {
    if (room.affiliation(occupant.bareJid) === 'none') removeOccupant(room, occupant, [STATUS.membersOnly]);
  }
}
