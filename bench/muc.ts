// Issue #20 group chat benchmarks, Switchboard, Prosody and ejabberd (mod_muc) on the
// same load in the same run, each server in its own process pinned to CPU 0
// (CPU read from /proc), the load from this process:
//  - fan-out: a room of OCCUPANTS, SENDERS occupants sending one message a
//    second each for SECONDS: server CPU per delivered copy, copies lost,
//    p99 from send to the last occupant's receipt;
//  - join: JOINERS more users entering that room, each asking for 50
//    messages of history: server CPU per join;
//  - idle rooms (Switchboard): ROOMS persistent rooms stored, loaded on
//    first use; RSS per loaded idle room, and none loaded at start.
// Sizes: MUC_OCCUPANTS (500), MUC_RATE msgs/s (10), MUC_SECONDS (10),
// MUC_JOINERS (50), MUC_ROOMS (10000; 0 skips), MUC_SERVERS (prosody,ejabberd).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { cpuSeconds, startBenchServer, type BenchServer } from './e2e.ts';
import type { BenchRow } from './row.ts';

const OCCUPANTS = Number(process.env.MUC_OCCUPANTS ?? 500);
const RATE = Number(process.env.MUC_RATE ?? 10);
const SECONDS = Number(process.env.MUC_SECONDS ?? 10);
const JOINERS = Number(process.env.MUC_JOINERS ?? 50);
const ROOMS = Number(process.env.MUC_ROOMS ?? 10_000);
/** The other servers on the same load (MUC_SERVERS, comma-separated; Switchboard always runs). */
const SERVERS = (process.env.MUC_SERVERS ?? 'prosody,ejabberd').split(',').filter((s) => s !== '');
const HISTORY = 50;
const ROOM = 'bench@conference.localhost';
const MUC = 'http://jabber.org/protocol/muc';

