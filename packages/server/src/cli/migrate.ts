// switchboard migrate --from STORE --to STORE [--schema NAME | --from-schema NAME --to-schema NAME] [--batch N] [--resume]
// STORE is sqlite:DIR (the data directory: DIR/switchboard.sqlite) or postgres:URL (postgres://…).
//
// Copies every port of one store into another (storage/migrate.ts) with the
// server stopped, prints both stores' counts side by side, and exits 0 only
// when they agree. Exit codes: 0 copied and verified, 1 refused or failed
// (nothing claimed), 2 bad usage.

import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AdminClient } from '../admin/socket-client.ts';
import type { Storage } from '../storage/ports.ts';
import { openSqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { copyStorage, type CountLine, type PortName } from '../storage/migrate.ts';

export const MIGRATE_USAGE = `usage: switchboard migrate --from STORE --to STORE [--schema NAME] [--from-schema NAME] [--to-schema NAME] [--batch N] [--resume]
  STORE is sqlite:DIR (a data directory) or postgres:URL (postgres://user@host/db); --schema names the PostgreSQL schema (default switchboard)`;

type StoreSpec = { kind: 'sqlite'; dir: string } | { kind: 'postgres'; url: string; schema: string };

export interface MigrateIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: MigrateIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

interface Parsed {
  from: StoreSpec;
  to: StoreSpec;
  batch: number;
  resume: boolean;
}

function parseStore(text: string, schema: string): StoreSpec | string {
  if (text.startsWith('sqlite:')) return { kind: 'sqlite', dir: resolve(text.slice('sqlite:'.length)) };
  const url = text.startsWith('postgres:') && !text.startsWith('postgres://') ? text.slice('postgres:'.length) : text;
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url, schema };
  return `not a store: ${text} (sqlite:DIR or postgres:URL)`;
}

function parseArgs(args: string[]): Parsed | string {
  const flags = new Map<string, string>();
  let resume = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--resume') resume = true;
    else if (['--from', '--to', '--schema', '--from-schema', '--to-schema', '--batch'].includes(arg) && args[i + 1] !== undefined) flags.set(arg, args[++i]!);
    else return `unexpected argument ${arg}`;
  }
  const fromText = flags.get('--from');
  const toText = flags.get('--to');
  if (fromText === undefined || toText === undefined) return 'both --from and --to are needed';
  const schema = flags.get('--schema') ?? 'switchboard';
  const from = parseStore(fromText, flags.get('--from-schema') ?? schema);
  const to = parseStore(toText, flags.get('--to-schema') ?? schema);
  if (typeof from === 'string') return from;
  if (typeof to === 'string') return to;
  if (describeStore(from) === describeStore(to)) return `--from and --to are the same store (${describeStore(from)})`;
  const batch = Number(flags.get('--batch') ?? 1000);
  if (!Number.isInteger(batch) || batch < 1 || batch > 100_000) return `--batch must be an integer from 1 to 100000`;
  return { from, to, batch, resume };
}

/** The store for messages, with any password in the URL left out. */
export function describeStore(spec: StoreSpec): string {
  if (spec.kind === 'sqlite') return `sqlite:${spec.dir}`;
  return `postgres:${spec.url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')} schema ${spec.schema}`;
}

/** A server answering on the data directory's admin socket is writing to the store: copying under it would miss its writes. */
async function serverRunsOn(dir: string): Promise<boolean> {
  try {
    const client = await AdminClient.connect(join(dir, 'admin.sock'), 2000);
    client?.close();
    return client !== undefined;
  } catch {
    // Something listens there but does not answer as expected (busy, another version, another user's): not ours to copy under.
    return true;
  }
}

