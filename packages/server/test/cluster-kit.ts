// Real processes for the cluster fault tests and the cluster benchmark: an
// sm, a c2s or a MUC service process started with the CLI, over the test's own nats-server, found
// ready by the line it logs, and killed the way a fault kills it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, startProxy, type CuttableProxy, type NatsServer } from '@switchboard/testkit';
import { ShardMap } from '../src/router/shards.ts';
import { RawClient } from './helpers.ts';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;

export interface RoleProcess {
  child: ChildProcess;
  /** The c2s port, for a c2s. */
  port: number | undefined;
  /** Everything it wrote (its log lines). */
  log: string;
  exited: Promise<number | null>;
}

export interface ClusterOptions {
  dir: string;
  natsUrl: string;
  prefix: string;
  /** Extra configuration (written to a JSON file in dir). */
  config?: Record<string, unknown>;
}

function commonArgs(o: ClusterOptions): string[] {
  const file = join(o.dir, 'config.json');
  // No operator HTTP listener: its fixed port would be taken by the first of the processes (the benchmark runs these outside scripts/test.mjs, which turns it off).
  writeFileSync(file, JSON.stringify({ timeouts: { heartbeatSeconds: 0.5, deadAfterSeconds: 2 }, http: { port: -1, bindAddress: '127.0.0.1' }, ...o.config }));
  return ['--config', file, '--data-dir', o.dir, '--nats', o.natsUrl, '--nats-prefix', o.prefix];
}

export function addUsers(o: ClusterOptions, users: string[]): void {
  commonArgs(o); // writes the config file the store is named in
  for (const user of users) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'user', 'add', `${user}@localhost`, 'pw', '--data-dir', o.dir, ...(o.config?.storage ? ['--config', join(o.dir, 'config.json')] : [])]);
    if (r.status !== 0) throw new Error(`user add ${user}: ${r.stderr.toString()}`);
  }
}

/** Resolves once the process is serving (or, with `ready`, once its log matches that). */
export function startRole(o: ClusterOptions, role: 'sm' | 'c2s' | 'muc', ready?: RegExp, extraArgs: string[] = []): Promise<RoleProcess> {
  const args = [...commonArgs(o), '--role', role, ...extraArgs];
  if (role === 'c2s') args.push('--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1', '--allow-plaintext-on-loopback');
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SWITCHBOARD_LOG_LEVEL: 'info' } });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const proc: RoleProcess = { child, port: undefined, log: '', exited };
  child.stderr!.on('data', (d: Buffer) => (proc.log += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      proc.log += d.toString();
      const match = out.match(ready ?? (role === 'c2s' ? /c2s 127\.0\.0\.1:(\d+)/ : role === 'muc' ? /muc for localhost/ : /sm for localhost/));
      if (match) {
        proc.port = role === 'c2s' ? Number(match[1]) : undefined;
        resolve(proc);
      }
    });
    void exited.then((code) => reject(new Error(`serve --role ${role} exited with ${code}: ${out}${proc.log}`)));
  });
}

