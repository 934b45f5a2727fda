// End-to-end benchmarks of a real Switchboard process on loopback: login
// storm, chat between pairs, idle sessions. The server runs as its own
// process pinned to CPU 0 (its CPU time and RSS are read from /proc); the
// load comes from worker processes pinned to CPU 1, speaking raw XMPP.

import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { WorkerCommand, WorkerReply } from './load/worker.ts';
import type { BenchRow } from './row.ts';

const ROOT = new URL('..', import.meta.url).pathname;
// The server as `npm start` runs it: compiled by scripts/build.mjs (SWITCHBOARD_BENCH_TSX=1: through tsx instead).
const BUILT = process.env.SWITCHBOARD_BENCH_TSX !== '1';
const CLI = BUILT ? join(ROOT, 'dist/switchboard.mjs') : join(ROOT, 'packages/server/src/cli/main.ts');
const RUNNER = BUILT ? [] : ['--import', 'tsx'];
// Extra Node flags for the server process only (SWITCHBOARD_BENCH_NODE_FLAGS='--single-threaded'), to compare runtimes.
const SERVER_FLAGS = (process.env.SWITCHBOARD_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
if (BUILT) spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
const WORKER = join(ROOT, 'bench/load/worker.ts');
const CLK_TCK = 100;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function pinned(cpu: number): string[] {
  return spawnSync('taskset', ['--version']).status === 0 ? ['taskset', '-c', String(cpu)] : [];
}

/** CPU seconds (user + system) the process has used. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

export interface BenchServer {
  name: 'switchboard' | 'prosody' | 'ejabberd' | 'node-floor';
  pid: number;
  port: number;
  /** XEP-0368 direct TLS, when the server was started with it. */
  tlsPort?: number;
  stop(): Promise<void>;
}

export type ServerKind = 'switchboard' | 'prosody';

/**
 * Debian's ejabberd exactly as the shared tsung yardstick runs it (its
 * servers/ejabberd/start.sh: plain TCP, no shaper, user1..userN / pass in a
 * SCRAM store), pinned to CPU 0. The yardstick is found at $YARDSTICK or
 * ../shared/bench; only one such ejabberd runs at a time.
 */
export async function startEjabberdBench(users: number): Promise<BenchServer> {
  const yardstick = process.env.YARDSTICK ?? join(ROOT, '../shared/bench');
  const port = await freePort();
  const script = join(yardstick, 'servers/ejabberd');
  const cmd = [...pinned(0), join(script, 'start.sh'), String(port), String(users)];
  const started = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`ejabberd did not start: ${started.stderr}`);
  const pid = Number(readFileSync(join(yardstick, 'run/ejabberd/pid'), 'utf8'));
  if (pinned(0).length > 0) spawnSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
  return {
    name: 'ejabberd',
    pid,
    port,
    async stop() {
      spawnSync(join(script, 'stop.sh'), { stdio: 'ignore' });
    },
  };
}

/** Prosody from Debian in the same benchmark profile (plain TCP, PLAIN, user1..userN / pass), pinned to CPU 0. */
export async function startProsodyBench(users: number): Promise<BenchServer> {
  const { startProsody } = await import('@switchboard/testkit');
  const { loadTlsMaterial } = await import('../packages/server/src/tls/certificate.ts');
  const certDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-tls-'));
  await loadTlsMaterial({ domain: 'localhost', dataDir: certDir });
  const prosody = await startProsody({
    users: [],
    benchUsers: { count: users, password: 'pass' },
    plaintext: true,
    certificates: { cert: join(certDir, 'localhost.crt'), key: join(certDir, 'localhost.key') },
  });
  if (pinned(0).length > 0) spawnSync('taskset', ['-a', '-p', '-c', '0', String(prosody.pid)], { stdio: 'ignore' });
  return {
    name: 'prosody',
    pid: prosody.pid,
    port: prosody.c2sPort,
    async stop() {
      await prosody.stop();
      rmSync(certDir, { recursive: true, force: true });
    },
  };
}

function startTarget(kind: ServerKind, users: number): Promise<BenchServer> {
  return kind === 'prosody' ? startProsodyBench(users) : startBenchServer(users);
}

