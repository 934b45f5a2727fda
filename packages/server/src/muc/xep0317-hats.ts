// XEP-0317 Hats 0.3 on a room: the hats it defines (URI, title, XEP-0392
// hue) and who wears which (by bare JID, as Prosody keeps them with the
// affiliation data); room.ts writes them into occupant presence as
// <hats xmlns='urn:xmpp:hats:0'><hat uri title hue/></hats>. They are managed
// with XEP-0050 commands on the room JID, FORM_TYPE urn:xmpp:hats:commands:
//
//   urn:xmpp:hats:commands:list           the hats defined (result form: hats#title, hats#uri, hats#hue)
//   urn:xmpp:hats:commands:list-assigned  who wears what (hats#jid, hats#uri, hats#title, hats#hue)
//   urn:xmpp:hats:commands:create         define or retitle one (hats#title, hats#uri, hats#hue)
//   urn:xmpp:hats:commands:destroy        remove one, from everyone wearing it (hats#uri)
//   urn:xmpp:hats:commands:assign         put one on a user (hats#jid, hats#uri)
//   urn:xmpp:hats:commands:unassign       take it off (hats#jid, hats#uri)
//
// 0.2's don/doff (accountjid, hat) are read as assign/unassign. Owners and
// admins run them all; anyone not banned may list the hats defined (only
// members, in a members-only room). Every
// change is shown at once: each occupant wearing a changed hat is broadcast
// again. Commands are one step (execute → the form, or execute/complete
// with the form → done), so the room keeps no command sessions.

import { randomBytes } from 'node:crypto';
import { xml, type Element } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Room } from './room.ts';
import { broadcastPresence } from './xep0045-presence.ts';
import { AFFILIATION_RANK, NS_COMMANDS, NS_DATA, NS_HATS_COMMANDS } from './types.ts';

/** Hats one room defines at most, and hats one user wears at most. */
export const MAX_HATS = 100;
export const MAX_HATS_WORN = 20;
/** Users wearing hats in one room at most. */
export const MAX_HAT_WEARERS = 10_000;
const MAX_TITLE = 128;
const MAX_URI = 512;

const NODE = 'urn:xmpp:hats:commands:';
type Command = 'list' | 'list-assigned' | 'create' | 'destroy' | 'assign' | 'unassign';
const COMMANDS: Record<Command, string> = {
  list: 'List hats',
  'list-assigned': 'List assigned hats',
  create: 'Create a hat',
  destroy: 'Destroy a hat',
  assign: 'Assign a hat',
  unassign: 'Unassign a hat',
};
/** XEP-0317 0.2 names of the same commands. */
const LEGACY: Record<string, Command> = { don: 'assign', doff: 'unassign' };

const badPayload = (text: string): StanzaError => stanzaError('bad-request', { text, application: xml('bad-payload', { xmlns: NS_COMMANDS }) });

function commandOf(node: string | undefined): Command | undefined {
  if (node === undefined || !node.startsWith(NODE)) return undefined;
  const name = node.slice(NODE.length);
  if (name in COMMANDS) return name as Command;
  return LEGACY[name];
}

function mayRun(room: Room, command: Command, bare: string): boolean {
  const affiliation = room.affiliation(bare);
  // The hats defined are as public as the room: in a members-only room, for its members.
  if (command === 'list') return affiliation !== 'outcast' && (!room.config.membersOnly || AFFILIATION_RANK[affiliation] >= AFFILIATION_RANK.member);
  return AFFILIATION_RANK[affiliation] >= AFFILIATION_RANK.admin;
}

/** XEP-0050 §2.2: the commands `bare` may run, for disco#items of the commands node on the room. */
export function hatCommandItems(room: Room, bare: string): Element[] {
  return (Object.keys(COMMANDS) as Command[]).filter((c) => mayRun(room, c, bare)).map((c) => xml('item', { jid: room.jid, node: NODE + c, name: COMMANDS[c] }));
}

/** XEP-0050 §2.3: disco#info of one command node, or undefined when it is not one `bare` may run. */
export function hatCommandInfo(room: Room, node: string, bare: string): Element | undefined {
  const command = commandOf(node);
  if (!command || !mayRun(room, command, bare)) return undefined;
  return xml(
    'query',
    { xmlns: 'http://jabber.org/protocol/disco#info', node },
    xml('identity', { category: 'automation', type: 'command-node', name: COMMANDS[command] }),
    xml('feature', { var: NS_COMMANDS }),
    xml('feature', { var: NS_DATA }),
  );
}