/** kill -9, or SIGTERM and wait for the exit. */
export async function kill(p: RoleProcess, signal: 'SIGKILL' | 'SIGTERM'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

// Counting a numbered burst: every message delivered once, stored offline, or answered with an error.

/** The numbers of the messages (not errors) with ids `${prefix}N` in a client's received text. */
export const ids = (text: string, prefix: string): number[] =>
  [...text.matchAll(new RegExp(`<message[^>]*id="${prefix}(\\d+)"`, 'g'))].filter((m) => !m[0].includes('type="error"')).map((m) => Number(m[1]));

/** The numbers of the message errors with ids `${prefix}N` in a sender's received text. */
export const errorIds = (text: string, prefix: string): number[] =>
  [...text.matchAll(new RegExp(`<message[^>]*(?:id="${prefix}(\\d+)"[^>]*type="error"|type="error"[^>]*id="${prefix}(\\d+)")`, 'g'))].map((m) => Number(m[1] ?? m[2]));

/** Each of 1..n: how many times it was seen over every list (delivered, stored, answered with an error). */
export function account(n: number, lists: number[][]): { lost: number[]; duplicated: number[] } {
  const seen = new Map<number, number>();
  for (const list of lists) for (const id of list) seen.set(id, (seen.get(id) ?? 0) + 1);
  const lost: number[] = [];
  const duplicated: number[] = [];
  for (let i = 1; i <= n; i++) {
    const c = seen.get(i) ?? 0;
    if (c === 0) lost.push(i);
    if (c > 1) duplicated.push(i);
  }
  return { lost, duplicated };
}

/** `perShard` user names (`${prefix}0`, `${prefix}1`, …) on each of the first two shards. */
export function usersByShard(shards: { indexOf(bareJid: string): number }, prefix: string, perShard = 2): [string[], string[]] {
  const out: [string[], string[]] = [[], []];
  for (let i = 0; out[0].length < perShard || out[1].length < perShard; i++) {
    const name = `${prefix}${i}`;
    const list = out[shards.indexOf(`${name}@localhost`)];
    if (list && list.length < perShard) list.push(name);
  }
  return out;
}

/** Whether the process serves `address` now (a shard of the sm or of a service), by its log: it said it serves it and has not given it back since. */
export function serves(p: RoleProcess, address: string): boolean {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return false;
  const serving = p.log.lastIndexOf(`serving ${address} `);
  return serving >= 0 && serving > Math.max(p.log.lastIndexOf(`gave ${address} `), p.log.lastIndexOf(`lost ${address} `), p.log.lastIndexOf(`lease ${address.replace(/[^A-Za-z0-9_=-]/g, '_')} released`));
}

// The topology of #17's fault suite, one for every fault test: two c2s; two sm processes, each owning one of two
// shards, and a standby; the test's own nats-server; the machine's PostgreSQL (a schema of the test's own) reached
// through a relay the test can cut or stall.

const PG = new URL(process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
export const clusterShards = new ShardMap(2);

export interface FullCluster {
  nats: NatsServer;
  /** In front of PostgreSQL: `refuse()` is a database that is down, `freeze()` one that hangs. */
  pg: CuttableProxy;
  o: ClusterOptions;
  /** The sm processes now running or last started (a killed one stays until `supervise` replaces it). */
  sms: RoleProcess[];
  /** c2s A and c2s B. */
  c2s: [RoleProcess, RoleProcess];
  /** Which running sm process serves shard k now (by its log). */
  ownerOf(k: number): RoleProcess | undefined;
  /** The running sm that serves no shard. */
  standby(): RoleProcess | undefined;
  /**
   * The test as supervisor, as systemd would be: an sm fenced by its lease (exit 75) or stopped by the test is
   * started again, as a standby; any other exit, or a c2s that died by itself, fails. Returns what it restarted.
   */
  supervise(): Promise<string[]>;
  /** Starts c2s `i` again after the test killed it. */
  restartC2s(i: 0 | 1): Promise<RoleProcess>;
  /** Starts again each c2s a test killed (for a test that failed before it could): the next test begins with both. */
  c2sUp(): Promise<void>;
  /** Until each shard is served by its own process and one more stands by. */
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts the topology with `users` made in its store; `config` adds to the processes' configuration. */
export async function startFullCluster(name: string, users: string[], config: Record<string, unknown> = {}): Promise<FullCluster> {
  const nats = await startNatsServer();
  const pg = await startProxy(Number(PG.port || 5432));
  const relayed = new URL(PG.toString());
  relayed.host = `127.0.0.1:${pg.port}`;
  const dir = mkdtempSync(join(tmpdir(), `switchboard-${name}-`));
  const schema = `sb${name.replace(/[^a-z]/g, '').slice(0, 8)}${randomBytes(4).toString('hex')}`;
  const timeouts = { heartbeatSeconds: 0.5, deadAfterSeconds: 2, ...(config.timeouts as object | undefined) };
  const configWith = (url: URL): Record<string, unknown> => ({ shards: clusterShards.count, ...config, timeouts, storage: { kind: 'postgres', url: url.toString(), schema } });
  // The accounts go straight to the database: `user add` runs synchronously, and the relay lives in this process.
  const o: ClusterOptions = { dir, natsUrl: nats.url, prefix: `sb${randomBytes(4).toString('hex')}`, config: configWith(PG) };
  addUsers(o, users);
  o.config = configWith(relayed);
  const all: RoleProcess[] = [];
  const started = (p: RoleProcess): RoleProcess => (all.push(p), p);
  const alive = (p: RoleProcess): boolean => p.child.exitCode === null && p.child.signalCode === null;
  const sms: RoleProcess[] = [];
  const ownerOf = (k: number): RoleProcess | undefined =>
    sms.find((p) => serves(p, clusterShards.address(k)));
  const standby = (): RoleProcess | undefined => sms.filter(alive).find((p) => p !== ownerOf(0) && p !== ownerOf(1));
  const settled = async (timeoutMs = 15_000): Promise<void> => {
    const until = Date.now() + timeoutMs;
    while (!(ownerOf(0) && ownerOf(1) && ownerOf(0) !== ownerOf(1) && standby())) {
      if (Date.now() > until) throw new Error(`the cluster did not settle: ${sms.map((p) => p.log.slice(-500)).join('\n---\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // The first sm takes both shards and gives one back when the second joins; the third finds both owned and stands by.
  sms.push(started(await startRole(o, 'sm')));
  sms.push(started(await startRole(o, 'sm')));
  sms.push(started(await startRole(o, 'sm', /standing by|sm for localhost/)));
  const c2s = (await Promise.all([startRole(o, 'c2s'), startRole(o, 'c2s')])).map(started) as [RoleProcess, RoleProcess];
  await settled();
  return {
    nats,
    pg,
    o,
    sms,
    c2s,
    ownerOf,
    standby,
    settled,
    async supervise() {
      const restarted: string[] = [];
      for (const [i, p] of sms.entries()) {
        if (alive(p)) continue;
        if (p.child.signalCode === null && p.child.exitCode !== 75 && p.child.exitCode !== 0) throw new Error(`an sm died with ${p.child.exitCode}: ${p.log.slice(-2000)}`);
        restarted.push(`sm ${i} (${p.child.signalCode ?? `exit ${p.child.exitCode}`}${p.child.exitCode === 75 ? `: ${p.log.match(/lease [^"]*lost[^"]*/)?.[0] ?? 'fenced'}` : ''})`);
        sms[i] = started(await startRole(o, 'sm', /standing by|sm for localhost/));
      }
      for (const p of c2s) if (!alive(p) && p.child.signalCode === null && p.child.exitCode !== 0) throw new Error(`a c2s died with ${p.child.exitCode}: ${p.log.slice(-2000)}`);
      return restarted;
    },
    async restartC2s(i) {
      c2s[i] = started(await startRole(o, 'c2s'));
      return c2s[i];
    },
    async c2sUp() {
      for (const i of [0, 1] as const) if (!alive(c2s[i])) c2s[i] = started(await startRole(o, 'c2s'));
    },
    async close() {
      pg.accept();
      await Promise.all(all.map((p) => kill(p, 'SIGKILL')));
      await pg.close();
      await nats.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Whether the cluster serves: fresh logins of `a` through port `portA` and `b` through `portB`, and a message each
 * way, each expected within `timeoutMs`. For a waitFor after a fault; `login` may give up sooner than RawClient's.
 */
export async function chatsBothWays(
  portA: number,
  a: string,
  portB: number,
  b: string,
  options: { timeoutMs?: number; login?: (c: RawClient, user: string) => Promise<string> } = {},
): Promise<boolean> {
  const login = options.login ?? ((c: RawClient, user: string) => c.login(user, 'pw', `r${Date.now()}`));
  const timeoutMs = options.timeoutMs ?? 2000;
  const x = await RawClient.connect(portA);
  const y = await RawClient.connect(portB);
  try {
    const xJid = await login(x, a);
    const yJid = await login(y, b);
    x.send(`<message to='${yJid}' type='chat' id='both1'><body>there</body></message>`);
    y.send(`<message to='${xJid}' type='chat' id='both2'><body>back</body></message>`);
    await y.expect(/<body>there<\/body>/, timeoutMs);
    await x.expect(/<body>back<\/body>/, timeoutMs);
    return true;
  } catch {
    return false;
  } finally {
    x.close();
    y.close();
  }
}