/** `cli`: another build's dist/switchboard.mjs (bench/ab.ts); `nodeFlags`: Node flags for this server only. */
export async function startBenchServer(users: number, contacts = 0, options: { tls?: boolean; cli?: string; nodeFlags?: string[]; args?: string[]; dataDir?: string } = {}): Promise<BenchServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : undefined;
  const args = ['--data-dir', dataDir, '--c2s-port', String(port), '--c2s-tls-port', String(tlsPort ?? -1), '--ws-port', '-1', '--allow-plaintext-on-loopback'];
  // Several benchmarks (and sessions) run at once on one machine: no operator HTTP listener on its fixed port.
  // Another build (bench/ab.ts) may predate the flag, so only this one is given it.
  if (!options.cli) args.push('--http.port', '-1');
  const runner = options.cli ? [] : RUNNER;
  const cli = options.cli ?? CLI;
  const made = spawnSync(process.execPath, [...runner, cli, 'bench-users', String(users), 'pass', String(contacts), ...args], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`bench-users failed: ${made.stderr}`);
  const pin = pinned(0);
  const cmd = [...pin, process.execPath, ...(options.nodeFlags ?? SERVER_FLAGS), ...runner, cli, 'serve', ...args, ...(options.args ?? [])];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // The line that says the listeners are up (a service says "serving" its shard before the c2s listens).
      if (out.includes('switchboard: serving')) resolve();
      if (out.length > 65_536) out = out.slice(-1024);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    name: 'switchboard',
    pid: child.pid!,
    port,
    tlsPort,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export class Workers {
  private readonly procs: ChildProcess[];
  constructor(count: number) {
    const pin = pinned(1).length > 0;
    this.procs = Array.from({ length: count }, () => {
      const proc = fork(WORKER, [], { execArgv: ['--import', 'tsx'] });
      if (pin) spawnSync('taskset', ['-a', '-p', '-c', '1', String(proc.pid)], { stdio: 'ignore' });
      return proc;
    });
  }
  get size(): number {
    return this.procs.length;
  }
  ask(i: number, command: WorkerCommand): Promise<WorkerReply> {
    const proc = this.procs[i]!;
    return new Promise((resolve) => {
      proc.once('message', (reply: WorkerReply) => resolve(reply));
      proc.send(command);
    });
  }
  all(make: (i: number) => WorkerCommand): Promise<WorkerReply[]> {
    return Promise.all(this.procs.map((_, i) => this.ask(i, make(i))));
  }
  stop(): void {
    for (const p of this.procs) p.kill();
  }
}

/** Runs `scenario` with `count` load workers against `server`; closes the clients, the workers and the server whatever happens. */
async function underLoad<T>(server: BenchServer, count: number, scenario: (workers: Workers) => Promise<T>): Promise<T> {
  const workers = new Workers(count);
  try {
    return await scenario(workers);
  } finally {
    await workers.all(() => ({ cmd: 'close' }));
    workers.stop();
    await server.stop();
  }
}

/** The table rows of a chat run: throughput with the loss count, server CPU per message and in all, latency. */
function chatRows(group: string, replies: { sent: number; delivered: number; latenciesMs: number[] }[], seconds: number, cpu: number): BenchRow[] {
  const sent = replies.reduce((n, r) => n + r.sent, 0);
  const delivered = replies.reduce((n, r) => n + r.delivered, 0);
  const lat = replies.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  return [
    { group, name: 'delivered msgs/s', value: delivered / seconds, unit: '/s', note: `${delivered}/${sent} delivered` },
    { group, name: 'server CPU per message', value: (cpu * 1e6) / delivered, unit: 'µs' },
    { group, name: 'server CPU', value: (cpu * 100) / seconds, unit: '% of a core' },
    { group, name: 'latency p50', value: percentile(lat, 50), unit: 'ms' },
    { group, name: 'latency p99', value: percentile(lat, 99), unit: 'ms' },
  ];
}

