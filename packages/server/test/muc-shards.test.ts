// Service shards (#20, #17), with real processes over the test's own
// nats-server: the MUC split into two shards by room JID, hosted by two
// processes of its own (`--role muc`), one sm and two c2s. Rooms on both
// shards; numbered groupchat messages counted exactly once. Then the process
// owning one shard is killed (kill -9): the other takes the shard over within
// the lease's bound, the persistent rooms are still there (configuration,
// affiliations), the occupants learn they are out by XEP-0410 self-ping
// (not-acceptable from the new owner), rejoin, and the talk goes on. A
// third process joining takes a shard back by a clean handover (332).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type NatsServer } from '@switchboard/testkit';
import { RawClient, waitFor } from './helpers.ts';
import { account, addUsers, errorIds, ids, kill, serves, startRole, type ClusterOptions, type RoleProcess } from './cluster-kit.ts';
import { ServiceShards } from '../src/router/service-shards.ts';

const MUC = 'http://jabber.org/protocol/muc';
const SERVICE = 'conference.localhost';
const shards = new ServiceShards(SERVICE, 2);

/** Two room names on each shard. */
function roomsByShard(): [string[], string[]] {
  const out: [string[], string[]] = [[], []];
  for (let i = 0; out[0].length < 2 || out[1].length < 2; i++) {
    const list = out[shards.indexOf(`room${i}@${SERVICE}`)]!;
    if (list.length < 2) list.push(`room${i}`);
  }
  return out;
}

