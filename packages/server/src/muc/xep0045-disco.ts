// XEP-0045 §6: discovering the service (§6.1), its public rooms (§6.3), a
// room's features with the muc#roominfo form (§6.4, XEP-0128), and a room's
// items (§6.5: none are listed, which keeps occupants private).

import { xml, type Element } from '@switchboard/xml';
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING } from '@switchboard/protocol';
import type { Room } from './room.ts';
import { NS_COMMANDS, NS_CONFERENCE, NS_DATA, NS_HATS, NS_MUC, NS_MUC_ROOMINFO, NS_MUC_REQUEST, NS_OCCUPANT_ID, NS_SELF_PING } from './types.ts';

export const NS_MAM = 'urn:xmpp:mam:2';

export function serviceInfo(name: string): Element {
  return xml(
    'query',
    { xmlns: NS_DISCO_INFO },
    xml('identity', { category: 'conference', type: 'text', name }),
    [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_CONFERENCE, NS_OCCUPANT_ID, NS_PING].map((v) => xml('feature', { var: v })),
  );
}

export function roomInfo(room: Room, node?: string): Element {
  const c = room.config;
  const features = [
    NS_MUC,
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
    c.public ? 'muc_public' : 'muc_hidden',
    c.persistent ? 'muc_persistent' : 'muc_temporary',
    c.membersOnly ? 'muc_membersonly' : 'muc_open',
    c.moderated ? 'muc_moderated' : 'muc_unmoderated',
    c.whois === 'anyone' ? 'muc_nonanonymous' : 'muc_semianonymous',
    c.password !== '' ? 'muc_passwordprotected' : 'muc_unsecured',
    NS_OCCUPANT_ID,
    NS_SELF_PING,
    NS_MUC_REQUEST,
    NS_MAM,
    NS_PING,
    // §7.10 registration, XEP-0486 room vCard, XEP-0317 hats and the XEP-0050 commands that manage them.
    'jabber:iq:register',
    'vcard-temp',
    NS_HATS,
    NS_COMMANDS,
  ];
  const field = (v: string, value: string | undefined, label: string): Element | false => value !== undefined && xml('field', { var: v, label }, xml('value', {}, value));
  const form = xml(
    'x',
    { xmlns: NS_DATA, type: 'result' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MUC_ROOMINFO)),
    field('muc#roominfo_description', c.description, 'Description'),
    field('muc#roominfo_occupants', String(room.occupants.size), 'Number of occupants'),
    field('muc#roominfo_subject', room.subject?.text ?? '', 'Subject'),
    field('muc#roominfo_subjectmod', c.changeSubject ? '1' : '0', 'Occupants may change the subject'),
    field('muc#roominfo_lang', c.language || undefined, 'Language of discussion'),
    field('muc#maxhistoryfetch', String(c.historyLength), 'Maximum number of history messages returned by room'),
    field('muc#roomconfig_allowinvites', c.allowInvites ? '1' : '0', 'Occupants may invite others'),
    field('muc#roomconfig_allowpm', c.allowPm, 'Who may send private messages'),
    // XEP-0486 §3.3: present only when the room has an avatar.
    room.avatarHashes.length > 0 && xml('field', { var: 'muc#roominfo_avatarhash', type: 'text-multi', label: 'Avatar hash' }, room.avatarHashes.map((h) => xml('value', {}, h))),
  );
  return xml(
    'query',
    { xmlns: NS_DISCO_INFO, node },
    xml('identity', { category: 'conference', type: 'text', name: c.name || room.jid.slice(0, room.jid.indexOf('@')) }),
    features.map((v) => xml('feature', { var: v })),
    form,
  );
}

export function itemsQuery(items: { jid: string; name?: string }[]): Element {
  return xml('query', { xmlns: NS_DISCO_ITEMS }, items.map((i) => xml('item', { jid: i.jid, name: i.name || undefined })));
}
