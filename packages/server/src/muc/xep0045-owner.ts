// XEP-0045 §10 (owner use cases) in muc#owner: the configuration form
// (§10.1.2 reserved rooms, §10.1.3 instant rooms, §10.2 later changes, with
// the status codes of §10.2.1 to occupants), and destroying a room (§10.9).

import { xml, type Element } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { isStanzaError, stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Room } from './room.ts';
import { configForm, readConfigSubmission } from './roomconfig-form.ts';
import { enforceMembersOnly } from './xep0045-admin.ts';
import { broadcastPresence } from './xep0045-presence.ts';
import { NS_DATA, NS_MUC_OWNER, NS_MUC_USER, STATUS } from './types.ts';

function isOwner(room: Room, actorBare: string): boolean {
  return room.affiliation(actorBare) === 'owner';
}

export function ownerGet(room: Room, actorBare: string): Element | StanzaError {
  if (!isOwner(room, actorBare)) return stanzaError('forbidden', { type: 'auth' });
  const admins = [...room.affiliations].filter(([, e]) => e.affiliation === 'admin').map(([j]) => j);
  return xml('query', { xmlns: NS_MUC_OWNER }, configForm(room.config, room.owners(), admins, room.host.limits.maxHistory));
}

export async function ownerSet(room: Room, query: Element, actorBare: string): Promise<StanzaError | undefined> {
  if (!isOwner(room, actorBare)) return stanzaError('forbidden', { type: 'auth' });
  const destroy = query.getChild('destroy');
  if (destroy) return destroyRoom(room, destroy);
  const form = query.getChild('x', NS_DATA);
  if (!form) return stanzaError('bad-request');
  if (form.attrs.type === 'cancel') {
    // §10.1.3: cancelling the first configuration destroys the room.
    if (room.locked) await destroyRoom(room, undefined);
    return undefined;
  }
  if (form.attrs.type !== 'submit') return stanzaError('bad-request');
  const submission = readConfigSubmission(form, room.host.limits.maxHistory);
  if (isStanzaError(submission)) return submission;
  if (submission.owners && submission.owners.length === 0) return stanzaError('conflict', { text: 'the room needs an owner' });
  const before = room.config;
  room.config = { ...before, ...submission.config };
  if (room.config.maxUsers > room.host.limits.maxOccupants) room.config.maxUsers = room.host.limits.maxOccupants;
  replaceList(room, 'owner', submission.owners);
  replaceList(room, 'admin', submission.admins);
  const wasLocked = room.locked;
  room.locked = false;
  try {
    if (room.config.persistent || before.persistent) await room.host.save(room);
  } catch (err) {
    console.error('switchboard: muc: saving a configuration', err);
    room.config = before;
    return stanzaError('internal-server-error', { text: 'the configuration could not be stored' });
  }
  if (!wasLocked) announceChanges(room, before);
  if (!before.membersOnly && room.config.membersOnly) enforceMembersOnly(room);
  // §10.2: a room made non-moderated gives everyone voice; a moderated one keeps roles as they are.
  if (before.moderated && !room.config.moderated) {
    for (const o of room.occupants.values()) {
      if (o.role === 'visitor') {
        o.role = 'participant';
        broadcastPresence(room, o);
      }
    }
  }
  if (!room.config.persistent && before.persistent && room.isEmpty) room.host.forget(room);
  return undefined;
}

function replaceList(room: Room, affiliation: 'owner' | 'admin', jids: string[] | undefined): void {
  if (!jids) return;
  for (const [jid, entry] of [...room.affiliations]) if (entry.affiliation === affiliation && !jids.includes(jid)) room.setAffiliation(jid, 'none');
  for (const jid of jids) room.setAffiliation(jid, affiliation);
}

/** §10.2.1: occupants learn of a change with 104, and of anonymity and logging changes with their own codes. */
function announceChanges(room: Room, before: Room['config']): void {
  const codes: string[] = [STATUS.configChanged];
  if (before.whois !== room.config.whois) codes.push(room.config.whois === 'anyone' ? STATUS.configNonAnonymous : STATUS.configSemiAnonymous);
  if (before.enableLogging !== room.config.enableLogging) codes.push(room.config.enableLogging ? STATUS.configLogging : STATUS.configNoLogging);
  const x = xml('x', { xmlns: NS_MUC_USER }, codes.map((code) => xml('status', { code })));
  for (const [jid] of room.sessions()) room.host.send(xml('message', { type: 'groupchat', from: room.jid, to: jid, id: `config-${Date.now().toString(36)}` }, x));
}

/** §10.9: every occupant leaves with the reason and the alternate venue; the room and its stored state are gone. */
export async function destroyRoom(room: Room, destroy: Element | undefined): Promise<StanzaError | undefined> {
  const venue = destroy?.attrs.jid;
  if (venue !== undefined && !parseJid(venue).ok) return stanzaError('jid-malformed');
  const reason = destroy?.getChildText('reason');
  const password = destroy?.getChildText('password');
  const info = xml('destroy', { jid: venue }, reason !== undefined && xml('reason', {}, reason), password !== undefined && xml('password', {}, password));
  for (const [jid, occupant] of room.sessions()) {
    const presence = xml('presence', { from: room.occupantJid(occupant.nick), to: jid, type: 'unavailable' }, xml('x', { xmlns: NS_MUC_USER }, xml('item', { affiliation: 'none', role: 'none' }), info, xml('status', { code: STATUS.self })));
    room.host.send(presence);
  }
  room.occupants.clear();
  room.byRealJid.clear();
  room.destroyed = true;
  room.host.forget(room);
  return undefined;
}