/** The p-th percentile (0–100) of values sorted in ascending order. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function split<T>(items: T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) => items.filter((_, k) => k % n === i));
}

const users = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `user${from + i}`);

export async function loginStorm(options: { count: number; mechanism: 'PLAIN' | 'SCRAM-SHA-256'; workers: number; server?: ServerKind }): Promise<BenchRow[]> {
  const server = await startTarget(options.server ?? 'switchboard', options.count);
  return underLoad(server, options.workers, async (workers) => {
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const replies = (await workers.all((i) => ({
      cmd: 'login', host: '127.0.0.1', port: server.port, domain: 'localhost', password: 'pass', mechanism: options.mechanism, concurrency: 25, keep: false,
      users: split(users(1, options.count), options.workers)[i]!,
    }))) as Extract<WorkerReply, { cmd: 'login' }>[];
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(server.pid) - cpu0;
    const ok = replies.reduce((n, r) => n + r.ok, 0);
    const failed = replies.reduce((n, r) => n + r.failed, 0);
    const ms = replies.flatMap((r) => r.ms).sort((a, b) => a - b);
    const g = `login (${options.mechanism}, plain TCP) — ${server.name}`;
    return [
      { group: g, name: 'logins/s', value: ok / seconds, unit: '/s', note: `${ok} ok, ${failed} failed` },
      { group: g, name: 'server CPU per login', value: (cpu * 1000) / ok, unit: 'ms' },
      { group: g, name: 'login latency p50', value: percentile(ms, 50), unit: 'ms' },
      { group: g, name: 'login latency p99', value: percentile(ms, 99), unit: 'ms' },
    ];
  });
}

export async function chatPairs(options: { pairs: number; seconds: number; window: number; workers: number; server?: ServerKind }): Promise<BenchRow[]> {
  const server = await startTarget(options.server ?? 'switchboard', options.pairs * 2);
  return underLoad(server, options.workers, async (workers) => {
    const perWorker = split(Array.from({ length: options.pairs }, (_, i) => i), options.workers);
    // Worker i logs in its pairs' two users each: sender at even index, receiver at odd.
    await workers.all((i) => ({
      cmd: 'login', host: '127.0.0.1', port: server.port, domain: 'localhost', password: 'pass', mechanism: 'PLAIN', concurrency: 20, keep: true,
      users: perWorker[i]!.flatMap((p) => [`user${2 * p + 1}`, `user${2 * p + 2}`]),
    }));
    await workers.all(() => ({ cmd: 'presence' }));
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const replies = (await workers.all((i) => ({
      cmd: 'chat', domain: 'localhost', durationMs: options.seconds * 1000, window: options.window, bodySize: 64,
      pairs: perWorker[i]!.map((_, k) => [2 * k, 2 * k + 1] as [number, number]),
    }))) as Extract<WorkerReply, { cmd: 'chat' }>[];
    return chatRows(`chat (${options.pairs} pairs, window ${options.window}) — ${server.name}`, replies, (performance.now() - t0) / 1000, cpuSeconds(server.pid) - cpu0);
  });
}

/**
 * The yardstick's chat load with our own generator: `users` online, each
 * sending one message every `intervalMs` to the next user, for `count`
 * messages each. Offered rate = users / interval. Server CPU is counted from
 * the first send to the last delivery.
 */
export async function pacedChat(options: { users: number; intervalMs: number; count: number; workers: number; server?: ServerKind; serverArgs?: string[]; label?: string }): Promise<BenchRow[]> {
  const server = options.serverArgs ? await startBenchServer(options.users, 0, { args: options.serverArgs }) : await startTarget(options.server ?? 'switchboard', options.users);
  return underLoad(server, options.workers, async (workers) => {
    const shares = split(users(1, options.users), options.workers);
    await workers.all((i) => ({
      cmd: 'login', host: '127.0.0.1', port: server.port, domain: 'localhost', password: 'pass', mechanism: 'PLAIN', concurrency: 20, keep: true, users: shares[i]!,
    }));
    await workers.all(() => ({ cmd: 'presence' }));
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const replies = (await workers.all(() => ({
      cmd: 'paced', domain: 'localhost', intervalMs: options.intervalMs, count: options.count, bodySize: 64,
    }))) as Extract<WorkerReply, { cmd: 'paced' }>[];
    const seconds = (performance.now() - t0) / 1000;
    // The CPU read waits 1.5 s, so what the server does behind the last delivery (the archive's write-behind
    // batch, archiveWriteDelayMs = 1 s) is counted; the sessions are idle then.
    await new Promise((r) => setTimeout(r, 1500));
    const offered = Math.round((options.users * 1000) / options.intervalMs);
    return chatRows(`chat paced (${options.users} users, ${offered} msgs/s offered) — ${options.label ?? server.name}`, replies, seconds, cpuSeconds(server.pid) - cpu0);
  });
}

