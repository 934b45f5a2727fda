// PostgreSQL refused and hung under a sharded cluster (#17): two c2s and two
// sm processes, each owning one of two shards, over the test's own
// nats-server, with the store behind the testkit's cuttable relay. While the
// database is away, a message across shards to an offline user is answered
// with an error (nothing silently dropped), a login gets
// temporary-auth-failure, online chat across shards and c2s goes on; no
// process dies; once the database is back, everything serves again and a
// message stored offline then reaches its user once.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, startProxy, type CuttableProxy, type NatsServer } from '@switchboard/testkit';
import { RawClient, waitFor } from './helpers.ts';
import { addUsers, kill, startRole, usersByShard, type ClusterOptions, type RoleProcess } from './cluster-kit.ts';
import { ShardMap } from '../src/router/shards.ts';

const PG = new URL(process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const shards = new ShardMap(2);

describe('PostgreSQL outages under a sharded cluster (2 c2s, 2 sm shards, NATS)', { timeout: 120_000 }, () => {
  let nats: NatsServer;
  let proxy: CuttableProxy;
  let dir: string;
  let o: ClusterOptions;
  const all: RoleProcess[] = [];
  let c2sA: RoleProcess;
  let c2sB: RoleProcess;
  const [zero, one] = usersByShard(shards, 'p');
  // On shard 1 and c2s A, sending; on shard 0 and c2s B, online; on shard 0, offline.
  const sender = one![0]!;
  const online = zero![0]!;
  const offline = zero![1]!;
  let from: RawClient;
  let to: RawClient;

  before(async () => {
    nats = await startNatsServer();
    proxy = await startProxy(Number(PG.port || 5432));
    const url = new URL(PG.toString());
    url.host = `127.0.0.1:${proxy.port}`;
    dir = mkdtempSync(join(tmpdir(), 'switchboard-pgout-'));
    const schema = `sbpo${randomBytes(4).toString('hex')}`;
    const config = (store: URL): Record<string, unknown> => ({ shards: 2, storage: { kind: 'postgres', url: store.toString(), schema }, timeouts: { heartbeatSeconds: 0.5, deadAfterSeconds: 2, storageSeconds: 1 } });
    // The accounts go straight to the database: `user add` runs synchronously, and the relay lives in this process.
    o = { dir, natsUrl: nats.url, prefix: `sbp${randomBytes(4).toString('hex')}`, config: config(PG) };
    addUsers(o, [...zero!, ...one!]);
    o.config = config(url);
    all.push(await startRole(o, 'sm'));
    all.push(await startRole(o, 'sm'));
    [c2sA, c2sB] = await Promise.all([startRole(o, 'c2s'), startRole(o, 'c2s')]);
    all.push(c2sA, c2sB);
    // Each sm owns one shard before the test starts (the first took both and gives one back).
    await waitFor(() => all.slice(0, 2).every((p) => /serving sm\/shard-\d/.test(p.log)) && new Set(all.slice(0, 2).map((p) => /serving (sm\/shard-\d)[^\n]*$/m.exec(p.log)?.[1])).size === 2, 15_000, 'one shard each');
    from = await RawClient.connect(c2sA.port!);
    to = await RawClient.connect(c2sB.port!);
    await from.login(sender, 'pw', 's');
    await to.login(online, 'pw', 'r');
    from.send('<presence/>');
    to.send('<presence/>');
    await new Promise((r) => setTimeout(r, 300));
  });

  after(async () => {
    from?.close();
    to?.close();
    proxy.accept();
    for (const p of all) await kill(p, 'SIGKILL');
    await proxy.close();
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const fault of ['refused', 'hung'] as const) {
    it(`${fault}: across shards an offline message gets an error, a login temporary-auth-failure, online chat goes on; all serve again after`, async () => {
      if (fault === 'refused') proxy.refuse();
      else proxy.freeze();
      const t0 = Date.now();
      from.send(`<message to='${offline}@localhost' type='chat' id='${fault}-off'><body>for later</body></message>`);
      for (let i = 1; i <= 10; i++) from.send(`<message to='${online}@localhost/r' type='chat' id='${fault}-on${i}'><body>${i}</body></message>`);
      // Online chat across shards and c2s is not held up behind the store.
      await to.expect(new RegExp(`id="${fault}-on10"`), 3000);
      for (let i = 1; i <= 10; i++) assert.equal(to.received.split(`id="${fault}-on${i}"`).length - 1, 1, `${fault}-on${i} delivered once`);
      // The message for offline storage comes back as an error within the storage bound (and the breaker).
      await from.expect(new RegExp(`<message[^>]*id="${fault}-off"[^>]*type="error"[\\s\\S]*?(internal-server-error|resource-constraint)`), 5000).catch((err: unknown) => {
        for (const p of all) console.log('----', p.log.slice(-2500));
        throw err;
      });
      assert.ok(Date.now() - t0 < 5000, `answered after ${Date.now() - t0} ms`);
      const late = await RawClient.connect(c2sB.port!);
      await assert.rejects(late.login(offline, 'pw', 'late'));
      assert.match(late.received, /temporary-auth-failure/);
      late.close();
      for (const p of all) assert.equal(p.child.exitCode, null, `a process exited during the outage:\n${p.log.slice(-1500)}`);

      proxy.accept();
      if (fault === 'hung') proxy.cutAll();
      // Back: a message across shards to the offline user is stored, and reaches it once at its login.
      await waitFor(async () => {
        const again = await RawClient.connect(c2sA.port!);
        const ok = await again.login(sender, 'pw', `t${Date.now()}`).then(() => true, () => false);
        again.close();
        return ok;
      }, 15_000, 'login after the database returned');
      from.send(`<message to='${offline}@localhost' type='chat' id='${fault}-stored'><body>now</body></message>`);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(new RegExp(`id="${fault}-stored"[^>]*type="error"`).test(from.received), false, 'stored, not refused');
      const back = await RawClient.connect(c2sB.port!);
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