/** Opens a store; the source must exist (opening an absent one would create it empty and "copy" nothing). */
async function openStore(spec: StoreSpec, role: 'source' | 'target'): Promise<Storage | string> {
  if (spec.kind === 'sqlite') {
    const file = join(spec.dir, 'switchboard.sqlite');
    if (role === 'source' && !existsSync(file)) return `no store at ${file}`;
    if (await serverRunsOn(spec.dir)) return `a server is running on ${spec.dir} (its admin socket answers): stop it first`;
    mkdirSync(spec.dir, { recursive: true });
    return openSqliteStorage(file);
  }
  const { default: pg } = await import('pg');
  if (role === 'source') {
    const client = new pg.Client({ connectionString: spec.url });
    try {
      await client.connect();
      const r = await client.query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'schema_version'", [spec.schema]);
      if (r.rowCount === 0) return `no store in schema ${spec.schema} of ${describeStore(spec)}`;
    } finally {
      await client.end().catch(() => {});
    }
  }
  const { openPostgresStorage } = await import('../storage/postgres/postgres-storage.ts');
  // A page of the archive is one statement: give it longer than a server's per-call bound.
  return openPostgresStorage(spec.url, { schema: spec.schema, timeoutMs: 120_000 });
}

function countTable(counts: readonly CountLine[]): string[] {
  const rows = counts.map((c) => [c.what, String(c.source), String(c.target), c.source === c.target ? '' : 'DIFFERS']);
  const header = ['', 'source', 'target', ''];
  const width = [0, 1, 2].map((i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => `${r[0]!.padEnd(width[0]!)}  ${r[1]!.padStart(width[1]!)}  ${r[2]!.padStart(width[2]!)}  ${r[3]}`.trimEnd());
}

export async function migrateCommand(args: string[], io: MigrateIo = consoleIo): Promise<number> {
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.err(`switchboard migrate: ${parsed}\n${MIGRATE_USAGE}`);
    return 2;
  }
  const opened: Storage[] = [];
  try {
    const source = await openStore(parsed.from, 'source');
    if (typeof source === 'string') return refuse(io, source);
    opened.push(source);
    const target = await openStore(parsed.to, 'target');
    if (typeof target === 'string') return refuse(io, target);
    opened.push(target);
    io.err(`switchboard migrate: ${describeStore(parsed.from)} -> ${describeStore(parsed.to)}${parsed.resume ? ' (resuming)' : ''}`);
    let current: PortName = 'accounts';
    let lastReport = 0;
    const started = Date.now();
    let result;
    try {
      result = await copyStorage(source, target, {
        batch: parsed.batch,
        resume: parsed.resume,
        from: describeStore(parsed.from),
        progress(port, read, written) {
          if (port !== current || Date.now() - lastReport > 5000) {
            io.err(`switchboard migrate: ${port}: ${read} read, ${written} written`);
            lastReport = Date.now();
          }
          current = port;
        },
      });
    } catch (err) {
      io.err(`switchboard migrate: FAILED while copying ${current}: ${(err as Error).message}`);
      io.err('switchboard migrate: the target is incomplete (and marked so: a server refuses to start on it). Run the same command with --resume to go on from where it stopped (what is there is skipped), or empty the target and start again.');
      return 1;
    }
    if (!result.ok && result.reason === 'source-unfinished') {
      return refuse(io, `the source is the target of a migrate that has not finished (${result.mark}); finish that one first (--resume)`);
    }
    if (!result.ok && result.reason === 'target-not-empty') {
      if (result.unfinished !== undefined) return refuse(io, `the target holds an unfinished migrate (${result.unfinished}); nothing was written. Add --resume to go on with it, from the same source`);
      const held = Object.entries(result.target).filter(([, n]) => n > 0).map(([what, n]) => `${what} ${n}`);
      return refuse(
        io,
        `the target is not empty (${held.join(', ')}); nothing was written. Migrate into an empty store (a new data directory or schema), or add --resume to go on with a copy from this same source that stopped half-way`,
      );
    }
    for (const line of countTable(result.counts)) io.out(line);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (!result.ok) {
      io.err(`switchboard migrate: FAILED: the counts differ (did a server write to the source during the copy?). The target is not a faithful copy and stays marked unfinished (a server refuses to start on it); --resume copies what is missing. ${seconds} s`);
      return 1;
    }
    io.err(`switchboard migrate: done in ${seconds} s; every count agrees`);
    return 0;
  } finally {
    for (const s of opened) await s.close();
  }
}

function refuse(io: MigrateIo, why: string): number {
  io.err(`switchboard migrate: refused: ${why}`);
  return 1;
}
