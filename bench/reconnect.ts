// Issue #19: reconnecting N clients after their links were cut, with
// XEP-0484 FAST + XEP-0386 Bind 2 + inline XEP-0198 resumption (one SASL2
// <authenticate/>), against an RFC 6120 login (SCRAM-SHA-256-PLUS, stream
// restart, <resume/>); and, with no session to resume (XEP-0198 off), FAST
// + Bind 2 against SCRAM + bind. Our client library in this process, the
// server in its own, STARTTLS on loopback: server CPU
// per reconnect (TLS handshakes included: a reconnect pays for one either
// way), and the client's writes from TCP connect to online, each of which
// waits for the server's answer (round trips, STARTTLS's included).
//
// All clients come back at once from 127.0.0.1: the bench server's
// pre-authentication gate (limits.preAuthTotal, 1,000 by default) is set to
// twice the clients, so what is measured is the login, not the gate shedding
// a thundering herd (a refusal would show as retries below). The defaults
// are not changed for it. With 1,000 clients the suite once never finished:
// SASL2 sessions stayed counted as unauthenticated (fixed in the c2s), so the
// gate refused every FAST reconnect while the sessions hibernated.

import { Client, type ClientOptions, type FastToken, type FastTokenStorage } from '@switchboard/client';
import { startProxy } from '@switchboard/testkit';
import { createTransport } from '../packages/client/src/transport/create.ts';
import { NODE_PLATFORM } from '../packages/client/src/transport/node-platform.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, percentile, startBenchServer } from './e2e.ts';
import type { BenchRow } from './row.ts';

class MemoryTokens implements FastTokenStorage {
  token: FastToken | undefined;
  async load(): Promise<FastToken | undefined> {
    return this.token;
  }
  async save(token: FastToken | undefined): Promise<void> {
    this.token = token;
  }
}

type Mode = { login: 'fast' | 'scram'; resume: boolean };

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

async function run(n: number, mode: Mode): Promise<BenchRow[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-reconnect-'));
  const server = await startBenchServer(n, 0, { args: ['--sasl2', '--limits.pre-auth-total', String(Math.max(1000, 2 * n))], dataDir });
  // STARTTLS with the certificate the server made, trusted as a real deployment's would be (TLS 1.3).
  const ca = readFileSync(join(dataDir, 'localhost.crt'), 'utf8');
  const proxy = await startProxy(server.port);
  const clients: { client: Client; writes: number; counting: boolean; ms: number }[] = [];
  /** What the clients were told when an attempt failed, counted (a cut link is one per client). */
  const errors = new Map<string, number>();
  const phase = (what: string, t0: number): void => console.error(`reconnect ${mode.login}${mode.resume ? '+resume' : ''} ${n}: ${what} ${((performance.now() - t0) / 1000).toFixed(1)} s, errors ${JSON.stringify([...errors])}`);
  try {
    for (let i = 1; i <= n; i++) {
      const entry = { client: undefined as unknown as Client, writes: 0, counting: false, ms: 0 };
      const options: ClientOptions = {
        domain: 'localhost', username: `user${i}`, password: 'pass', resource: 'r', mechanisms: ['SCRAM-SHA-256-PLUS'],
        transport: { kind: 'tcp', host: '127.0.0.1', port: proxy.port, tlsOptions: { ca } }, initialPresence: false, keepalive: false, timeoutMs: 60_000,
        retry: { delayMs: 50, jitter: 1 }, sasl2: mode.login === 'fast', streamManagement: mode.resume,
        userAgent: { id: crypto.randomUUID() }, ...(mode.login === 'fast' ? { fast: new MemoryTokens() } : {}),
        transportFactory: (o) => {
          const t = createTransport(o, NODE_PLATFORM);
          const send = t.send.bind(t);
          t.send = (text: string) => {
            if (entry.counting) entry.writes++;
            send(text);
          };
          return t;
        },
      };
      entry.client = new Client(options);
      entry.client.on('error', (e) => {
        const key = `${e.code} ${e.message.slice(0, 80)}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      });
      clients.push(entry);
    }
    // First logins (with the password; FAST clients get their token here).
    const tLogin = performance.now();
    await inBatches(clients, 50, async (c) => void (await c.client.connect()));
    phase('first logins', tLogin);
    errors.clear();
    let retries = 0;
    for (const c of clients) c.client.on('retrying', () => retries++);
    await new Promise((r) => setTimeout(r, 500));
    const back = clients.map((c) => new Promise<void>((resolve) => {
      let t0 = 0;
      c.client.on('state', ({ to }) => {
        if (to === 'Connected') t0 = performance.now();
        if (to === 'Binded') {
          c.counting = false;
          c.ms = performance.now() - t0;
          resolve();
        }
      });
      c.counting = true;
    }));
    const cpu0 = cpuSeconds(server.pid);
    const start = performance.now();
    proxy.cutAll();
    const progress = setInterval(() => phase(`${clients.filter((c) => c.client.state === 'Binded').length} back after`, start), 10_000);
    await Promise.all(back).finally(() => clearInterval(progress));
    const seconds = (performance.now() - start) / 1000;
    const cpu = cpuSeconds(server.pid) - cpu0;
    const writes = clients.map((c) => c.writes).sort((a, b) => a - b);
    const ms = clients.map((c) => c.ms).sort((a, b) => a - b);
    const g = `reconnect of ${n} (${mode.login === 'fast' ? 'FAST HT-SHA-256-EXPR + Bind 2' : 'SCRAM-SHA-256-PLUS + restart'}${mode.resume ? ' + resumption' : mode.login === 'fast' ? '' : ' + bind'}, STARTTLS, TLS 1.3)`;
    return [
      { group: g, name: 'server CPU per reconnect', value: (cpu * 1000) / n, unit: 'ms', note: `${(cpu * 1000).toFixed(0)} ms for ${n}, cut to all back ${seconds.toFixed(2)} s` },
      { group: g, name: 'round trips (client writes, connect to online) p50', value: percentile(writes, 50), unit: '', note: `max ${writes.at(-1)}` },
      { group: g, name: 'reconnect latency p50', value: percentile(ms, 50), unit: 'ms', note: `p99 ${percentile(ms, 99).toFixed(1)} ms` },
      // One per client for the cut itself; more means attempts refused or failed on the way back.
      { group: g, name: 'attempts failed per client', value: retries / n, unit: '', note: [...errors].map(([k, v]) => `${v}× ${k}`).join('; ') },
    ];
  } finally {
    await inBatches(clients, 100, (c) => c.client.disconnect());
    await proxy.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Both logins with resumption, then both without a session to resume, in one run; the ratios last. */
export async function reconnectSuite(n = Number(process.env.SWITCHBOARD_BENCH_RECONNECT ?? 1000)): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const cpu: Record<string, number> = {};
  for (const resume of [true, false]) {
    for (const login of ['fast', 'scram'] as const) {
      const r = await run(n, { login, resume });
      cpu[`${login}-${resume}`] = r[0]!.value;
      rows.push(...r);
    }
    const what = resume ? 'with resumption' : 'new session';
    rows.push({ group: `reconnect, ${what}: FAST / SCRAM`, name: 'server CPU per reconnect', value: cpu[`fast-${resume}`]! / cpu[`scram-${resume}`]!, unit: '×' });
  }
  return rows;
}
