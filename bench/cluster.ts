// Issue #17's numbers, with real processes over a nats-server of the bench's
// own: how long until contacts see a killed c2s's users go unavailable, how
// long until a standby sm serves after the active one is killed, and the
// server CPU per message of a cluster (2 c2s + sm + its standby, over NATS)
// against the single process (in-process router) on the same load; and how
// long until a MUC shard whose process was killed is served by the other
// MUC process, and until its occupants' self-ping is answered (#20).
//
// The servers run through tsx, as the fault tests start them; CPU is read
// from /proc for every server process (and nats-server, shown apart), over
// the load only.

import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { startNatsServer } from '@switchboard/testkit';
import { RawClient, waitFor } from '../packages/server/test/helpers.ts';
import { addUsers, kill, serves, startRole, type ClusterOptions, type RoleProcess } from '../packages/server/test/cluster-kit.ts';
import { ServiceShards } from '../packages/server/src/router/service-shards.ts';
import { ShardMap } from '../packages/server/src/router/shards.ts';
import type { BenchRow } from './row.ts';

const CLK_TCK = 100;
const cpu = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const unavailableFrom = (text: string, jid: string): boolean =>
  [...text.matchAll(/<presence\b[^>]*>/g)].some((m) => m[0].includes(`from="${jid}"`) && m[0].includes('type="unavailable"'));

/** Pairs of clients, senders on `sendPort`, receivers on `recvPort`; each sender sends `count` messages in windows of 50. */
async function chatLoad(sendPort: number, recvPort: number, pairs: number, count: number): Promise<number> {
  const clients: RawClient[] = [];
  const work: Promise<void>[] = [];
  for (let p = 1; p <= pairs; p++) {
    const s = await RawClient.connect(sendPort);
    const r = await RawClient.connect(recvPort);
    clients.push(s, r);
    await s.login(`s${p}`, 'pw', 'x');
    const rJid = await r.login(`r${p}`, 'pw', 'x');
    work.push((async () => {
      for (let sent = 0; sent < count; sent += 50) {
        let chunk = '';
        for (let i = sent; i < sent + 50; i++) chunk += `<message to='${rJid}' type='chat'><body>m${i}</body></message>`;
        s.send(chunk);
        await waitFor(() => (r.received.match(/<\/message>/g)?.length ?? 0) >= 50, 30_000, 'chunk').catch((e: Error) => { throw new Error(`${e.message}: receiver ${r.received.slice(-300)} sender ${s.received.slice(-300)}`); });
        r.received = '';
      }
    })());
  }
  const t0 = Date.now();
  await Promise.all(work);
  for (const c of clients) c.close();
  return Date.now() - t0;
}