/** An iq set with <command/> to the room: the answer's <command/>, or the error. */
export async function hatCommand(room: Room, command: Element, bare: string): Promise<Element | StanzaError> {
  const name = commandOf(command.attrs.node);
  if (!name) return stanzaError('item-not-found', { text: 'no such command' });
  if (!mayRun(room, name, bare)) return stanzaError('forbidden', { type: 'auth', text: 'only owners and admins manage hats' });
  const node = command.attrs.node!;
  const sessionid = command.attrs.sessionid ?? randomBytes(8).toString('hex');
  const action = command.attrs.action ?? 'execute';
  const reply = (status: 'executing' | 'completed' | 'canceled', ...children: (Element | false)[]): Element => xml('command', { xmlns: NS_COMMANDS, node, sessionid, status }, ...children);
  if (action === 'cancel') return reply('canceled');
  if (action !== 'execute' && action !== 'complete') return stanzaError('bad-request', { application: xml('bad-action', { xmlns: NS_COMMANDS }) });
  if (name === 'list') return reply('completed', listForm(room));
  if (name === 'list-assigned') return reply('completed', assignedForm(room));
  const form = command.getChild('x', NS_DATA);
  if (!form || form.attrs.type !== 'submit') {
    if (action === 'complete') return badPayload('submit the form');
    return reply('executing', xml('actions', { execute: 'complete' }, xml('complete')), commandForm(room, name));
  }
  const values = readFields(form);
  const outcome = name === 'create' ? createHat(room, values) : name === 'destroy' ? destroyHat(room, values) : name === 'assign' ? assignHat(room, values) : unassignHat(room, values);
  if (typeof outcome !== 'string') return outcome;
  if (room.config.persistent) await room.host.save(room);
  return reply('completed', xml('note', { type: 'info' }, outcome));
}

function readFields(form: Element): Map<string, string> {
  const values = new Map<string, string>();
  for (const field of form.getChildren('field')) {
    const value = field.getChildText('value');
    if (field.attrs.var !== undefined && value !== undefined) values.set(field.attrs.var, value.trim());
  }
  // XEP-0317 0.2's field names.
  if (!values.has('hats#jid') && values.has('accountjid')) values.set('hats#jid', values.get('accountjid')!);
  if (!values.has('hats#uri') && values.has('hat')) values.set('hats#uri', values.get('hat')!);
  return values;
}

/** The room's hats as list-single options, for the forms that pick one. */
function hatOptions(room: Room): Element[] {
  return [...room.hats].map(([uri, hat]) => xml('option', { label: hat.title }, xml('value', {}, uri)));
}

function commandForm(room: Room, name: 'create' | 'destroy' | 'assign' | 'unassign'): Element {
  const field = (v: string, type: string, label: string, required: boolean, ...children: Element[]): Element => xml('field', { var: v, type, label }, required && xml('required'), ...children);
  const fields: Element[] = [];
  if (name === 'create') {
    fields.push(field('hats#title', 'text-single', 'Hat title', true), field('hats#uri', 'text-single', 'Hat URI (one is made when left empty)', false), field('hats#hue', 'text-single', 'Hue (0–360, XEP-0392)', false));
  } else {
    if (name !== 'destroy') fields.push(field('hats#jid', 'jid-single', 'User address', true));
    fields.push(field('hats#uri', 'list-single', 'The hat', true, ...hatOptions(room)));
  }
  const titles = { create: 'Creating a hat', destroy: 'Destroying a hat', assign: 'Assigning a hat', unassign: 'Unassigning a hat' };
  return xml('x', { xmlns: NS_DATA, type: 'form' }, xml('title', {}, titles[name]), xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_HATS_COMMANDS)), ...fields);
}

function resultForm(title: string, columns: [string, string][], rows: Record<string, string | undefined>[]): Element {
  return xml(
    'x',
    { xmlns: NS_DATA, type: 'result' },
    xml('title', {}, title),
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_HATS_COMMANDS)),
    xml('reported', {}, columns.map(([v, label]) => xml('field', { var: v, label }))),
    rows.map((row) => xml('item', {}, columns.filter(([v]) => row[v] !== undefined).map(([v]) => xml('field', { var: v }, xml('value', {}, row[v]!))))),
  );
}

function listForm(room: Room): Element {
  const rows = [...room.hats].map(([uri, hat]) => ({ 'hats#title': hat.title, 'hats#uri': uri, 'hats#hue': hat.hue }));
  return resultForm('Hats', [['hats#title', 'Hat title'], ['hats#uri', 'Hat URI'], ['hats#hue', 'Hue']], rows);
}

function assignedForm(room: Room): Element {
  const rows: Record<string, string | undefined>[] = [];
  for (const [jid, uris] of room.hatsWorn) for (const uri of uris) rows.push({ 'hats#jid': jid, 'hats#uri': uri, 'hats#title': room.hats.get(uri)?.title, 'hats#hue': room.hats.get(uri)?.hue });
  return resultForm('Assigned hats', [['hats#jid', 'User address'], ['hats#uri', 'Hat URI'], ['hats#title', 'Hat title'], ['hats#hue', 'Hue']], rows);
}