/** A thin load client: raw TCP, PLAIN, string matching; after the join it only counts what arrives. */
class RawClient {
  private buffer = '';
  onData: ((chunk: string) => void) | undefined;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => {
      if (this.onData) this.onData(chunk);
      else this.buffer += chunk;
    });
    socket.on('error', () => {});
  }
  static connect(host: string, port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }
  send(data: string): void {
    this.socket.write(data);
  }
  received(): string {
    return this.buffer;
  }
  async waitFor(pattern: RegExp, ms = 30_000): Promise<void> {
    const start = Date.now();
    while (!pattern.test(this.buffer)) {
      if (Date.now() - start > ms) throw new Error(`bench muc: timed out waiting for ${pattern}: ${this.buffer.slice(-300)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  async login(domain: string, user: string, password: string, resource: string, _mechanism: 'PLAIN'): Promise<void> {
    const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;
    this.send(header);
    await this.waitFor(/<\/stream:features>/);
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${password}`).toString('base64')}</auth>`);
    await this.waitFor(/<success/);
    this.buffer = '';
    this.send(header);
    await this.waitFor(/<\/stream:features>/);
    this.send(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    await this.waitFor(/<\/jid>/);
    this.buffer = '';
  }
  async presence(): Promise<void> {
    this.send(`<presence/><iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await this.waitFor(/id=["']p["']/);
    this.buffer = '';
  }
  close(): void {
    this.socket.destroy();
  }
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

async function startProsodyMuc(users: number): Promise<BenchServer> {
  const { startProsody } = await import('@switchboard/testkit');
  const { loadTlsMaterial } = await import('../packages/server/src/tls/certificate.ts');
  const certDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-tls-'));
  await loadTlsMaterial({ domain: 'localhost', dataDir: certDir });
  const prosody = await startProsody({ users: [], benchUsers: { count: users, password: 'pass' }, plaintext: true, certificates: { cert: join(certDir, 'localhost.crt'), key: join(certDir, 'localhost.key') }, muc: { maxHistory: HISTORY } });
  if (spawnSync('taskset', ['--version']).status === 0) spawnSync('taskset', ['-a', '-p', '-c', '0', String(prosody.pid)], { stdio: 'ignore' });
  return { name: 'prosody', pid: prosody.pid, port: prosody.c2sPort, stop: () => prosody.stop().then(() => rmSync(certDir, { recursive: true, force: true })) };
}

/** Debian's ejabberd 23.01 (testkit launcher) with mod_muc, plain TCP and PLAIN, pinned to CPU 0. */
async function startEjabberdMuc(users: number): Promise<BenchServer> {
  const { startEjabberd } = await import('@switchboard/testkit');
  const ejabberd = await startEjabberd({ users: [], benchUsers: { count: users, password: 'pass' }, plaintext: true, muc: { maxHistory: HISTORY } });
  if (spawnSync('taskset', ['--version']).status === 0) spawnSync('taskset', ['-a', '-p', '-c', '0', String(ejabberd.pid)], { stdio: 'ignore' });
  return { name: 'ejabberd', pid: ejabberd.pid, port: ejabberd.c2sPort, stop: () => ejabberd.stop() };
}

/** Logs `user<n>` in and waits for the end of its join (the subject message). */
async function occupant(port: number, n: number, history: number, onData?: (chunk: string) => void): Promise<RawClient> {
  const c = await RawClient.connect('127.0.0.1', port);
  await c.login('localhost', `user${n}`, 'pass', 'muc', 'PLAIN');
  await c.presence();
  c.send(`<presence to='${ROOM}/u${n}'><x xmlns='${MUC}'><history maxstanzas='${history}'/></x></presence>`);
  await c.waitFor(/<subject[\s/>]/);
  c.onData = onData;
  return c;
}

type Kind = 'switchboard' | 'prosody' | 'ejabberd';

async function fanOutAndJoin(kind: Kind): Promise<BenchRow[]> {
  const users = OCCUPANTS + JOINERS;
  const server = kind === 'prosody' ? await startProsodyMuc(users) : kind === 'ejabberd' ? await startEjabberdMuc(users) : await startBenchServer(users);
  const clients: RawClient[] = [];
  const group = `muc ${OCCUPANTS} occupants — ${kind}`;
  try {
    // The owner creates the room and makes it an instant room (§10.1.2).
    const owner = await RawClient.connect('127.0.0.1', server.port);
    await owner.login('localhost', 'user1', 'pass', 'muc', 'PLAIN');
    await owner.presence();
    owner.send(`<presence to='${ROOM}/u1'><x xmlns='${MUC}'/></presence>`);
    await owner.waitFor(/status code=["']201["']/);
    // ejabberd refuses fields it does not know; its history length is the service's (mod_muc history_size).
    const historyFields = kind === 'ejabberd' ? '' : `<field var='muc#maxhistoryfetch'><value>${HISTORY}</value></field><field var='muc#roomconfig_historylength'><value>${HISTORY}</value></field>`;
    owner.send(`<iq type='set' id='cfg' to='${ROOM}'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#roomconfig</value></field><field var='muc#roomconfig_maxusers'><value>none</value></field>${historyFields}</x></query></iq>`);
    await owner.waitFor(/id=["']cfg["'][^>]*type=["']result|type=["']result["'][^>]*id=["']cfg/);
    clients.push(owner);

    const received = new Map<string, number>();
    const lastAt = new Map<string, number>();
    const count = (chunk: string): void => {
      const now = performance.now();
      for (const m of chunk.matchAll(/<body>(m\d+)<\/body>/g)) {
        received.set(m[1]!, (received.get(m[1]!) ?? 0) + 1);
        lastAt.set(m[1]!, now);
      }
    };
    owner.onData = count;
    for (let n = 2; n <= OCCUPANTS; n += 25) {
      const batch = [];
      for (let k = n; k < Math.min(n + 25, OCCUPANTS + 1); k++) batch.push(occupant(server.port, k, 0, count));
      clients.push(...(await Promise.all(batch)));
    }

    // Fan-out: RATE messages a second, spread over the occupants.
    const sentAt = new Map<string, number>();
    const cpu0 = cpuSeconds(server.pid);
    const total = RATE * SECONDS;
    for (let i = 0; i < total; i++) {
      const id = `m${i}`;
      sentAt.set(id, performance.now());
      clients[(i * 7) % clients.length]!.send(`<message to='${ROOM}' type='groupchat'><body>${id}</body></message>`);
      await new Promise((r) => setTimeout(r, 1000 / RATE));
    }
    const expected = total * OCCUPANTS;
    const deadline = Date.now() + 15_000;
    while ([...received.values()].reduce((a, b) => a + b, 0) < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const cpu = cpuSeconds(server.pid) - cpu0;
    const delivered = [...received.values()].reduce((a, b) => a + b, 0);
    const latencies = [...sentAt].filter(([id]) => received.get(id) === OCCUPANTS).map(([id, t]) => lastAt.get(id)! - t).sort((a, b) => a - b);
    const p99 = latencies.length > 0 ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]! : NaN;
    const rows: BenchRow[] = [
      { group, name: 'copies delivered', value: delivered, unit: 'copies', note: `${expected - delivered} of ${expected} missing` },
      { group, name: 'server CPU per delivered copy', value: (cpu * 1e6) / Math.max(delivered, 1), unit: 'µs' },
      { group, name: 'p99 send → last occupant', value: p99, unit: 'ms' },
    ];

    // Joins with 50 messages of history into the full room.
    // Spread over the occupants: one sender at this pace would hit a flood limit.
    for (let i = 0; i < HISTORY; i++) clients[(i * 11) % clients.length]!.send(`<message to='${ROOM}' type='groupchat'><body>h${i}</body></message>`);
    await new Promise((r) => setTimeout(r, 2000));
    const joinCpu0 = cpuSeconds(server.pid);
    let historyCopies = 0;
    for (let n = OCCUPANTS + 1; n <= OCCUPANTS + JOINERS; n++) {
      const c = await RawClient.connect('127.0.0.1', server.port);
      await c.login('localhost', `user${n}`, 'pass', 'muc', 'PLAIN');
      await c.presence();
      c.send(`<presence to='${ROOM}/u${n}'><x xmlns='${MUC}'><history maxstanzas='${HISTORY}'/></x></presence>`);
      await c.waitFor(/<subject[\s/>]/);
      historyCopies += (c.received().match(/<body>h\d+<\/body>/g) ?? []).length;
      clients.push(c);
    }
    const joinCpu = cpuSeconds(server.pid) - joinCpu0;
    rows.push({ group, name: `server CPU per join (with login), ${HISTORY} history`, value: (joinCpu * 1e3) / JOINERS, unit: 'ms', note: `${historyCopies / JOINERS} history messages per join` });
    return rows;
  } finally {
    for (const c of clients) c.close();
    await server.stop();
  }
}

/** RSS of ROOMS stored persistent rooms loaded (disco#info on each), and that a start loads none. */
async function idleRooms(): Promise<BenchRow[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-rooms-'));
  const { openSqliteStorage } = await import('../packages/server/src/storage/sqlite/sqlite-storage.ts');
  const { DEFAULT_ROOM_CONFIG } = await import('../packages/server/src/muc/types.ts');
  const store = openSqliteStorage(join(dataDir, 'switchboard.sqlite'));
  for (let i = 0; i < ROOMS; i++) {
    const doc = { v: 1, config: { ...DEFAULT_ROOM_CONFIG, persistent: true, name: `Room ${i}` }, affiliations: [['user1@localhost', { affiliation: 'owner' }]], idSalt: `s${i}` };
    await store.muc.putRoom('conference.localhost', `r${i}`, JSON.stringify(doc), { public: true, name: `Room ${i}` });
  }
  await store.close();
  const server = await startBenchServer(1, 0, { dataDir });

  const c = await RawClient.connect('127.0.0.1', server.port);
  try {
    await c.login('localhost', 'user1', 'pass', 'rooms', 'PLAIN');
    await c.presence();
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssKb(server.pid);
    for (let i = 0; i < ROOMS; i += 100) {
      for (let k = i; k < Math.min(i + 100, ROOMS); k++) c.send(`<iq type='get' id='i${k}' to='r${k}@conference.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      await c.waitFor(new RegExp(`id=["']i${Math.min(i + 100, ROOMS) - 1}["']`));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const after = rssKb(server.pid);
    return [{ group: `muc ${ROOMS} idle persistent rooms — switchboard`, name: 'RSS per loaded idle room', value: ((after - before) * 1024) / ROOMS, unit: 'bytes', note: `RSS ${before} → ${after} kB; none loaded at start (lazy)` }];
  } finally {
    c.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function mucSuite(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const sb = await fanOutAndJoin('switchboard');
  rows.push(...sb);
  for (const other of ['prosody', 'ejabberd'] as const) {
    if (!SERVERS.includes(other)) continue;
    const theirs = await fanOutAndJoin(other);
    rows.push(...theirs);
    for (const r of sb) {
      const them = theirs.find((p) => p.name === r.name);
      if (them && r.unit !== 'copies') rows.push({ group: `muc ${OCCUPANTS} occupants — ratio Switchboard / ${other}`, name: r.name, value: r.value / them.value, unit: '×' });
    }
  }
  if (ROOMS > 0) rows.push(...(await idleRooms()));
  return rows;
}