export async function clusterBench(options: { pairs: number; messages: number; rounds: number }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-cluster-'));
  const o: ClusterOptions = { dir, natsUrl: nats.url, prefix: `sbb${randomBytes(4).toString('hex')}` };
  const users = ['alice', 'bob'];
  for (let p = 1; p <= options.pairs; p++) users.push(`s${p}`, `r${p}`);
  addUsers(o, users);
  const procs: RoleProcess[] = [];
  const group = 'cluster (2 c2s + sm + standby, NATS)';
  try {
    let sm = await startRole(o, 'sm');
    const standby = await startRole(o, 'sm', /standing by/);
    let c2sA = await startRole(o, 'c2s');
    const c2sB = await startRole(o, 'c2s');
    procs.push(sm, standby, c2sA, c2sB);

    // CPU per message: senders on one c2s, receivers on the other, every message crossing NATS twice.
    const servers = [sm, standby, c2sA, c2sB];
    for (const p of servers) if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}: ${p.log.slice(-1500)}`);
    const before = servers.map((p) => cpu(p.child.pid!));
    const natsPid = Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nats-server')));
    const natsBefore = cpu(natsPid);
    const ms = await chatLoad(c2sA.port!, c2sB.port!, options.pairs, options.messages);
    const total = options.pairs * options.messages;
    const used = servers.reduce((sum, p, i) => sum + cpu(p.child.pid!) - before[i]!, 0);
    const natsUsed = cpu(natsPid) - natsBefore;
    rows.push({ group, name: 'server CPU per message', value: (used / total) * 1e6, unit: 'µs', note: `${total} messages in ${ms} ms; sm, standby and both c2s` });
    rows.push({ group, name: 'nats-server CPU per message', value: (natsUsed / total) * 1e6, unit: 'µs' });

    // c2s death → contacts see unavailable.
    const told: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const alice = await RawClient.connect(c2sA.port!);
      const bob = await RawClient.connect(c2sB.port!);
      await alice.login('alice', 'pw', 'a');
      await bob.login('bob', 'pw', 'b');
      alice.send("<presence to='bob@localhost/b'/>");
      await bob.expect(/<presence[^>]*from="alice@localhost\/a"/);
      const t0 = Date.now();
      await kill(c2sA, 'SIGKILL');
      await waitFor(() => unavailableFrom(bob.received, 'alice@localhost/a'), 10_000, 'unavailable');
      told.push(Date.now() - t0);
      alice.close();
      bob.close();
      c2sA = await startRole(o, 'c2s');
      procs.push(c2sA);
    }
    rows.push({ group, name: 'c2s kill -9 → contacts see unavailable', value: median(told), unit: 'ms', note: `median of ${told.join(', ')} (heartbeat 0.5 s, dead after 2 s)` });

    // sm death → the standby serves.
    const t0 = Date.now();
    await kill(sm, 'SIGKILL');
    await waitFor(() => /sm for localhost/.test(standby.log), 20_000, 'standby serving');
    rows.push({ group, name: 'sm kill -9 → standby serving', value: Date.now() - t0, unit: 'ms', note: 'lease TTL = dead after = 2 s' });
    sm = standby;
  } finally {
    for (const p of procs) await kill(p, 'SIGKILL');
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  }

  rows.push(...(await shardedBench(options, users)));
  rows.push(...(await mucFailoverBench(options.rounds)));

  // The same load on the single process.
  const single = mkdtempSync(join(tmpdir(), 'switchboard-bench-single-'));
  const so: ClusterOptions = { dir: single, natsUrl: '', prefix: '' };
  addUsers(so, users);
  const CLI = new URL('../packages/server/src/cli/main.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--data-dir', single, '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1', '--allow-plaintext-on-loopback'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const port = await new Promise<number>((resolve) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = out.match(/c2s 127\.0\.0\.1:(\d+)/);
        if (m) resolve(Number(m[1]));
      });
    });
    const before = cpu(child.pid!);
    const ms = await chatLoad(port, port, options.pairs, options.messages);
    const total = options.pairs * options.messages;
    const value = ((cpu(child.pid!) - before) / total) * 1e6;
    rows.push({ group: 'single process (in-process router)', name: 'server CPU per message', value, unit: 'µs', note: `${total} messages in ${ms} ms` });
    const clusterCpu = rows.find((r) => r.group === group && r.name === 'server CPU per message')!.value;
    rows.push({ group: 'cluster / single process', name: 'server CPU per message', value: clusterCpu / value, unit: '×', note: 'nats-server not included' });
    const shardedCpu = rows.find((r) => r.group === SHARDED && r.name === 'server CPU per message')!.value;
    rows.push({ group: 'sharded cluster / single process', name: 'server CPU per message', value: shardedCpu / value, unit: '×', note: 'nats-server not included' });
  } finally {
    child.kill('SIGKILL');
    rmSync(single, { recursive: true, force: true });
  }
  return rows;
}

const SHARDED = 'sharded cluster (2 c2s + 2 sm shards + standby, NATS)';

/** The same load on two sm shards (users spread by SHA-1 of the bare JID, so about half the messages cross shards), and an sm's death. */
async function shardedBench(options: { pairs: number; messages: number }, users: string[]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-shards-'));
  const o: ClusterOptions = { dir, natsUrl: nats.url, prefix: `sbk${randomBytes(4).toString('hex')}`, config: { shards: 2 } };
  addUsers(o, users);
  const procs: RoleProcess[] = [];
  const serving = (p: RoleProcess, k: number): boolean => p.log.lastIndexOf(`serving sm/shard-${k} `) > p.log.lastIndexOf(`lease sm_shard-${k} released`);
  try {
    const smA = await startRole(o, 'sm');
    const smB = await startRole(o, 'sm');
    procs.push(smA, smB);
    await waitFor(() => (serving(smA, 0) && serving(smB, 1)) || (serving(smA, 1) && serving(smB, 0)), 20_000, 'one shard each');
    const standby = await startRole(o, 'sm', /standing by/);
    const c2sA = await startRole(o, 'c2s');
    const c2sB = await startRole(o, 'c2s');
    procs.push(standby, c2sA, c2sB);
    const servers = [smA, smB, standby, c2sA, c2sB];
    const before = servers.map((p) => cpu(p.child.pid!));
    const ms = await chatLoad(c2sA.port!, c2sB.port!, options.pairs, options.messages);
    const total = options.pairs * options.messages;
    const used = servers.reduce((sum, p, i) => sum + cpu(p.child.pid!) - before[i]!, 0);
    const crossing = users.filter((u) => u.startsWith('s')).filter((u) => new ShardMap(2).indexOf(`${u}@localhost`) !== new ShardMap(2).indexOf(`r${u.slice(1)}@localhost`)).length;
    rows.push({ group: SHARDED, name: 'server CPU per message', value: (used / total) * 1e6, unit: 'µs', note: `${total} messages in ${ms} ms; ${crossing} of ${options.pairs} pairs across shards; both sms, standby and both c2s` });
    // The death of shard 0's sm → the standby serves shard 0.
    const victim = serving(smA, 0) ? smA : smB;
    const t0 = Date.now();
    await kill(victim, 'SIGKILL');
    await waitFor(() => serving(standby, 0), 20_000, 'standby serving shard 0');
    rows.push({ group: SHARDED, name: 'sm kill -9 → standby serving its shard', value: Date.now() - t0, unit: 'ms', note: 'lease TTL = dead after = 2 s' });
  } finally {
    for (const p of procs) await kill(p, 'SIGKILL');
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const MUC_GROUP = 'MUC in 2 shards over 2 processes of its own (sm, c2s, NATS)';

/**
 * Service shards (#20): the process owning shard 1 of the MUC is killed, `rounds` times (a new MUC process joins
 * after each, and takes shard 1 back by the clean handover). Measured: from the kill to the other process serving
 * the shard (its log), and to an occupant's XEP-0410 self-ping answered by the new owner (not-acceptable: rejoin).
 */
async function mucFailoverBench(rounds: number): Promise<BenchRow[]> {
  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-muc-'));
  const o: ClusterOptions = { dir, natsUrl: nats.url, prefix: `sbm${randomBytes(4).toString('hex')}`, config: { serviceShards: 2, services: 'own-process' } };
  addUsers(o, ['alice']);
  const shards = new ServiceShards('conference.localhost', 2);
  let room = 'room0';
  for (let i = 1; shards.indexOf(`${room}@conference.localhost`) !== 1; i++) room = `room${i}`;
  const procs: RoleProcess[] = [];
  const takeovers: number[] = [];
  const pinged: number[] = [];
  const MUC = 'http://jabber.org/protocol/muc';
  try {
    const [sm, c2s, ...mucs] = await Promise.all([startRole(o, 'sm'), startRole(o, 'c2s'), startRole(o, 'muc'), startRole(o, 'muc')]);
    procs.push(sm, c2s, ...mucs);
    const alice = await RawClient.connect(c2s.port!);
    await alice.login('alice', 'pw', 'a');
    alice.send('<presence/>');
    const owner = (k: number): RoleProcess | undefined => mucs.find((p) => serves(p, shards.address(k)));
    for (let r = 0; r < rounds; r++) {
      await waitFor(() => owner(0) !== undefined && owner(1) !== undefined && owner(0) !== owner(1), 20_000, 'one MUC shard each');
      alice.received = '';
      alice.send(`<presence to='${room}@conference.localhost/Alice'><x xmlns='${MUC}'/></presence>`);
      await alice.expect(/<status code="110"\/>/, 10_000);
      // Persistent, so the new owner has the room (without occupants) and answers not-acceptable, not item-not-found.
      if (r === 0) {
        alice.send(`<iq type='set' id='cfg' to='${room}@conference.localhost'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#roomconfig</value></field><field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query></iq>`);
        await alice.expect(/<iq(?=[^>]*id="cfg")[^>]*type="result"/);
      }
      const victim = owner(1)!;
      const other = mucs.find((p) => p !== victim && serves(p, shards.address(0)))!;
      alice.received = '';
      const t0 = Date.now();
      await kill(victim, 'SIGKILL');
      let n = 0;
      let served = 0;
      // A self-ping every 100 ms, as an impatient client would: remote-server-timeout until the new owner answers.
      while (!/<not-acceptable/.test(alice.received) && Date.now() - t0 < 20_000) {
        alice.send(`<iq type='get' id='sp${++n}' to='${room}@conference.localhost/Alice'><ping xmlns='urn:xmpp:ping'/></iq>`);
        await new Promise((res) => setTimeout(res, 100));
        if (!served && serves(other, shards.address(1))) served = Date.now() - t0;
      }
      pinged.push(Date.now() - t0);
      takeovers.push(served || Date.now() - t0);
      mucs.splice(mucs.indexOf(victim), 1);
      const joined = await startRole(o, 'muc');
      procs.push(joined);
      mucs.push(joined);
    }
    alice.close();
  } finally {
    for (const p of procs) await kill(p, 'SIGKILL');
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    { group: MUC_GROUP, name: 'MUC process kill -9 → other serves its shard', value: median(takeovers), unit: 'ms', note: `median of ${takeovers.join(', ')} (lease TTL = dead after = 2 s)` },
    { group: MUC_GROUP, name: 'MUC process kill -9 → self-ping answered (rejoin)', value: median(pinged), unit: 'ms', note: `median of ${pinged.join(', ')}; a ping every 100 ms` },
  ];
}