describe('service shards: a MUC in two shards over two processes of its own', { timeout: 120_000 }, () => {
  let nats: NatsServer;
  let dir: string;
  let o: ClusterOptions;
  const mucs: RoleProcess[] = [];
  const all: RoleProcess[] = [];
  let alice: RawClient;
  let bob: RawClient;
  const [zero, one] = roomsByShard();
  const rooms = [...zero!, ...one!];

  const ownerOf = (k: number): RoleProcess | undefined => mucs.find((p) => serves(p, shards.address(k)));

  before(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-muc-shards-'));
    o = { dir, natsUrl: nats.url, prefix: `sbms${randomBytes(4).toString('hex')}`, config: { serviceShards: 2, services: 'own-process' } };
    addUsers(o, ['alice', 'bob']);
    // All at once: the first MUC process to claim takes both shards and gives one back when it counts the second.
    const [sm, mucA, mucB, c2sA, c2sB] = await Promise.all([startRole(o, 'sm'), startRole(o, 'muc'), startRole(o, 'muc'), startRole(o, 'c2s'), startRole(o, 'c2s')]);
    mucs.push(mucA, mucB);
    all.push(sm, ...mucs, c2sA, c2sB);
    await waitFor(() => ownerOf(0) !== undefined && ownerOf(1) !== undefined && ownerOf(0) !== ownerOf(1), 15_000, 'one shard each');
    alice = await RawClient.connect(c2sA.port!);
    bob = await RawClient.connect(c2sB.port!);
    await alice.login('alice', 'pw', 'a');
    await bob.login('bob', 'pw', 'b');
    alice.send('<presence/>');
    bob.send('<presence/>');
  });

  after(async () => {
    alice?.close();
    bob?.close();
    for (const p of all) await kill(p, 'SIGKILL');
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Alice and Bob in `room` (Alice creating it the first time: persistent, Bob a member). */
  async function enter(room: string, create: boolean): Promise<void> {
    alice.send(`<presence to='${room}@${SERVICE}/Alice' id='j-${room}'><x xmlns='${MUC}'/></presence>`);
    await alice.expect(new RegExp(`<presence[^>]*from="${room}@${SERVICE}/Alice"[^>]*>(?:(?!</presence>).)*<status code="110"/>`), 10_000);
    if (create) {
      alice.send(
        `<iq type='set' id='cfg-${room}' to='${room}@${SERVICE}'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'>` +
          `<field var='FORM_TYPE'><value>${MUC}#roomconfig</value></field><field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query></iq>`,
      );
      await alice.expect(new RegExp(`<iq(?=[^>]*id="cfg-${room}")[^>]*type="result"`));
      alice.send(`<iq type='set' id='aff-${room}' to='${room}@${SERVICE}'><query xmlns='${MUC}#admin'><item affiliation='member' jid='bob@localhost'/></query></iq>`);
      await alice.expect(new RegExp(`<iq(?=[^>]*id="aff-${room}")[^>]*type="result"`));
    }
    bob.send(`<presence to='${room}@${SERVICE}/Bob'><x xmlns='${MUC}'/></presence>`);
    // Bob's own presence names his affiliation: member (stored with the room, so it survives the owner's death).
    await bob.expect(new RegExp(`<presence[^>]*from="${room}@${SERVICE}/Bob"[^>]*>(?:(?!</presence>).)*affiliation="member"(?:(?!</presence>).)*<status code="110"/>`), 10_000);
  }

  /** Alice sends `n` numbered groupchat messages to each room; Bob gets each exactly once. */
  async function burst(tag: string, n: number, only = rooms): Promise<void> {
    for (let i = 1; i <= n; i++) for (const room of only) alice.send(`<message to='${room}@${SERVICE}' type='groupchat' id='${tag}${room}-${i}'><body>${i}</body></message>`);
    await waitFor(() => only.every((room) => ids(bob.received, `${tag}${room}-`).length >= n), 15_000, `${tag} burst`);
    for (const room of only) {
      const { lost, duplicated } = account(n, [ids(bob.received, `${tag}${room}-`)]);
      assert.deepEqual({ room, lost, duplicated }, { room, lost: [], duplicated: [] });
    }
  }

  it('rooms on both shards, each served by one process: every message exactly once', async () => {
    assert.notEqual(zero!.length, 0);
    for (const room of rooms) await enter(room, true);
    // A room served twice would double every message (the split this fixes): burst() counts each exactly once.
    await burst('a', 20);
  });

  it('kill -9 of the process owning shard 1: the other serves it within the bound; self-ping says not-acceptable; rooms, config and affiliations are there; the talk resumes', async () => {
    const victim = ownerOf(1)!;
    const survivor = mucs.find((p) => p !== victim)!;
    bob.received = '';
    alice.received = '';
    const t0 = Date.now();
    await kill(victim, 'SIGKILL');
    // Messages through the failover to a room of the dead shard: each delivered once or answered with an error.
    const room = one![0]!;
    // XEP-0410 during the failover: the shard's owner vanished, so remote-server-timeout ("no decision, try again"),
    // not service-unavailable (which a self-pinging client reads as "still joined").
    alice.send(`<iq type='get' id='spw' to='${room}@${SERVICE}/Alice'><ping xmlns='urn:xmpp:ping'/></iq>`);
    let sent = 0;
    while (!serves(survivor, shards.address(1)) && Date.now() - t0 < 15_000) {
      sent++;
      alice.send(`<message to='${room}@${SERVICE}' type='groupchat' id='f${sent}'><body>${sent}</body></message>`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const takeover = Date.now() - t0;
    assert.ok(serves(survivor, shards.address(1)), 'the survivor serves shard 1');
    // The bound: the lease's TTL (deadAfterSeconds, 2 s here) plus a claim round and the process's own latency.
    console.log(`# takeover of shard 1 after kill -9: ${takeover} ms (lease TTL 2000 ms)`);
    await waitFor(() => account(sent, [ids(bob.received, 'f'), errorIds(alice.received, 'f')]).lost.length === 0, 10_000, 'every failover message delivered or answered').catch(() => undefined);
    const counted = account(sent, [ids(bob.received, 'f'), errorIds(alice.received, 'f')]);
    assert.deepEqual(counted, { lost: [], duplicated: [] }, `of ${sent}`);
    console.log(`# through the failover: ${sent} messages, ${ids(bob.received, 'f').length} delivered, ${errorIds(alice.received, 'f').length} answered with an error`);

    assert.match(alice.received, /<iq(?=[^>]*id="spw")[^>]*type="error"[^>]*>.*?<remote-server-timeout/);
    // XEP-0410: the new owner has no occupants, so a self-ping to a room of shard 1 is not-acceptable (rejoin);
    // one to a room of shard 0, whose owner lives, is answered.
    alice.send(`<iq type='get' id='sp1' to='${room}@${SERVICE}/Alice'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await alice.expect(/<iq(?=[^>]*id="sp1")[^>]*type="error"[^>]*>.*?<not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/, 10_000);
    alice.send(`<iq type='get' id='sp0' to='${zero![0]}@${SERVICE}/Alice'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await alice.expect(/<iq(?=[^>]*id="sp0")[^>]*type="result"/);

    // The persistent configuration is there (disco#info from the new owner), and so are the affiliations (Bob's
    // rejoin names him member, Alice's her owner), with no 201: the room was not created again.
    alice.send(`<iq type='get' id='di' to='${room}@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    await alice.expect(/<iq(?=[^>]*id="di")[^>]*type="result"[^>]*>.*?var="muc_persistent"/);
    alice.received = '';
    for (const r of one!) await enter(r, false);
    assert.doesNotMatch(alice.received, /<status code="201"\/>/);
    assert.match(alice.received, /affiliation="owner"/);
    // The talk resumes in every room, on both shards, each message exactly once.
    await burst('b', 10);
  });

  it('a MUC process joining: the owner of both shards gives one back cleanly, its occupants told 332, and they rejoin on the new owner', async () => {
    const holder = mucs.find((p) => serves(p, shards.address(0)) && serves(p, shards.address(1)))!;
    assert.ok(holder, 'one process serves both shards after the kill');
    alice.received = '';
    bob.received = '';
    const joined = await startRole(o, 'muc');
    mucs.push(joined);
    all.push(joined);
    await waitFor(() => serves(joined, shards.address(1)) && !serves(holder, shards.address(1)), 15_000, 'shard 1 handed over');
    // XEP-0045 §15.6 (shutdown, 332) for each room of the shard given back, to each occupant; the rooms of shard 0 stay.
    for (const room of one!) {
      await alice.expect(new RegExp(`<presence[^>]*from="${room}@${SERVICE}/Alice"[^>]*type="unavailable"[^>]*>(?:(?!</presence>).)*<status code="332"/>`));
      await bob.expect(new RegExp(`<presence[^>]*from="${room}@${SERVICE}/Bob"[^>]*type="unavailable"[^>]*>(?:(?!</presence>).)*<status code="332"/>`));
    }
    for (const room of zero!) assert.doesNotMatch(alice.received, new RegExp(`from="${room}@${SERVICE}/[^"]*"[^>]*type="unavailable"`));
    for (const room of one!) await enter(room, false);
    await burst('c', 10);
  });

  it('disco#items on the service lists the rooms of both shards', async () => {
    // Public rooms come from the store, so shard 0's owner lists shard 1's rooms too.
    alice.send(`<iq type='get' id='items' to='${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`);
    const [items] = await alice.expect(/<iq(?=[^>]*id="items")[^>]*type="result"[^>]*>.*?<\/iq>/);
    for (const room of rooms) assert.match(items, new RegExp(`jid="${room}@${SERVICE}"`));
  });
});
