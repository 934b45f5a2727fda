// Sharded sm (#17), with real processes: two c2s, two sm processes each
// owning one of two shards, and a standby, over the test's own nats-server
// and the machine's PostgreSQL (a schema of the test's own). Users are spread
// over both shards and both c2s; numbered messages cross shards while an sm
// owning a shard is killed (the standby takes the shard) and while NATS is
// stopped 10 s. Each message is counted: delivered once, stored offline, or
// answered with an error to its sender; none duplicated.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, waitFor } from './helpers.ts';
import { account, chatsBothWays, clusterShards as shards, errorIds, ids, kill, startFullCluster, usersByShard, type FullCluster } from './cluster-kit.ts';

describe('sharded sm: two shards, two c2s and a standby over NATS and PostgreSQL', { timeout: 150_000 }, () => {
  let cluster: FullCluster;
  const [zero, one] = usersByShard(shards, 'u');
  const c2sA = { get port() { return cluster.c2s[0].port; } };
  const c2sB = { get port() { return cluster.c2s[1].port; } };
  const ownerOf = (k: number) => cluster.ownerOf(k);

  before(async () => {
    cluster = await startFullCluster('shards', [...zero!, ...one!]);
  });

  after(async () => {
    await cluster?.close();
  });

  async function online(port: number, user: string, resource: string): Promise<RawClient> {
    const c = await RawClient.connect(port);
    await c.login(user, 'pw', resource);
    c.send('<presence/>');
    return c;
  }

  /** Logs `user` in again and collects what offline storage kept for it. */
  async function offlineOf(user: string, prefix: string, expected: number): Promise<number[]> {
    const c = await RawClient.connect(c2sA.port!);
    await c.login(user, 'pw', `back${Date.now()}`);
    c.send('<presence/>');
    await waitFor(() => ids(c.received, prefix).length >= expected, 5000, 'offline messages').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const got = ids(c.received, prefix);
    c.close();
    return got;
  }

  it('kill -9 of the sm owning a shard mid-burst: the standby serves it within 10 s; every message delivered once, stored offline, or answered with an error', async () => {
    const victim = ownerOf(0)!;
    const survivor = ownerOf(1)!;
    const standby = cluster.standby()!;
    // Across shards and c2s both ways: a sender on the surviving shard to a recipient on the dying one, and back.
    const toDying = { from: await online(c2sA.port!, one![0]!, 's'), to: await online(c2sB.port!, zero![0]!, 'r') };
    const fromDying = { from: await online(c2sB.port!, zero![1]!, 's'), to: await online(c2sA.port!, one![1]!, 'r') };
    await new Promise((r) => setTimeout(r, 300));
    const N = 120;
    let killedAt = 0;
    let servingAt = 0;
    const watch = setInterval(() => {
      if (killedAt > 0 && servingAt === 0 && ownerOf(0) === standby) servingAt = Date.now();
    }, 20);
    let sentFromDying = 0;
    for (let i = 1; i <= N; i++) {
      toDying.from.send(`<message to='${zero![0]}@localhost' type='chat' id='x${i}'><body>${i}</body></message>`);
      // A client whose stream was closed sends no more (it would reconnect): only what it wrote is counted.
      if (!fromDying.from.closed && !/<\/stream:stream>/.test(fromDying.from.received)) {
        fromDying.from.send(`<message to='${one![1]}@localhost' type='chat' id='y${i}'><body>${i}</body></message>`);
        sentFromDying = i;
      }
      if (i === 30) {
        killedAt = Date.now();
        await kill(victim, 'SIGKILL');
      }
      await new Promise((r) => setTimeout(r, 40));
    }
    await waitFor(() => servingAt > 0, 12_000, 'standby serving shard 0');
    clearInterval(watch);
    const takeoverMs = servingAt - killedAt;
    // The burst's tail may still be on its way on a loaded machine (113–120 were once counted lost while in
    // flight): the last message delivered or refused means the ones before it, on the same route, are through.
    await waitFor(() => ids(toDying.to.received, 'x').includes(N) || errorIds(toDying.from.received, 'x').includes(N), 10_000, 'the last message').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));

    // Sender on the surviving shard: its messages reached the recipient, offline storage (while shard 0 was
    // unowned its sm stood in; after, the standby stored them), or came back as errors.
    const delivered = ids(toDying.to.received, 'x');
    const stored = await offlineOf(zero![0]!, 'x', N - delivered.length);
    const errors = errorIds(toDying.from.received, 'x');
    const a = account(N, [delivered, stored, errors]);
    console.log(`sm kill -9 → standby serving shard 0 in ${takeoverMs} ms; to the dead shard: delivered ${delivered.length}, offline ${stored.length}, errors ${errors.length}, lost ${a.lost.join(',') || 'none'}, duplicated ${a.duplicated.join(',') || 'none'}`);
    // Sender on the dying shard: its stream closed with system-shutdown; what it wrote before was delivered or answered.
    const b = account(sentFromDying, [ids(fromDying.to.received, 'y'), errorIds(fromDying.from.received, 'y')]);
    console.log(`  from the dead shard: wrote ${sentFromDying}, delivered ${ids(fromDying.to.received, 'y').length}, errors ${errorIds(fromDying.from.received, 'y').length}, lost ${b.lost.join(',') || 'none'}`);

    assert.ok(takeoverMs <= 10_000, `standby took ${takeoverMs} ms`);
    // The c2s closes a dead shard's streams with system-shutdown, or with reset when it learns of the standby's new
    // epoch first (issue #17 allows either; seen under load).
    assert.match(fromDying.from.received, /<system-shutdown|<reset/);
    // The survivor's streams were not touched: its users stay connected.
    assert.ok(!toDying.from.closed && !/<system-shutdown/.test(toDying.from.received), 'a stream of the surviving shard was closed');
    assert.deepEqual(a.duplicated, []);
    assert.deepEqual(b.duplicated, []);
    // What the killed sm held in hand when it died is gone with it (at-most-once hop, docs/protocol.md): at most the
    // messages of the kill's moment, here the few written within ~100 ms of it.
    const nearKill = (i: number): boolean => i >= 28 && i <= 33;
    assert.deepEqual(a.lost.filter((i) => !nearKill(i)), [], `lost ${a.lost.join(',')}`);
    // The last one the client wrote may have crossed the stream error on the wire: a stream closed with an error
    // takes nothing more (RFC 6120 §4.9.1.1); XEP-0198 is what tells such a client to send it again.
    assert.deepEqual(b.lost.filter((i) => !nearKill(i) && i !== sentFromDying), [], `lost ${b.lost.join(',')}`);
    for (const c of [toDying.from, toDying.to, fromDying.from, fromDying.to]) c.close();
    assert.ok(survivor.child.exitCode === null);
  });

  it('NATS stopped 10 s: stanzas get errors instead of vanishing; every process stays up (or is restarted) and cross-shard chat serves again', async () => {
    const alice = await online(c2sA.port!, zero![0]!, 'n');
    const bob = await online(c2sB.port!, one![0]!, 'n');
    await new Promise((r) => setTimeout(r, 300));
    await cluster.nats.stop();
    const t0 = Date.now();
    let sent = 0;
    while (Date.now() - t0 < 10_000) {
      sent++;
      alice.send(`<message to='${one![0]}@localhost' type='chat' id='n${sent}'><body>${sent}</body></message>`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await cluster.nats.start();
    const a = account(sent, [ids(bob.received, 'n'), errorIds(alice.received, 'n')]);
    console.log(`NATS down 10 s: sent ${sent}, errors ${errorIds(alice.received, 'n').length}, lost ${a.lost.join(',') || 'none'}`);
    assert.deepEqual(a.lost, []);
    assert.deepEqual(a.duplicated, []);
    // The test is the supervisor: an sm fenced when another took its shard after the outage exits 75 and is started
    // again (the sm killed by the test before too).
    await cluster.supervise();
    await waitFor(() => chatsBothWays(c2sA.port!, zero![1]!, c2sB.port!, one![1]!), 25_000, 'cross-shard chat after NATS returned');
    assert.ok(ownerOf(0) !== undefined && ownerOf(1) !== undefined, 'both shards owned');
    alice.close();
    bob.close();
  });
});
