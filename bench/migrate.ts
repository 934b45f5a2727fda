// The migration's cost on a large store (issue #17): N archived messages (and
// N/1000 accounts with rosters, offline messages and user data) written to a
// SQLite store, then `switchboard migrate` to a fresh PostgreSQL schema and
// back to a fresh SQLite store, each in a process of its own under
// /usr/bin/time, which reports its peak memory (the copy holds one page, so it
// should not grow with N).
//
//   node --import tsx bench/migrate.ts [N=1000000] [BATCH=1000]
//
// Needs the machine's PostgreSQL (SWITCHBOARD_TEST_POSTGRES_URL, default the test database); the schemas it
// makes are dropped at the end.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { deriveScramCredentials } from '../packages/server/src/auth/scram-credentials.ts';
import type { ArchiveEntry } from '../packages/server/src/storage/archive.ts';
import { openSqliteStorage } from '../packages/server/src/storage/sqlite/sqlite-storage.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const BATCH = process.argv[3] ?? '1000';
const PG_URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLI = new URL('../packages/server/src/cli/main.ts', import.meta.url).pathname;
const WORDS = ['apple', 'banana', 'cherry', 'damson', 'elder', 'fig', 'grape', 'quokka'];

const src = mkdtempSync(join(tmpdir(), 'sb-migrate-bench-'));
const back = mkdtempSync(join(tmpdir(), 'sb-migrate-bench-back-'));
const schema = `sb_bench_${process.pid}`;

async function fill(): Promise<void> {
  const started = Date.now();
  const s = openSqliteStorage(join(src, 'switchboard.sqlite'));
  const users = Math.max(2, Math.floor(N / 1000));
  const creds = await deriveScramCredentials('pw', 4096);
  for (let u = 0; u < users; u++) {
    await s.accounts.createAccount(`user${u}`, 'localhost', creds);
    await s.rosters.putItem(`user${u}`, 'localhost', { jid: `user${(u + 1) % users}@localhost`, groups: [], subscription: 'both', ask: false, pendingIn: false, approved: false, visible: true });
    await s.offline.store(`user${u}`, 'localhost', `<message><body>offline ${u}</body></message>`, 100);
    await s.userData.set(`user${u}`, 'localhost', 'vcard', '', `<vCard xmlns="vcard-temp"><FN>User ${u}</FN></vCard>`);
  }
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < N; i += 10_000) {
    const entries: ArchiveEntry[] = [];
    for (let j = i; j < Math.min(N, i + 10_000); j++) {
      const body = `message ${j} about ${WORDS[j % WORDS.length]} and ${WORDS[(j * 7) % WORDS.length]}`;
      const u = j % users;
      entries.push({ username: `user${u}`, host: 'localhost', id: `id-${j}`, timestamp: new Date(t0 + j * 1000), with: `user${(u + 1) % users}@localhost/r`, stanza: `<message type="chat" id="m${j}"><body>${body}</body></message>`, body });
    }
    await s.archive.append(entries);
  }
  await s.close();
  console.log(`filled ${N} archived messages, ${users} users in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function run(label: string, args: string[]): void {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, '--import', 'tsx', CLI, 'migrate', ...args, '--batch', BATCH], { encoding: 'utf8' });
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1];
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)/.exec(r.stderr)?.[1];
  const cpu = ['User time', 'System time'].map((k) => Number(new RegExp(`${k} \\(seconds\\): (\\S+)`).exec(r.stderr)?.[1] ?? 0)).reduce((a, b) => a + b, 0);
  console.log(`${label}: exit ${r.status}, wall ${wall}, CPU ${cpu.toFixed(1)} s, peak RSS ${rss ? (Number(rss) / 1024).toFixed(0) : '?'} MB`);
  console.log(r.stdout.trimEnd());
  if (r.status !== 0) console.log(r.stderr.split('\n').filter((l) => l.startsWith('switchboard')).join('\n'));
}

try {
  await fill();
  run('sqlite -> postgres', ['--from', `sqlite:${src}`, '--to', `postgres:${PG_URL}`, '--schema', schema]);
  run('postgres -> sqlite', ['--from', `postgres:${PG_URL}`, '--from-schema', schema, '--to', `sqlite:${back}`]);
} finally {
  rmSync(src, { recursive: true, force: true });
  rmSync(back, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
}
