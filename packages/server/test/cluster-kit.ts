// Real processes for the cluster fault tests and the cluster benchmark: an
// sm, a c2s or a MUC service process started with the CLI, over the test's own nats-server, found
// ready by the line it logs, and killed the way a fault kills it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** Two user names (`${prefix}0`, `${prefix}1`, …) on each of the first two shards. */
export function usersByShard(shards: { indexOf(bareJid: string): number }, prefix: string): [string[], string[]] {
  const out: [string[], string[]] = [[], []];
  for (let i = 0; out[0].length < 2 || out[1].length < 2; i++) {
    const name = `${prefix}${i}`;
    const list = out[shards.indexOf(`${name}@localhost`)];
    if (list && list.length < 2) list.push(name);
  }
  return out;
}

/** Whether the process serves `address` now (a shard of the sm or of a service), by its log: it said it serves it and has not given it back since. */
export function serves(p: RoleProcess, address: string): boolean {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return false;
  const serving = p.log.lastIndexOf(`serving ${address} `);
  return serving >= 0 && serving > Math.max(p.log.lastIndexOf(`gave ${address} `), p.log.lastIndexOf(`lost ${address} `), p.log.lastIndexOf(`lease ${address.replace(/[^A-Za-z0-9_=-]/g, '_')} released`));
}
