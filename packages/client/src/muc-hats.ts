// XEP-0317 Hats (0.3) on the client: the hats an occupant wears, read from
// its presence (`<hats xmlns='urn:xmpp:hats:0'><hat uri title hue/>`), and
// the XEP-0050 commands a room offers to manage them (FORM_TYPE
// urn:xmpp:hats:commands), each run in one step: execute with the form
// already filled in.

import { xml, type Element } from '@switchboard/xml';

export const NS_HATS = 'urn:xmpp:hats:0';
const NS_HATS_COMMANDS = 'urn:xmpp:hats:commands';
const NS_COMMANDS = 'http://jabber.org/protocol/commands';
const NS_DATA = 'jabber:x:data';

export interface Hat {
  /** Identifies the hat. */
  uri: string;
  /** What to show. */
  title: string;
  /** XEP-0392 hue angle in [0, 360), when the room gives one. */
  hue?: number;
}

/** Who wears which hat (urn:xmpp:hats:commands:list-assigned). */
export interface HatAssignment extends Hat {
  /** The wearer's bare JID. */
  jid: string;
}

export type HatCommand = 'list' | 'list-assigned' | 'create' | 'destroy' | 'assign' | 'unassign';

function readHue(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const hue = Number(value);
  return Number.isFinite(hue) ? hue : undefined;
}

/** The hats in a presence from a room; empty when it carries none. */
export function readHats(presence: Element): Hat[] {
  const hats: Hat[] = [];
  for (const hat of presence.getChild('hats', NS_HATS)?.getChildren('hat') ?? []) {
    const uri = hat.attrs.uri;
    if (!uri) continue;
    const entry: Hat = { uri, title: hat.attrs.title ?? uri };
    const hue = readHue(hat.attrs.hue);
    if (hue !== undefined) entry.hue = hue;
    hats.push(entry);
  }
  return hats;
}

/** The iq set running `command` on `room`, with `fields` submitted (none for the lists). */
export function hatCommandRequest(room: string, id: string, command: HatCommand, fields?: Record<string, string>): Element {
  const form =
    fields &&
    xml(
      'x',
      { xmlns: NS_DATA, type: 'submit' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_HATS_COMMANDS)),
      Object.entries(fields).map(([name, value]) => xml('field', { var: name }, xml('value', {}, value))),
    );
  return xml('iq', { type: 'set', to: room, id }, xml('command', { xmlns: NS_COMMANDS, node: `urn:xmpp:hats:commands:${command}`, action: 'execute' }, form));
}

/** The rows of a command's result form, each as field → value. */
function resultRows(result: Element): Map<string, string>[] {
  const form = result.getChild('command', NS_COMMANDS)?.getChild('x', NS_DATA);
  return (form?.getChildren('item') ?? []).map((item) => new Map(item.getChildren('field').map((f) => [f.attrs.var ?? '', f.getChildText('value') ?? ''])));
}

export function readHatList(result: Element): Hat[] {
  return resultRows(result).map((row) => {
    const hat: Hat = { uri: row.get('hats#uri') ?? '', title: row.get('hats#title') ?? '' };
    const hue = readHue(row.get('hats#hue'));
    if (hue !== undefined) hat.hue = hue;
    return hat;
  });
}

export function readAssignments(result: Element): HatAssignment[] {
  return resultRows(result).map((row) => {
    const uri = row.get('hats#uri') ?? '';
    const assignment: HatAssignment = { jid: row.get('hats#jid') ?? '', uri, title: row.get('hats#title') ?? uri };
    const hue = readHue(row.get('hats#hue'));
    if (hue !== undefined) assignment.hue = hue;
    return assignment;
  });
}
