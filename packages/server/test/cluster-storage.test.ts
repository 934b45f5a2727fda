// PostgreSQL refused and hung under a sharded cluster (#17), in the fault
// suite's topology (cluster-kit.ts): two c2s, two sm processes each owning one
// of two shards and a standby, the test's own nats-server, the store behind
// the kit's cuttable relay. While the database is away, a message across
// shards to an offline user is answered with an error (nothing silently
// dropped), a login gets temporary-auth-failure, online chat across shards
// and c2s goes on; no process dies; once the database is back, everything
// serves again and a message stored offline then reaches its user once.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, waitFor } from './helpers.ts';
import { clusterShards, startFullCluster, usersByShard, type FullCluster } from './cluster-kit.ts';

describe('PostgreSQL outages under a sharded cluster (2 c2s, 2 sm shards + standby, NATS)', { timeout: 120_000 }, () => {
  let cluster: FullCluster;
  const [zero, one] = usersByShard(clusterShards, 'p');
  // On shard 1 and c2s A, sending; on shard 0 and c2s B, online; on shard 0, offline.
  const sender = one![0]!;
  const online = zero![0]!;
  const offline = zero![1]!;
  let from: RawClient;
  let to: RawClient;

  before(async () => {
    cluster = await startFullCluster('pgout', [...zero!, ...one!], { timeouts: { storageSeconds: 1 } });
    from = await RawClient.connect(cluster.c2s[0].port!);
    to = await RawClient.connect(cluster.c2s[1].port!);
    await from.login(sender, 'pw', 's');
    await to.login(online, 'pw', 'r');
    from.send('<presence/>');
    to.send('<presence/>');
    await new Promise((r) => setTimeout(r, 300));
  });

  after(async () => {
    from?.close();
    to?.close();
    await cluster?.close();
  });

  for (const fault of ['refused', 'hung'] as const) {
    it(`${fault}: across shards an offline message gets an error, a login temporary-auth-failure, online chat goes on; all serve again after`, async () => {
      if (fault === 'refused') cluster.pg.refuse();
      else cluster.pg.freeze();
      const t0 = Date.now();
      from.send(`<message to='${offline}@localhost' type='chat' id='${fault}-off'><body>for later</body></message>`);
      for (let i = 1; i <= 10; i++) from.send(`<message to='${online}@localhost/r' type='chat' id='${fault}-on${i}'><body>${i}</body></message>`);
      // Online chat across shards and c2s is not held up behind the store.
      await to.expect(new RegExp(`id="${fault}-on10"`), 3000);
      for (let i = 1; i <= 10; i++) assert.equal(to.received.split(`id="${fault}-on${i}"`).length - 1, 1, `${fault}-on${i} delivered once`);
      // The message for offline storage comes back as an error within the storage bound (and the breaker).
      await from.expect(new RegExp(`<message[^>]*id="${fault}-off"[^>]*type="error"[\\s\\S]*?(internal-server-error|resource-constraint)`), 5000).catch((err: unknown) => {
        for (const p of [...cluster.sms, ...cluster.c2s]) console.log('----', p.log.slice(-2500));
        throw err;
      });
      assert.ok(Date.now() - t0 < 5000, `answered after ${Date.now() - t0} ms`);
      const late = await RawClient.connect(cluster.c2s[1].port!);
      await assert.rejects(late.login(offline, 'pw', 'late'));
      assert.match(late.received, /temporary-auth-failure/);
      late.close();
      for (const p of [...cluster.sms, ...cluster.c2s]) assert.equal(p.child.exitCode, null, `a process exited during the outage:\n${p.log.slice(-1500)}`);

      cluster.pg.accept();
      if (fault === 'hung') cluster.pg.cutAll();
      // Back: a message across shards to the offline user is stored, and reaches it once at its login.
      await waitFor(async () => {
        const again = await RawClient.connect(cluster.c2s[0].port!);
        const ok = await again.login(sender, 'pw', `t${Date.now()}`).then(() => true, () => false);
        again.close();
        return ok;
      }, 15_000, 'login after the database returned');
      from.send(`<message to='${offline}@localhost' type='chat' id='${fault}-stored'><body>now</body></message>`);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(new RegExp(`id="${fault}-stored"[^>]*type="error"`).test(from.received), false, 'stored, not refused');
      const back = await RawClient.connect(cluster.c2s[1].port!);
      await back.login(offline, 'pw', `b${Date.now()}`);
      back.send('<presence/>');
      await back.expect(new RegExp(`id="${fault}-stored"`), 5000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(back.received.split(`id="${fault}-stored"`).length - 1, 1, 'once');
      assert.equal(back.received.includes(`id="${fault}-off"`), false, 'the refused one was not stored after all');
      back.close();
    });
  }
});
