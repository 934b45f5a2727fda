// The asking side of the administration over the router, on the in-process
// router with peers attached at the shard addresses: an answer is taken only
// from the address asked, with the id asked; a forged, stray or malformed one
// changes nothing, a shard that never answers is reported after the bound,
// and one nobody serves is reported at once.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessRouter } from '../router/in-process.ts';
import { ShardMap } from '../router/shards.ts';
import { adminRoutePayload, readAdminRoutePayload, type Envelope } from '../router/envelope.ts';
import { openSqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { ClusterAdmin } from './cluster.ts';

const session = (jid: string) => ({ jid, sm: '1', c2s: 'c2s/x', available: true, priority: 0 });

async function setup(answerMs = 300) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-cluster-admin-'));
  const storage = openSqliteStorage(join(dir, 'db.sqlite'));
  const router = new InProcessRouter();
  const admin = await ClusterAdmin.start({
    router,
    shards: new ShardMap(2),
    accounts: storage.accounts,
    userData: storage.userData,
    domain: 'localhost',
    scramIterations: 4096,
    node: 'test',
    answerMs,
    processStats: () => ({ role: 'c2s', pid: 1, version: 't', uptimeSeconds: 0, rssBytes: 0, shards: [] }),
  });
  return {
    router,
    admin,
    async close() {
      await admin.close();
      await router.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A peer at `address` that answers each request with what `answer` makes of it (nothing: no answer). */
async function peer(router: InProcessRouter, address: string, answer: (id: string, op: string) => Envelope[]): Promise<void> {
  await router.attach(address, (e) => {
    const p = readAdminRoutePayload(e.payload);
    if (p?.action === 'request') for (const out of answer(p.id, p.op)) router.route(out);
  });
}

const answerEnvelope = (to: string, from: string, id: string, op: string, body: unknown): Envelope => ({ to, from, payload: adminRoutePayload({ action: 'answer', id, op, body: JSON.stringify(body) }) });

describe('ClusterAdmin (asking over the router)', () => {
  it('merges the sessions of every shard that answers, sorted', async () => {
    const t = await setup();
    await peer(t.router, 'sm/shard-0', (id, op) => [answerEnvelope('admin/test', 'sm/shard-0', id, op, { ok: true, value: [session('b@localhost/r')] })]);
    await peer(t.router, 'sm/shard-1', (id, op) => [answerEnvelope('admin/test', 'sm/shard-1', id, op, { ok: true, value: [session('a@localhost/r')] })]);
    const report = await t.admin.listSessions();
    assert.deepEqual(report.sessions.map((s) => s.jid), ['a@localhost/r', 'b@localhost/r']);
    assert.deepEqual(report.unanswered, []);
    await t.close();
  });

  it('takes no answer from another address, with another id, for another op, or malformed; the silent shard is reported after the bound', async () => {
    const t = await setup();
    await peer(t.router, 'sm/shard-0', (id, op) => [answerEnvelope('admin/test', 'sm/shard-0', id, op, { ok: true, value: [session('a@localhost/r')] })]);
    // shard-1 never answers itself: someone else speaks for it, with its id, and it with ids and ops not asked.
    await peer(t.router, 'sm/shard-1', (id, op) => [
      answerEnvelope('admin/test', 'sm/shard-0', id, op, { ok: true, value: [session('forged-from@localhost/r')] }),
      answerEnvelope('admin/test', 'sm/shard-1', `${id}x`, op, { ok: true, value: [session('forged-id@localhost/r')] }),
      answerEnvelope('admin/test', 'sm/shard-1', id, 'stats', { ok: true, value: { sessions: 9, onlineUsers: 9 } }),
    ]);
    const report = await t.admin.listSessions();
    assert.deepEqual(report.sessions.map((s) => s.jid), ['a@localhost/r']);
    assert.deepEqual(report.unanswered, [{ address: 'sm/shard-1', reason: 'no answer within 300 ms' }]);
    await t.close();
  });

  it('a malformed answer from the address asked is reported, not half-read', async () => {
    const t = await setup();
    await peer(t.router, 'sm/shard-0', (id, op) => [answerEnvelope('admin/test', 'sm/shard-0', id, op, { ok: true, value: [{ jid: 1 }] })]);
    await peer(t.router, 'sm/shard-1', (id, op) => [answerEnvelope('admin/test', 'sm/shard-1', id, op, { ok: true, value: [] })]);
    const report = await t.admin.listSessions();
    assert.deepEqual(report.unanswered, [{ address: 'sm/shard-0', reason: 'a malformed sessions.list answer' }]);
    await t.close();
  });

  it('a shard nobody serves is reported at once, without waiting for the bound', async () => {
    const t = await setup(60_000);
    await peer(t.router, 'sm/shard-0', (id, op) => [answerEnvelope('admin/test', 'sm/shard-0', id, op, { ok: true, value: [] })]);
    const report = await t.admin.listSessions();
    assert.deepEqual(report.unanswered, [{ address: 'sm/shard-1', reason: 'no component serves this address now' }]);
    let user = 0;
    while (new ShardMap(2).indexOf(`u${user}@localhost`) !== 1) user++;
    const kick = await t.admin.kick(`u${user}@localhost/r`);
    assert.deepEqual(kick, { ok: false, code: 'failed', message: 'sm shard sm/shard-1 gave no answer (no component serves this address now): no session was ended' });
    await t.close();
  });
});