/** bench/floor/forwarder.ts, pinned to CPU 0 as the servers are. */
async function startForwarder(readBuffer: 'per-read' | 'static'): Promise<BenchServer> {
  const cmd = [...pinned(0), process.execPath, '--import', 'tsx', join(ROOT, 'bench/floor/forwarder.ts'), ...(readBuffer === 'static' ? ['--read-buffer=static'] : [])];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`forwarder exited with ${code}`)));
  });
  return {
    name: 'node-floor',
    pid: child.pid!,
    port,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/**
 * The paced chat load against a bare Node TCP forwarder (no XML, no XMPP):
 * what Node's net stack and the kernel cost per message before any server
 * logic, to read the chat figures against.
 */
export async function nodeFloor(options: { users: number; intervalMs: number; count: number; readBuffer?: 'per-read' | 'static' }): Promise<BenchRow[]> {
  const readBuffer = options.readBuffer ?? 'per-read';
  const server = await startForwarder(readBuffer);
  return underLoad(server, 1, async (workers) => {
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const reply = (await workers.ask(0, { cmd: 'floor', port: server.port, users: options.users, intervalMs: options.intervalMs, count: options.count })) as Extract<WorkerReply, { cmd: 'floor' }>;
    const offered = Math.round((options.users * 1000) / options.intervalMs);
    const reads = readBuffer === 'static' ? ', one reused read buffer' : '';
    return chatRows(`bare Node TCP forwarder (${options.users} connections, ${offered} msgs/s offered${reads})`, [reply], (performance.now() - t0) / 1000, cpuSeconds(server.pid) - cpu0);
  });
}

/** Idle sessions over plain TCP, or (Switchboard only) over XEP-0368 direct TLS to state what TLS costs per session. */
export async function idleSessions(options: { sessions: number; workers: number; server?: ServerKind; tls?: boolean }): Promise<BenchRow[]> {
  const kind = options.server ?? 'switchboard';
  const server = options.tls ? await startBenchServer(options.sessions, 0, { tls: true }) : await startTarget(kind, options.sessions);
  return underLoad(server, options.workers, async (workers) => {
    await new Promise((r) => setTimeout(r, 1000));
    const base = rssKb(server.pid);
    const logins = (await workers.all((i) => ({
      cmd: 'login', host: '127.0.0.1', port: options.tls ? server.tlsPort! : server.port, tls: options.tls, domain: 'localhost', password: 'pass', mechanism: 'PLAIN', concurrency: 50, keep: true,
      users: split(users(1, options.sessions), options.workers)[i]!,
    }))) as Extract<WorkerReply, { cmd: 'login' }>[];
    const open = logins.reduce((n, r) => n + r.ok, 0);
    await workers.all(() => ({ cmd: 'presence' }));
    // Let the allocator settle, then take the median of a few samples.
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      samples.push(rssKb(server.pid));
    }
    samples.sort((a, b) => a - b);
    const rss = samples[2]!;
    const g = `idle (${options.sessions} authenticated sessions, ${options.tls ? 'direct TLS' : 'plain TCP'}) — ${server.name}`;
    return [
      { group: g, name: 'RSS per session', value: (rss - base) / open, unit: 'KB', note: `${open}/${options.sessions} sessions open` },
      { group: g, name: 'server RSS base / loaded', value: rss / 1024, unit: 'MB', note: `base ${(base / 1024).toFixed(1)} MB` },
    ];
  });
}

/**
 * Presence broadcast: N users whose rosters hold `contacts` mutual
 * subscriptions log in, then all send initial presence at once. Each must
 * receive its own presence and one from every contact (broadcast or probe
 * answer): N × (contacts + 1) presence stanzas.
 */
export async function presenceBroadcast(options: { users: number; contacts: number; workers: number }): Promise<BenchRow[]> {
  const server = await startBenchServer(options.users, options.contacts);
  return underLoad(server, options.workers, async (workers) => {
    await workers.all((i) => ({
      cmd: 'login', host: '127.0.0.1', port: server.port, domain: 'localhost', password: 'pass', mechanism: 'PLAIN', concurrency: 50, keep: true,
      users: split(users(1, options.users), options.workers)[i]!,
    }));
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const replies = (await workers.all(() => ({ cmd: 'broadcast', expected: options.contacts + 1, timeoutMs: 60_000 }))) as Extract<WorkerReply, { cmd: 'broadcast' }>[];
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(server.pid) - cpu0;
    const received = replies.reduce((n, r) => n + r.received, 0);
    const complete = replies.reduce((n, r) => n + r.complete, 0);
    const expected = options.users * (options.contacts + 1);
    const g = `presence (${options.users} users × ${options.contacts} contacts coming online at once)`;
    return [
      { group: g, name: 'presence stanzas delivered/s', value: received / seconds, unit: '/s', note: `${received}/${expected} delivered; ${complete}/${options.users} users complete` },
      { group: g, name: 'all online in', value: Math.max(...replies.map((r) => r.lastMs)), unit: 'ms' },
      { group: g, name: 'server CPU per initial presence', value: (cpu * 1000) / options.users, unit: 'ms' },
    ];
  });
}

