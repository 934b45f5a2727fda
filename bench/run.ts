// npm run bench [-- SUITE…] [--json FILE]: runs the named suites (all by
// default), prints one Markdown table, and optionally writes the rows as JSON.

import { writeFileSync } from 'node:fs';
import { DEFAULT_SUITES, SUITES } from './suites.ts';
import type { BenchRow } from './row.ts';

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const names = args.filter((a, i) => !a.startsWith('--') && (jsonAt < 0 || i !== jsonAt + 1));
const selected = names.length > 0 ? names : DEFAULT_SUITES;

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

const rows: BenchRow[] = [];
for (const name of selected) {
  const suite = SUITES[name];
  if (!suite) {
    console.error(`unknown suite ${name}; known: ${Object.keys(SUITES).join(', ')}`);
    process.exit(2);
  }
  process.stderr.write(`bench: ${name}…\n`);
  rows.push(...(await suite()));
}

console.log('| group | measure | value | unit | note |');
console.log('|---|---|---:|---|---|');
for (const r of rows) console.log(`| ${r.group} | ${r.name} | ${format(r.value)} | ${r.unit} | ${r.note ?? ''} |`);
if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
process.exit(0);
