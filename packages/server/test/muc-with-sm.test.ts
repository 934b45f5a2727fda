// Group chat beside the sm (`services: "with-sm"`) with two sm processes
// (#20, #17), over the test's own nats-server: both processes host the MUC,
// but its one shard has a lease, so only one serves it and the other stands
// by. Before service leases both served every room: each message came twice,
// rooms split. Users on both sm shards and both c2s talk in one room, each
// message exactly once; then the process serving the MUC is killed (kill -9):
// the other takes its sm shard and the MUC, the occupants learn by self-ping
// that they are out (not-acceptable), rejoin, and the talk goes on.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type NatsServer } from '@switchboard/testkit';
import { RawClient, waitFor } from './helpers.ts';
import { account, addUsers, ids, kill, serves, startRole, usersByShard, type ClusterOptions, type RoleProcess } from './cluster-kit.ts';
import { ShardMap } from '../src/router/shards.ts';

const MUC = 'http://jabber.org/protocol/muc';
const SERVICE = 'conference.localhost';
const ROOM = `team@${SERVICE}`;
const smShards = new ShardMap(2);

describe('services with-sm beside two sm processes: one owner per room', { timeout: 120_000 }, () => {
  let nats: NatsServer;
  let dir: string;
  let o: ClusterOptions;
  const sms: RoleProcess[] = [];
  const all: RoleProcess[] = [];
  const ports: number[] = [];
  const [zero, one] = usersByShard(smShards, 'w');
  /** One user of each sm shard, on different c2s processes. */
  const users = [zero![0]!, one![0]!];
  const clients: RawClient[] = [];

  const mucOwner = (): RoleProcess | undefined => sms.find((p) => serves(p, `component/${SERVICE}`));

  before(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-muc-with-sm-'));
    o = { dir, natsUrl: nats.url, prefix: `sbws${randomBytes(4).toString('hex')}`, config: { shards: 2, services: 'with-sm' } };
    addUsers(o, users);
    const [smA, smB, c2sA, c2sB] = await Promise.all([startRole(o, 'sm'), startRole(o, 'sm'), startRole(o, 'c2s'), startRole(o, 'c2s')]);
    sms.push(smA, smB);
    all.push(smA, smB, c2sA, c2sB);
    ports.push(c2sA.port!, c2sB.port!);
    await waitFor(() => smShards.addresses().every((a) => sms.some((p) => serves(p, a))) && !smShards.addresses().every((a) => serves(smA, a)), 15_000, 'one sm shard each');
    await waitFor(() => mucOwner() !== undefined, 15_000, 'the MUC served');
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const p of all) await kill(p, 'SIGKILL');
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function online(i: number): Promise<RawClient> {
    const c = await RawClient.connect(ports[i]!);
    await c.login(users[i]!, 'pw', `r${Date.now()}`);
    c.send('<presence/>');
    clients[i] = c;
    return c;
  }

  async function enterRoom(i: number): Promise<void> {
    const c = clients[i]!;
    c.send(`<presence to='${ROOM}/N${i}'><x xmlns='${MUC}'/></presence>`);
    await c.expect(new RegExp(`<presence[^>]*from="${ROOM}/N${i}"[^>]*>(?:(?!</presence>).)*<status code="110"/>`), 10_000);
  }

  /** Each user sends `n` numbered messages to the room; the other gets each exactly once. */
  async function burst(tag: string, n: number): Promise<void> {
    for (let k = 1; k <= n; k++) for (const [i, c] of clients.entries()) c.send(`<message to='${ROOM}' type='groupchat' id='${tag}${i}-${k}'><body>${k}</body></message>`);
    await waitFor(() => clients.every((c, i) => ids(c.received, `${tag}${1 - i}-`).length >= n), 15_000, `${tag} burst`);
    await new Promise((r) => setTimeout(r, 300)); // a second copy, if any, would arrive right behind the first
    for (const [i, c] of clients.entries()) assert.deepEqual(account(n, [ids(c.received, `${tag}${1 - i}-`)]), { lost: [], duplicated: [] }, `from ${users[1 - i]}`);
  }

  it('both sm processes host the MUC, one serves it: users of both shards in one room, every message exactly once', async () => {
    // Exactly one process serves the MUC's address; the other stands by for it.
    assert.equal(sms.filter((p) => serves(p, `component/${SERVICE}`)).length, 1);
    await online(0);
    await online(1);
    await enterRoom(0);
    clients[0]!.send(`<iq type='set' id='cfg' to='${ROOM}'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#roomconfig</value></field><field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query></iq>`);
    await clients[0]!.expect(/<iq(?=[^>]*id="cfg")[^>]*type="result"/);
    await enterRoom(1);
    await burst('a', 20);
  });

  it('kill -9 of the process serving the MUC: the other serves it and the dead shard; self-ping says not-acceptable; rejoined, the talk resumes', async () => {
    const victim = mucOwner()!;
    const survivor = sms.find((p) => p !== victim)!;
    const t0 = Date.now();
    await kill(victim, 'SIGKILL');
    await waitFor(() => serves(survivor, `component/${SERVICE}`) && smShards.addresses().every((a) => serves(survivor, a)), 15_000, 'the survivor serves the MUC and both shards');
    console.log(`# MUC and sm shard taken over after kill -9: ${Date.now() - t0} ms (lease TTL 2000 ms)`);
    // Whoever's session was with the dead shard lost the stream; whoever's was not stays and is told by self-ping.
    for (const [i, c] of clients.entries()) {
      c.received = '';
      c.send(`<iq type='get' id='sp' to='${ROOM}/N${i}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    for (const [i, c] of clients.entries()) {
      if (/not-acceptable/.test(c.received)) continue;
      // This one's stream was closed with its sm: reconnect (a client does at once) and ask again.
      c.close();
      const again = await online(i);
      again.send(`<iq type='get' id='sp' to='${ROOM}/N${i}'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await again.expect(/<iq(?=[^>]*id="sp")[^>]*type="error"[^>]*>.*?<not-acceptable/, 10_000);
    }
    await enterRoom(0);
    await enterRoom(1);
    await burst('b', 10);
  });
});
