// XEP-0050 ad-hoc commands from the page: the server decides who may run
// them (its `admins`), the page only asks. A form is submitted with the
// first request (XEP-0050 §3.4 allows it; the server runs the command at
// once), and the answer is read as its note and result form (XEP-0004).

import { xml, type Client, type Element } from '@switchboard/client';

export const NS_COMMANDS = 'http://jabber.org/protocol/commands';
export const NS_ADMIN = 'http://jabber.org/protocol/admin';
export const NS_SWITCHBOARD_ADMIN = 'urn:switchboard:admin:0';
const NS_DATA = 'jabber:x:data';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

export interface CommandResult {
  note?: { type: string; text: string };
  /** Single fields of the result form by var (values joined by a newline for text, kept as a list in `lists`). */
  fields: Map<string, string[]>;
  /** XEP-0004 §3.4 table rows, each a value per column var. */
  rows: Record<string, string>[];
}

/** The command nodes the server lists to this account (XEP-0050 §2.2): empty for a non-admin. */
export async function listCommands(client: Client, server: string): Promise<string[]> {
  const answer = await client.iq(xml('iq', { type: 'get', to: server }, xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS })));
  return (answer.getChild('query', NS_DISCO_ITEMS)?.getChildren('item') ?? []).flatMap((i) => (i.attrs.node ? [i.attrs.node] : []));
}

function fieldValues(field: Element): string[] {
  return field.getChildren('value').map((v) => v.text());
}

/** Runs `node` on `server`, submitting `fields` (FORM_TYPE added) when given. Rejects with the client's IqError when refused. */
export async function runCommand(client: Client, server: string, node: string, fields?: Record<string, string | string[]>): Promise<CommandResult> {
  const formType = node.slice(0, node.indexOf('#'));
  const form =
    fields &&
    xml(
      'x',
      { xmlns: NS_DATA, type: 'submit' },
      xml('field', { var: 'FORM_TYPE' }, xml('value', {}, formType)),
      Object.entries(fields).map(([name, v]) => xml('field', { var: name }, (Array.isArray(v) ? v : [v]).map((x) => xml('value', {}, x)))),
    );
  const answer = await client.iq(xml('iq', { type: 'set', to: server }, xml('command', { xmlns: NS_COMMANDS, node, action: 'execute' }, form)));
  const command = answer.getChild('command', NS_COMMANDS);
  const note = command?.getChild('note');
  const x = command?.getChild('x', NS_DATA);
  const result: CommandResult = { fields: new Map(), rows: [] };
  if (note) result.note = { type: note.attrs.type ?? 'info', text: note.text() };
  for (const field of x?.getChildren('field') ?? []) if (field.attrs.var) result.fields.set(field.attrs.var, fieldValues(field));
  for (const item of x?.getChildren('item') ?? []) {
    const row: Record<string, string> = {};
    for (const field of item.getChildren('field')) if (field.attrs.var) row[field.attrs.var] = fieldValues(field)[0] ?? '';
    result.rows.push(row);
  }
  return result;
}
