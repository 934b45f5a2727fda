// XEP-0313 archive benchmarks: a page of 50 from a large archive (built with
// bulk inserts: `messages` among `users` users, each user talking with 20
// contacts) on SQLite and on PostgreSQL, through the storage port; p50/p99 of
// the kinds of page a client asks for.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openSqliteStorage } from '../packages/server/src/storage/sqlite/sqlite-storage.ts';
import { openPostgresStorage } from '../packages/server/src/storage/postgres/postgres-storage.ts';
import type { ArchiveEntry, ArchiveQuery } from '../packages/server/src/storage/archive.ts';
import type { Storage } from '../packages/server/src/storage/ports.ts';
import { percentile } from './e2e.ts';
import type { BenchRow } from './row.ts';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { bareOf } from '../packages/server/src/storage/archive.ts';
import { loadTlsMaterial } from '../packages/server/src/tls/certificate.ts';
import { RawClient } from './load/raw-client.ts';
import { startBenchServer } from './e2e.ts';

const POSTGRES_URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WORDS = ['hello', 'meeting', 'tomorrow', 'lunch', 'coffee', 'train', 'late', 'thanks', 'photo', 'call'];
const T0 = Date.UTC(2025, 0, 1);

/** The id of user u's n-th message: a UUIDv7 of its time, as the server makes them (mam/stanza-id.ts), but reproducible. */
function idOf(u: number, n: number): string {
  const t = (T0 + n * 1000).toString(16).padStart(12, '0');
  const r = (u * 1_000_000 + n).toString(16).padStart(15, '0');
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-8${r.slice(3, 6)}-${r.slice(6, 15).padStart(12, '0')}`;
}

/** Message i of the archive: user(i % users) + 1 (as bench-users names them), contact (i / users) % 20, one second apart per user. */
function entry(i: number, users: number): ArchiveEntry {
  const u = i % users;
  const n = Math.floor(i / users);
  const contact = `contact${n % 20}@example.org`;
  const body = `${WORDS[n % 10]} ${WORDS[(n * 7) % 10]} message ${n}`;
  return {
    username: `user${u + 1}`,
    host: 'localhost',
    id: idOf(u, n),
    timestamp: new Date(T0 + n * 1000),
    with: `${contact}/res`,
    stanza: `<message xmlns="jabber:client" from="${contact}/res" to="user${u + 1}@localhost" type="chat" id="m${n}"><body>${body}</body></message>`,
    body,
  };
}

export async function fillForBench(storage: Storage, messages: number, users: number): Promise<number> {
  const t0 = performance.now();
  const batch = 20_000;
  for (let i = 0; i < messages; i += batch) {
    await storage.archive.append(Array.from({ length: Math.min(batch, messages - i) }, (_, k) => entry(i + k, users)));
  }
  return (performance.now() - t0) / 1000;
}

type Kind = 'last page' | 'page before an id' | 'page after an id' | 'last page with a contact' | 'page after an id with a contact' | 'an hour by start/end' | 'full text, last page';
const KINDS: Kind[] = ['last page', 'page before an id', 'page after an id', 'last page with a contact', 'page after an id with a contact', 'an hour by start/end', 'full text, last page'];

function queryOf(kind: Kind, perUser: number): ArchiveQuery {
  const n = () => Math.floor(Math.random() * perUser);
  const id = () => idOf(0, n());
  switch (kind) {
    case 'last page':
      return { max: 50, before: '' };
    case 'page before an id':
      return { max: 50, before: id() };
    case 'page after an id':
      return { max: 50, after: id() };
    case 'last page with a contact':
      return { max: 50, before: '', with: `contact${Math.floor(Math.random() * 20)}@example.org` };
    case 'page after an id with a contact': {
      // An id of a message with that contact: message n is with contact n % 20.
      const k = n();
      return { max: 50, after: idOf(0, k), with: `contact${k % 20}@example.org` };
    }
    case 'an hour by start/end': {
      // Messages are a second apart per user: an hour is 3,600 of them, so the count is of a range, not a page.
      const start = T0 + n() * 1000;
      return { max: 50, start: new Date(start), end: new Date(start + 3600_000) };
    }
    case 'full text, last page':
      return { max: 50, before: '', fullText: WORDS[Math.floor(Math.random() * 10)]! };
  }
}

async function measurePages(storage: Storage, label: string, messages: number, users: number, queries: number, fillSeconds: number): Promise<BenchRow[]> {
  const perUser = Math.floor(messages / users);
  const group = `MAM page of 50, ${messages.toLocaleString('en-US')} messages among ${users} users — ${label}`;
  const rows: BenchRow[] = [{ group, name: 'bulk insert', value: messages / fillSeconds, unit: 'msgs/s', note: `${fillSeconds.toFixed(1)} s` }];
  for (const kind of KINDS) {
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < queries + 50; i++) {
      // Every query on user1's archive (ids idOf(0, n)); the other users' rows sit around it.
      const q = queryOf(kind, perUser);
      const c = process.cpuUsage();
      const t = performance.now();
      const r = await storage.archive.query('user1', 'localhost', q);
      const ms = performance.now() - t;
      const used = process.cpuUsage(c);
      if (!r.ok) throw new Error(`${kind}: ${r.reason}`);
      if (i >= 50) {
        times.push(ms); // the first 50 warm the statement caches
        cpu.push((used.user + used.system) / 1000);
      }
    }
    times.sort((a, b) => a - b);
    rows.push({ group, name: `${kind} p50`, value: percentile(times, 50), unit: 'ms' });
    rows.push({ group, name: `${kind} p99`, value: percentile(times, 99), unit: 'ms', note: `${queries} queries` });
    if (label === 'SQLite') {
      // SQLite runs the query on this thread: its CPU time is the query's cost, apart from the time spent waiting
      // for a core (the wall-clock p99 on a loaded machine). PostgreSQL's work is in its own process.
      cpu.sort((a, b) => a - b);
      rows.push({ group, name: `${kind} CPU p99`, value: percentile(cpu, 99), unit: 'ms' });
    }
  }
  return rows;
}

export async function mamPages(options: { messages: number; users: number; queries: number; stores?: readonly ('sqlite' | 'postgres')[] }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const stores = options.stores ?? ['sqlite', 'postgres'];
  if (stores.includes('sqlite')) rows.push(...(await sqlitePages(options)));
  if (stores.includes('postgres')) rows.push(...(await postgresPages(options)));
  return rows;
}

async function sqlitePages(options: { messages: number; users: number; queries: number }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-mam-'));
  try {
    const sqlite = openSqliteStorage(join(dir, 'archive.sqlite'));
    try {
      const s = await fillForBench(sqlite, options.messages, options.users);
      rows.push(...(await measurePages(sqlite, 'SQLite', options.messages, options.users, options.queries, s)));
    } finally {
      await sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

async function postgresPages(options: { messages: number; users: number; queries: number }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const schema = `sb_bench_${randomBytes(4).toString('hex')}`;
  const postgres = await openPostgresStorage(POSTGRES_URL, { schema });
  try {
    const s = await fillForBench(postgres, options.messages, options.users);
    // What autovacuum does after a bulk load (it is off on the test machine's PostgreSQL): fresh planner statistics,
    // and the visibility map that lets a count read the index alone (without it, counting an hour of one user's
    // messages read 3,600 heap pages: 48 ms instead of 0.8 ms, EXPLAIN ANALYZE).
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`VACUUM ANALYZE "${schema}".archive`);
    await client.end();
    rows.push(...(await measurePages(postgres, 'PostgreSQL', options.messages, options.users, options.queries, s)));
  } finally {
    await postgres.close();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
  return rows;
}

// ---- Side by side with Prosody's mod_mam over XMPP ----
//
// The same archive (user1's among 100 users) in Switchboard's SQLite store and in Prosody 0.12's
// mod_storage_sql on SQLite (Debian's lua-dbi-sqlite3), each server pinned to CPU 0, and the same MAM
// queries asked over a plain TCP stream by one client: the round trip of a page of 50, result
// messages and <fin/> included. Prosody's table is filled directly (its schema: prosodyarchive),
// after Prosody created it, and Prosody is restarted on it.

type XmppKind = 'last page' | 'page before an id' | 'page after an id' | 'last page with a contact';
const XMPP_KINDS: XmppKind[] = ['last page', 'page before an id', 'page after an id', 'last page with a contact'];

function mamIq(kind: XmppKind, perUser: number, qid: string): string {
  // Away from both ends, so that every page is a full 50.
  const n = 60 + Math.floor(Math.random() * (perUser - 120));
  const form = (contact: string) =>
    `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field><field var='with'><value>${contact}</value></field></x>`;
  const rsm = (inner: string) => `<set xmlns='http://jabber.org/protocol/rsm'><max>50</max>${inner}</set>`;
  const body =
    kind === 'last page' ? rsm('<before/>')
    : kind === 'page before an id' ? rsm(`<before>${idOf(0, n)}</before>`)
    : kind === 'page after an id' ? rsm(`<after>${idOf(0, n)}</after>`)
    : form(`contact${n % 20}@example.org`) + rsm('<before/>');
  return `<iq type='set' id='${qid}'><query xmlns='urn:xmpp:mam:2' queryid='${qid}'>${body}</query></iq>`;
}

/** Sends each query and waits for its iq result; returns the round trips in ms. */
async function askOverXmpp(client: RawClient, kind: XmppKind, perUser: number, queries: number): Promise<number[]> {
  let buffer = '';
  let waiting: { id: string; resolve: () => void; reject: (e: Error) => void } | undefined;
  client.onData = (chunk) => {
    buffer += chunk;
    if (!waiting) return;
    const at = buffer.search(new RegExp(`<iq[^>]*id=["']${waiting.id}["'][^>]*>`));
    if (at < 0) return;
    const head = buffer.slice(at, at + 300);
    const results = (buffer.slice(0, at).match(/<result /g) ?? []).length;
    buffer = '';
    const w = waiting;
    waiting = undefined;
    if (!/type=["']result["']/.test(head)) w.reject(new Error(`${kind}: ${head}`));
    else if (results === 0 || results > 50) w.reject(new Error(`${kind}: ${results} results`));
    else w.resolve();
  };
  const times: number[] = [];
  for (let i = 0; i < queries + 20; i++) {
    const id = `q${i}`;
    const t = performance.now();
    await new Promise<void>((resolve, reject) => {
      waiting = { id, resolve, reject };
      client.send(mamIq(kind, perUser, id));
    });
    if (i >= 20) times.push(performance.now() - t);
  }
  client.onData = undefined;
  return times.sort((a, b) => a - b);
}

async function measureOverXmpp(port: number, label: string, messages: number, users: number, queries: number): Promise<BenchRow[]> {
  const client = await RawClient.connect('127.0.0.1', port);
  await client.login('localhost', 'user1', 'pass', 'mam', 'PLAIN');
  const group = `MAM page of 50 over XMPP, ${messages.toLocaleString('en-US')} messages among ${users} users — ${label}`;
  const rows: BenchRow[] = [];
  for (const kind of XMPP_KINDS) {
    const times = await askOverXmpp(client, kind, Math.floor(messages / users), queries);
    rows.push({ group, name: `${kind} p50`, value: percentile(times, 50), unit: 'ms' });
    rows.push({ group, name: `${kind} p99`, value: percentile(times, 99), unit: 'ms', note: `${queries} queries` });
  }
  client.send('</stream:stream>');
  return rows;
}

function hasTable(path: string, table: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/** Prosody's archive rows for the same messages: mod_storage_sql's prosodyarchive (when in seconds, with the bare JID). */
function fillProsody(path: string, messages: number, users: number): number {
  const db = new Database(path);
  const t0 = performance.now();
  try {
    db.pragma('journal_mode = WAL');
    const insert = db.prepare('INSERT INTO prosodyarchive (host, user, store, key, "when", "with", type, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const e = entry(i, users);
        insert.run('localhost', e.username, 'archive', e.id, Math.floor(e.timestamp.getTime() / 1000), bareOf(e.with), 'xml', e.stanza.replace(' xmlns="jabber:client"', ''));
      }
    });
    for (let i = 0; i < messages; i += 20_000) batch(i, Math.min(messages, i + 20_000));
  } finally {
    db.close();
  }
  return (performance.now() - t0) / 1000;
}

export async function mamVsProsody(options: { messages: number; users: number; queries: number }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-mam-xmpp-'));
  const ours = openSqliteStorage(join(dataDir, 'switchboard.sqlite'));
  const oursFill = await fillForBench(ours, options.messages, options.users);
  await ours.close();
  const server = await startBenchServer(options.users, 0, { args: ['--archive', '1'], dataDir });
  try {
    rows.push(...(await measureOverXmpp(server.port, 'Switchboard (SQLite)', options.messages, options.users, options.queries)));
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  rows.push({ group: `MAM page of 50 over XMPP — fill`, name: 'Switchboard bulk insert (storage port)', value: options.messages / oursFill, unit: 'msgs/s' });

  const { startProsody } = await import('@switchboard/testkit');
  const certDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-tls-'));
  await loadTlsMaterial({ domain: 'localhost', dataDir: certDir });
  const prosody = await startProsody({
    users: [],
    benchUsers: { count: options.users, password: 'pass' },
    plaintext: true,
    archive: 'sqlite',
    certificates: { cert: join(certDir, 'localhost.crt'), key: join(certDir, 'localhost.key') },
  });
  try {
    // mod_storage_sql makes its tables on the archive's first use (one query); the rows go in with Prosody
    // stopped, then it starts on them.
    const first = await RawClient.connect('127.0.0.1', prosody.c2sPort);
    await first.login('localhost', 'user1', 'pass', 'setup', 'PLAIN');
    first.send("<iq type='set' id='setup'><query xmlns='urn:xmpp:mam:2' queryid='setup'/></iq>");
    const dbPath = join(prosody.dir, 'prosody.sqlite');
    for (let tries = 0; !hasTable(dbPath, 'prosodyarchive'); tries++) {
      if (tries > 100) throw new Error('Prosody made no prosodyarchive table (is lua-dbi-sqlite3 installed?)');
      await new Promise((r) => setTimeout(r, 100));
    }
    const stopped = new Promise((r) => setTimeout(r, 500));
    process.kill(prosody.pid, 'SIGKILL');
    await stopped;
    const prosodyFill = fillProsody(dbPath, options.messages, options.users);
    rows.push({ group: `MAM page of 50 over XMPP — fill`, name: 'Prosody rows inserted (SQL, directly)', value: options.messages / prosodyFill, unit: 'msgs/s' });
    await prosody.restart();
    spawnSync('taskset', ['-a', '-p', '-c', '0', String(prosody.pid)], { stdio: 'ignore' });
    rows.push(...(await measureOverXmpp(prosody.c2sPort, 'Prosody 0.12 mod_mam (mod_storage_sql, SQLite)', options.messages, options.users, options.queries)));
  } finally {
    await prosody.stop();
    rmSync(certDir, { recursive: true, force: true });
  }
  const ratios: BenchRow[] = [];
  const ourRows = rows.filter((r) => r.group.endsWith('Switchboard (SQLite)'));
  for (const r of ourRows) {
    const theirs = rows.find((t) => t.group.includes('Prosody 0.12') && t.name === r.name);
    if (theirs) ratios.push({ group: 'MAM page of 50 over XMPP — ratio Switchboard / Prosody', name: r.name, value: r.value / theirs.value, unit: '×' });
  }
  return [...rows, ...ratios];
}
