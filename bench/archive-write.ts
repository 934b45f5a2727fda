// The archive's write path alone, through the storage port, as the chat bench
// loads it: USERS users in a ring (each sends to the next), one message a
// second each, written behind in one append per second (2 entries a message,
// archiveWriteDelayMs = 1 s); PREFILL messages first so the indexes have
// depth. Prints process CPU (user + system) per message over COMMITS commits.
// Repeat it a few times and read medians (issue #21).
//   nice -n 10 node --import tsx bench/archive-write.ts [sqlite|postgres]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openSqliteStorage } from '../packages/server/src/storage/sqlite/sqlite-storage.ts';
import { openPostgresStorage } from '../packages/server/src/storage/postgres/postgres-storage.ts';
import type { ArchiveEntry } from '../packages/server/src/storage/archive.ts';
import { stanzaIdOf } from '../packages/server/src/sm/modules/mam/stanza-id.ts';

const USERS = Number(process.env.USERS ?? 1000);
const PREFILL = Number(process.env.PREFILL ?? 100_000);
const COMMITS = Number(process.env.COMMITS ?? 40);
const kind = process.argv[2] ?? 'sqlite';

const dir = mkdtempSync(join(tmpdir(), 'sb-archive-write-'));
const schema = `sb_bench_aw_${process.pid}`;
const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const storage = kind === 'postgres' ? await openPostgresStorage(POSTGRES_URL, { schema }) : openSqliteStorage(join(dir, 'store.sqlite'));
const archive = storage.archive;

let clock = Date.now() - 86_400_000;
const filler = 'x'.repeat(64);
/** One second of the ring: every user sends one message to the next, both sides archived. */
function second(): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  for (let u = 1; u <= USERS; u++) {
    clock += 1000 / USERS;
    const timestamp = new Date(clock);
    const id = stanzaIdOf(clock);
    const from = `user${u}`;
    const to = `user${(u % USERS) + 1}`;
    const stanza = `<message to='${to}@localhost/bench' type='chat' from='${from}@localhost/bench'><body>${filler}</body><t xmlns='urn:bench'>${clock}</t></message>`;
    entries.push({ username: from, host: 'localhost', id, timestamp, with: `${to}@localhost/bench`, stanza, body: filler });
    entries.push({ username: to, host: 'localhost', id, timestamp, with: `${from}@localhost/bench`, stanza, body: filler });
  }
  return entries;
}

for (let n = 0; n < PREFILL; n += USERS) await archive.append(second());
const batches = Array.from({ length: COMMITS }, second);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (const b of batches) await archive.append(b);
const cpu = process.cpuUsage(cpu0);
const ms = performance.now() - t0;
const messages = COMMITS * USERS;
console.log(`${kind}: ${((cpu.user + cpu.system) / messages).toFixed(2)} µs CPU per message (user ${(cpu.user / messages).toFixed(2)}, system ${(cpu.system / messages).toFixed(2)}), ${((ms * 1000) / messages).toFixed(2)} µs wall; ${messages} messages in ${COMMITS} commits after ${PREFILL} prefilled`);
await storage.close();
if (kind === 'postgres') {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}
rmSync(dir, { recursive: true, force: true });
