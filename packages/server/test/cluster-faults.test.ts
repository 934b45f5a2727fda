// The split that survives (#17), with real processes in the fault suite's one
// topology (cluster-kit.ts): two c2s, two sm processes each owning one of two
// shards and a standby, the test's own nats-server, PostgreSQL. alice (shard 0)
// is on c2s A, bob (shard 1) on c2s B, so every message crosses a c2s and a
// shard. Each fault strikes under a numbered burst and each message is
// counted: delivered once, stored offline, or answered with an error to its
// sender; none lost, none duplicated; contacts told within the liveness bound.

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, waitFor } from './helpers.ts';
import { account, clusterShards, errorIds, ids, kill, startFullCluster, usersByShard, type FullCluster } from './cluster-kit.ts';

/** Liveness bound the issue asks for (heartbeat 0.5 s + dead after 2 s here, swept twice a second). */
const BOUND_MS = 5000;

const unavailableFrom = (text: string, jid: string): boolean =>
  [...text.matchAll(/<presence\b[^>]*>/g)].some((m) => m[0].includes(`from="${jid}"`) && m[0].includes('type="unavailable"'));

const [zero, one] = usersByShard(clusterShards, 'f');
const alice = zero![0]!;
const bob = one![0]!;

describe('cluster faults: c2s and sm processes killed and stopped (2 c2s, 2 sm shards + standby, NATS, PostgreSQL)', { timeout: 180_000 }, () => {
  let cluster: FullCluster;
  const c2sA = (): number => cluster.c2s[0].port!;
  const c2sB = (): number => cluster.c2s[1].port!;

  before(async () => {
    cluster = await startFullCluster('faults', [...zero!, ...one!]);
  });

  after(async () => {
    await cluster?.close();
  });

  // A test that failed before starting again what it killed does not take the next ones with it.
  beforeEach(async () => {
    await cluster?.c2sUp();
    if ((await cluster?.supervise())?.length) await cluster?.settled();
  });

  async function session(port: number, user: string, resource: string): Promise<RawClient> {
    const c = await RawClient.connect(port);
    await c.login(user, 'pw', resource);
    return c;
  }

  /** alice on c2s A sends directed presence to bob on c2s B, then bob sends a paced burst to alice's full JID while `fault` strikes. */
  async function burstAcross(prefix: string, fault: () => Promise<void>): Promise<{ a: RawClient; b: RawClient; toldMs: number }> {
    const a = await session(c2sA(), alice, 'a');
    const b = await session(c2sB(), bob, 'b');
    b.send('<presence/>');
    a.send(`<presence to='${bob}@localhost/b'/>`);
    await b.expect(new RegExp(`<presence[^>]*from="${alice}@localhost/a"`));
    let faultAt = 0;
    for (let i = 1; i <= 60; i++) {
      b.send(`<message to='${alice}@localhost/a' type='chat' id='${prefix}${i}'><body>${i}</body></message>`);
      if (i === 20) {
        // What the dying c2s holds in hand is the documented at-most-once hop for a session without XEP-0198; on a
        // loaded machine it was #13–#19 (CI on 2026-12-07). The fault strikes once #19 is out, so that every message
        // after it counts: delivered before, stored offline, or an error — only #20 may be in the c2s as it dies.
        await a.expect(new RegExp(`id="${prefix}19"`), 10_000);
        faultAt = Date.now();
        await fault();
      }
      await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor(() => unavailableFrom(b.received, `${alice}@localhost/a`), BOUND_MS + 1000, 'unavailable presence from alice');
    return { a, b, toldMs: Date.now() - faultAt };
  }

  /** alice logs in again through c2s B and collects her offline messages. */
  async function offlineOf(prefix: string, n: number, already: number[]): Promise<number[]> {
    const again = await session(c2sB(), alice, `back${Date.now()}`);
    again.send('<presence/>');
    // Everything not already received must come from offline storage.
    await waitFor(() => ids(again.received, prefix).length + already.length >= n, 5000, 'offline messages').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const got = ids(again.received, prefix);
    again.close();
    return got;
  }

  it('three sm processes on one prefix: each stanza processed once (the standby never double-processes)', async () => {
    const a = await session(c2sA(), alice, 'a');
    const b = await session(c2sB(), bob, 'b');
    for (let i = 1; i <= 10; i++) b.send(`<message to='${alice}@localhost/a' type='chat' id='d${i}'><body>${i}</body></message>`);
    b.send("<iq type='get' id='once' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    a.send(`<iq type='get' id='once-a' to='${bob}@localhost'><query xmlns='jabber:iq:last'/></iq>`);
    await waitFor(() => ids(a.received, 'd').length >= 10, 5000, 'ten messages');
    await a.expect(/id="once-a"/);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(ids(a.received, 'd'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(b.received.match(/id="once"/g)?.length, 1);
    assert.equal(a.received.match(/id="once-a"/g)?.length, 1);
    a.close();
    b.close();
  });

  it('kill -9 of a c2s: contacts see unavailable within the bound; later messages go to offline storage, none lost or doubled', async () => {
    const { a, b, toldMs } = await burstAcross('k', () => kill(cluster.c2s[0], 'SIGKILL').then(() => undefined));
    assert.ok(toldMs <= BOUND_MS, `contacts told after ${toldMs} ms`);
    const delivered = ids(a.received, 'k');
    const stored = await offlineOf('k', 60, delivered);
    const errors = errorIds(b.received, 'k');
    const { lost, duplicated } = account(60, [delivered, stored, errors]);
    console.log(`kill -9 c2s: told in ${toldMs} ms; delivered ${delivered.length}, offline ${stored.length}, errors ${errors.length}, lost ${lost.join(',') || 'none'}`);
    assert.deepEqual(duplicated, []);
    // The one message bob sent just before the kill may have been inside the killed process: that hop is at-most-once
    // (docs/protocol.md). Every message sent after the kill reached offline storage through no-responders or the death.
    assert.deepEqual(lost.filter((i) => i !== 20), [], `lost ${lost.join(',')}`);
    a.close();
    b.close();
    await cluster.restartC2s(0);
  });

  it('SIGTERM of a c2s: streams get system-shutdown, the sm is told of every session at once, nothing lost', async () => {
    const { a, b, toldMs } = await burstAcross('t', async () => {
      assert.equal(await kill(cluster.c2s[0], 'SIGTERM'), 0);
    });
    assert.match(a.received, /<system-shutdown/);
    // The c2s said `end` for each session before it went: no waiting for the liveness bound.
    assert.ok(toldMs < 2000, `contacts told after ${toldMs} ms`);
    const delivered = ids(a.received, 't');
    const stored = await offlineOf('t', 60, delivered);
    const errors = errorIds(b.received, 't');
    const { lost, duplicated } = account(60, [delivered, stored, errors]);
    console.log(`SIGTERM c2s: told in ${toldMs} ms; delivered ${delivered.length}, offline ${stored.length}, errors ${errors.length}`);
    assert.deepEqual(duplicated, []);
    assert.deepEqual(lost, []);
    a.close();
    b.close();
    await cluster.restartC2s(0);
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`${signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM'} of the sm owning a shard mid-burst: its streams get a stream error, the standby serves the shard within the bound, the other shard's users never notice; every message counted`, async () => {
      const victim = cluster.ownerOf(0)!;
      const survivor = cluster.ownerOf(1)!;
      const standby = cluster.standby()!;
      const a = await session(c2sA(), alice, 'a');
      const b = await session(c2sB(), bob, 'b');
      a.send('<presence/>');
      b.send('<presence/>');
      await new Promise((r) => setTimeout(r, 300));
      const prefix = signal === 'SIGKILL' ? 'sk' : 'st';
      const n = 80;
      let struckAt = 0;
      let servingAt = 0;
      let closedAt = 0;
      let exited: Promise<number | null> | undefined;
      const watch = setInterval(() => {
        if (struckAt > 0 && servingAt === 0 && cluster.ownerOf(0) === standby) servingAt = Date.now();
        if (struckAt > 0 && closedAt === 0 && /<stream:error>/.test(a.received)) closedAt = Date.now();
      }, 20);
      for (let i = 1; i <= n; i++) {
        // To the bare JID: while shard 0 changes hands, the message is delivered, stored by the new owner, or refused.
        b.send(`<message to='${alice}@localhost' type='chat' id='${prefix}${i}'><body>${i}</body></message>`);
        if (i === 25) {
          await a.expect(new RegExp(`id="${prefix}24"`), 10_000);
          struckAt = Date.now();
          exited = kill(victim, signal);
        }
        await new Promise((r) => setTimeout(r, 30));
      }
      await waitFor(() => servingAt > 0, 12_000, 'the standby serving shard 0');
      const takeoverMs = servingAt - struckAt;
      await a.expect(/<system-shutdown|<reset/, BOUND_MS + 1000);
      await waitFor(() => closedAt > 0, 1000, 'the close seen');
      clearInterval(watch);
      const closedMs = closedAt - struckAt;
      await waitFor(() => ids(a.received, prefix).includes(n) || errorIds(b.received, prefix).includes(n), 8000, 'the last message').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
      const delivered = ids(a.received, prefix);
      const stored = await offlineOf(prefix, n, delivered);
      const errors = errorIds(b.received, prefix);
      const { lost, duplicated } = account(n, [delivered, stored, errors]);
      console.log(`${signal} of the sm owning shard 0: standby serving in ${takeoverMs} ms, alice's stream closed by ${closedMs} ms (${a.received.match(/<(system-shutdown|reset)/)?.[1]}); delivered ${delivered.length}, offline ${stored.length}, errors ${errors.length}, lost ${lost.join(',') || 'none'}, duplicated ${duplicated.join(',') || 'none'}`);

      if (signal === 'SIGTERM') assert.equal(await exited, 0);
      assert.ok(takeoverMs <= (signal === 'SIGTERM' ? BOUND_MS : 10_000), `standby took ${takeoverMs} ms`);
      assert.ok(closedMs <= BOUND_MS + 1000, `alice's stream closed after ${closedMs} ms`);
      // bob's shard and stream were not touched.
      assert.ok(!b.closed && !/<stream:error>/.test(b.received), "a stream of the surviving shard was closed");
      assert.equal(cluster.ownerOf(1), survivor);
      assert.deepEqual(duplicated, []);
      if (signal === 'SIGTERM') {
        // A clean stop hands over everything it held: nothing is lost.
        assert.deepEqual(lost, [], `lost ${lost.join(',')}`);
      } else {
        // What the killed sm held in hand when it died is gone with it (the at-most-once hop, docs/protocol.md): at most
        // the messages of the kill's moment.
        assert.deepEqual(lost.filter((i) => i < 25 || i > 28), [], `lost ${lost.join(',')}`);
      }
      // alice logs in again (served by the former standby) and chats with bob both ways.
      const a2 = await session(c2sA(), alice, 'again');
      a2.send(`<message to='${bob}@localhost/b' type='chat' id='${prefix}-after'><body>back</body></message>`);
      await b.expect(new RegExp(`id="${prefix}-after"`));
      b.send(`<message to='${alice}@localhost/again' type='chat' id='${prefix}-reply'><body>reply</body></message>`);
      await a2.expect(new RegExp(`id="${prefix}-reply"`));
      for (const c of [a, b, a2]) c.close();
      // The supervisor starts the stopped process again, as the new standby.
      assert.equal((await cluster.supervise()).length, 1);
      await cluster.settled();
    });
  }

  it('NATS stopped: stanzas get errors instead of vanishing, iqs are answered, every process stays up (or is restarted) and serves again when it returns', async () => {
    const a = await session(c2sA(), alice, 'a');
    const b = await session(c2sB(), bob, 'b');
    b.send('<presence/>');
    await new Promise((r) => setTimeout(r, 200));
    await cluster.nats.stop();
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 1; i <= 20; i++) a.send(`<message to='${bob}@localhost/b' type='chat' id='n${i}'><body>${i}</body></message>`);
    a.send("<iq type='get' id='ping1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    await a.expect(/id="ping1"/);
    await waitFor(() => errorIds(a.received, 'n').length === 20, 5000, 'errors for every message');
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.nats.start();
    // Every process reconnects by itself and serves again; an sm fenced by its lease meanwhile exits 75 and the
    // supervisor starts it again.
    const restarted = await cluster.supervise();
    await waitFor(async () => {
      restarted.push(...(await cluster.supervise()));
      const x = await RawClient.connect(c2sA());
      const y = await RawClient.connect(c2sB());
      try {
        await x.login(alice, 'pw', `ra${Date.now()}`);
        const yJid = await y.login(bob, 'pw', `rb${Date.now()}`);
        x.send(`<message to='${yJid}' type='chat' id='r1'><body>retry</body></message>`);
        await y.expect(/<body>retry<\/body>/, 2000);
        return true;
      } catch {
        return false;
      } finally {
        x.close();
        y.close();
      }
    }, 25_000, 'chat after NATS returned');
    console.log(`NATS stopped ~2 s: 20 of 20 messages answered with errors; restarted by the supervisor: ${restarted.join('; ') || 'none'}`);
    assert.deepEqual(account(20, [ids(b.received, 'n'), errorIds(a.received, 'n')]).lost, []);
    // Each change of the connection's state was logged.
    assert.match(cluster.c2s[0].log, /"event":"backend.disconnected"/);
    assert.match(cluster.c2s[0].log, /"event":"backend.connected"/);
    a.close();
    b.close();
  });
});
