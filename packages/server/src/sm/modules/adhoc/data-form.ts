// XEP-0004 data forms, as far as the XEP-0133 commands need them: forms to
// fill in, result forms, and the values of a submitted form.

import { xml, type Element } from '@switchboard/xml';

export const NS_DATA = 'jabber:x:data';

export type FieldType = 'hidden' | 'text-single' | 'text-private' | 'text-multi' | 'jid-single' | 'jid-multi' | 'list-single' | 'boolean' | 'fixed';

export interface Field {
  var: string;
  type: FieldType;
  label?: string;
  required?: boolean;
  values?: readonly string[];
}

const field = (f: Field): Element =>
  xml('field', { var: f.var, type: f.type, label: f.label }, f.required && xml('required'), (f.values ?? []).map((v) => xml('value', {}, v)));

/** A table in a result form (XEP-0004 §3.4): the columns, then one row per item, each a value per column. */
export interface ReportedTable {
  columns: readonly Field[];
  rows: readonly Readonly<Record<string, string>>[];
}

/** `<x type='form'|'result'>` with a title, instructions, fields and optionally a table (XEP-0004 §3). */
export function dataForm(type: 'form' | 'result', options: { title?: string; instructions?: string; fields: readonly Field[]; table?: ReportedTable }): Element {
  const table = options.table;
  return xml(
    'x',
    { xmlns: NS_DATA, type },
    options.title !== undefined && xml('title', {}, options.title),
    options.instructions !== undefined && xml('instructions', {}, options.instructions),
    options.fields.map(field),
    table && xml('reported', {}, table.columns.map(field)),
    table?.rows.map((row) => xml('item', {}, table.columns.map((c) => xml('field', { var: c.var }, xml('value', {}, row[c.var] ?? ''))))),
  );
}

/** The values of a submitted form by field name (XEP-0004 §3.2), or undefined when the command carries none. */
export function submittedValues(command: Element): Map<string, string[]> | undefined {
  const form = command.getChild('x', NS_DATA);
  if (!form || form.attrs.type !== 'submit') return undefined;
  const out = new Map<string, string[]>();
  for (const field of form.getChildren('field')) {
    const name = field.attrs.var;
    if (name === undefined) continue;
    out.set(name, field.getChildren('value').map((v) => v.text()));
  }
  return out;
}