/**
 * Offline delivery (XEP-0160): N senders send M messages each to N users
 * who are offline; then those log in and send initial presence, and every
 * stored message must arrive. Measures the store and the hand-over.
 */
export async function offlineDelivery(options: { users: number; messages: number }): Promise<BenchRow[]> {
  const server = await startBenchServer(options.users * 2);
  return underLoad(server, 2, async (workers) => {
    const senders = users(1, options.users);
    const recipients = users(options.users + 1, options.users);
    await workers.ask(0, { cmd: 'login', host: '127.0.0.1', port: server.port, domain: 'localhost', password: 'pass', mechanism: 'PLAIN', concurrency: 50, keep: true, users: senders });
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const sent = (await workers.ask(0, { cmd: 'send', to: recipients.map((u) => `${u}@localhost`), count: options.messages })) as Extract<WorkerReply, { cmd: 'send' }>;
    const storeSeconds = (performance.now() - t0) / 1000;
    const cpuStore = cpuSeconds(server.pid) - cpu0;
    await workers.ask(1, { cmd: 'login', host: '127.0.0.1', port: server.port, domain: 'localhost', password: 'pass', mechanism: 'PLAIN', concurrency: 50, keep: true, users: recipients });
    const cpu1 = cpuSeconds(server.pid);
    const drained = (await workers.ask(1, { cmd: 'drain', expected: options.messages, timeoutMs: 60_000 })) as Extract<WorkerReply, { cmd: 'drain' }>;
    const cpuDeliver = cpuSeconds(server.pid) - cpu1;
    const g = `offline (${options.users} users × ${options.messages} messages stored, then delivered at initial presence)`;
    return [
      { group: g, name: 'stored msgs/s', value: sent.sent / storeSeconds, unit: '/s' },
      { group: g, name: 'server CPU per stored message', value: (cpuStore * 1e6) / sent.sent, unit: 'µs' },
      { group: g, name: 'delivered after login', value: drained.received, unit: 'msgs', note: `${drained.received}/${sent.sent}; ${drained.complete}/${options.users} users complete in ${Math.round(drained.lastMs)} ms` },
      { group: g, name: 'server CPU per delivered message', value: (cpuDeliver * 1e6) / Math.max(1, drained.received), unit: 'µs' },
    ];
  });
}

/**
 * Issue #21, XEP-0280: `users` senders each send `messages` chats to the
 * first of a receiver's three resources (full JID). With carbons on at all
 * three, each message is delivered three times (the message and two
 * received carbons); off, once. The number to compare is server CPU per
 * delivered copy against per plain delivered message.
 */
export async function carbonsFanout(options: { users: number; messages: number; carbons: boolean; label?: string }): Promise<BenchRow[]> {
  const server = await startBenchServer(options.users * 2);
  return underLoad(server, 2, async (workers) => {
    const senders = users(1, options.users);
    const receivers = users(options.users + 1, options.users);
    const login = { cmd: 'login', host: '127.0.0.1', port: server.port, domain: 'localhost', password: 'pass', mechanism: 'PLAIN', concurrency: 50, keep: true } as const;
    await workers.ask(0, { ...login, users: senders });
    for (const resource of ['r1', 'r2', 'r3']) await workers.ask(1, { ...login, users: receivers, resource, carbons: options.carbons });
    const copies = options.users * options.messages * (options.carbons ? 3 : 1);
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const counted = workers.ask(1, { cmd: 'count', marker: '<body>offline ', expected: copies, timeoutMs: 60_000 }) as Promise<Extract<WorkerReply, { cmd: 'count' }>>;
    await workers.ask(0, { cmd: 'send', to: receivers.map((u) => `${u}@localhost/r1`), count: options.messages });
    const got = await counted;
    const cpu = cpuSeconds(server.pid) - cpu0;
    const seconds = (performance.now() - t0) / 1000;
    const g = `carbons fan-out (${options.users} senders × ${options.messages} chats to one of 3 resources, carbons ${options.carbons ? 'on' : 'off'})${options.label ? `, ${options.label}` : ''}`;
    return [
      { group: g, name: 'delivered copies/s', value: got.received / seconds, unit: '/s', note: `${got.received}/${copies} copies` },
      { group: g, name: 'server CPU per delivered copy', value: (cpu * 1e6) / Math.max(1, got.received), unit: 'µs' },
    ];
  });
}