/** A hue as XEP-0392 angles: a number in [0, 360). */
function readHue(value: string | undefined): string | undefined | StanzaError {
  if (value === undefined || value === '') return undefined;
  const hue = Number(value);
  if (!Number.isFinite(hue) || hue < 0 || hue >= 360) return badPayload('hats#hue is an angle from 0 to 360');
  return String(hue);
}

function createHat(room: Room, values: Map<string, string>): string | StanzaError {
  const title = values.get('hats#title') ?? '';
  if (title === '' || [...title].length > MAX_TITLE) return badPayload(`hats#title is 1 to ${MAX_TITLE} characters`);
  const uri = values.get('hats#uri') || `urn:xmpp:hats:${room.jid}:${randomBytes(6).toString('hex')}`;
  if (uri.length > MAX_URI || /\s/.test(uri)) return badPayload('hats#uri is a URI');
  const hue = readHue(values.get('hats#hue'));
  if (typeof hue === 'object') return hue;
  if (!room.hats.has(uri) && room.hats.size >= MAX_HATS) return stanzaError('resource-constraint', { type: 'wait', text: `a room defines at most ${MAX_HATS} hats` });
  const edited = room.hats.has(uri);
  room.hats.set(uri, hue === undefined ? { title } : { title, hue });
  // A hat retitled or recoloured is shown anew on everyone wearing it.
  if (edited) showWearers(room, (worn) => worn.includes(uri));
  return `The hat ${uri} is ${edited ? 'updated' : 'created'}.`;
}

function destroyHat(room: Room, values: Map<string, string>): string | StanzaError {
  const uri = values.get('hats#uri') ?? '';
  if (!room.hats.delete(uri)) return stanzaError('item-not-found', { text: 'the room has no such hat' });
  const wearers: string[] = [];
  for (const [jid, worn] of room.hatsWorn) {
    if (!worn.includes(uri)) continue;
    wearers.push(jid);
    const left = worn.filter((u) => u !== uri);
    if (left.length === 0) room.hatsWorn.delete(jid);
    else room.hatsWorn.set(jid, left);
  }
  showWearers(room, (_worn, jid) => wearers.includes(jid));
  return `The hat ${uri} is destroyed.`;
}

function target(values: Map<string, string>): string | StanzaError {
  const parsed = parseJid(values.get('hats#jid') ?? '');
  if (!parsed.ok || parsed.jid.local === undefined) return stanzaError('jid-malformed', { text: 'hats#jid is a user address' });
  return parsed.jid.bare().toString();
}

function assignHat(room: Room, values: Map<string, string>): string | StanzaError {
  const jid = target(values);
  if (typeof jid !== 'string') return jid;
  if (room.affiliation(jid) === 'outcast') return stanzaError('not-allowed', { text: 'a banned user wears no hat' });
  const uri = values.get('hats#uri') ?? '';
  if (!room.hats.has(uri)) return stanzaError('item-not-found', { text: 'the room has no such hat: create it first' });
  const worn = room.hatsWorn.get(jid) ?? [];
  if (worn.includes(uri)) return `${jid} already wears ${uri}.`;
  if (worn.length >= MAX_HATS_WORN) return stanzaError('resource-constraint', { type: 'wait', text: `a user wears at most ${MAX_HATS_WORN} hats` });
  if (worn.length === 0 && room.hatsWorn.size >= MAX_HAT_WEARERS) return stanzaError('resource-constraint', { type: 'wait', text: 'too many users wear hats in this room' });
  room.hatsWorn.set(jid, [...worn, uri]);
  showWearers(room, (_worn, bare) => bare === jid);
  return `${jid} wears ${uri}.`;
}

function unassignHat(room: Room, values: Map<string, string>): string | StanzaError {
  const jid = target(values);
  if (typeof jid !== 'string') return jid;
  const uri = values.get('hats#uri') ?? '';
  const worn = room.hatsWorn.get(jid) ?? [];
  if (!worn.includes(uri)) return stanzaError('item-not-found', { text: 'that user does not wear that hat' });
  const left = worn.filter((u) => u !== uri);
  if (left.length === 0) room.hatsWorn.delete(jid);
  else room.hatsWorn.set(jid, left);
  showWearers(room, (_worn, bare) => bare === jid);
  return `${jid} no longer wears ${uri}.`;
}

/** Broadcasts again the presence of every occupant whose hats changed. */
function showWearers(room: Room, changed: (worn: readonly string[], bare: string) => boolean): void {
  for (const occupant of [...room.occupants.values()]) {
    if (changed(room.hatsWorn.get(occupant.bareJid) ?? [], occupant.bareJid)) broadcastPresence(room, occupant);
  }
}
