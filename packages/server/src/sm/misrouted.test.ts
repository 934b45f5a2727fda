// A stanza from another shard for a user this shard does not own (#17,
// docs/protocol.md "Shards"): never dropped. One sm serving shard 0 of 2 on
// the in-process router, SQLite underneath; the test plays the other shard's
// sm. With no owner of the user's shard a message is stored offline; with an
// owner it is passed on there once (forwarded); one already passed on is
// answered with an error instead of going round again.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xml } from '@switchboard/xml';
import { InProcessRouter } from '../router/in-process.ts';
import { ShardMap } from '../router/shards.ts';
import type { Envelope } from '../router/envelope.ts';
import { openSqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import type { Storage } from '../storage/ports.ts';
import { deriveScramCredentials } from '../auth/scram-credentials.ts';
import { SessionManager } from './sm.ts';

const shards = new ShardMap(2);

/** The first `n` names `${prefix}N` whose bare JID is on shard 1. */
function onShardOne(prefix: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (shards.indexOf(`${prefix}${i}@localhost`) === 1) out.push(`${prefix}${i}`);
  return out;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

describe('sm: a stanza from another shard that is not this shard\'s', () => {
  let dir: string;
  let storage: Storage;
  let router: InProcessRouter;
  let sm: SessionManager;
  const [bob, carol] = onShardOne('u', 2) as [string, string];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-misrouted-'));
    storage = openSqliteStorage(join(dir, 'db.sqlite'));
    const credentials = await deriveScramCredentials('pw');
    for (const user of [bob, carol]) await storage.accounts.createAccount(user, 'localhost', credentials);
    router = new InProcessRouter();
    sm = new SessionManager(router, storage, { domain: 'localhost', shard: { map: shards, index: 0 } });
    await sm.start();
    // The stray sender: an sm address no shard of two has.
    await router.attach('sm/shard-7', () => undefined);
  });

  after(async () => {
    await sm.stop();
    await router.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const message = (id: string): ReturnType<typeof xml> => xml('message', { from: `${carol}@localhost/r`, to: `${bob}@localhost`, type: 'chat', id }, xml('body', {}, id));

  it('with no owner of the user\'s shard, a message is stored offline (as for a shard with no owner), not dropped', async () => {
    assert.equal(router.epochOf('sm/shard-1'), undefined);
    router.route({ to: 'sm/shard-0', from: 'sm/shard-7', payload: message('m1') });
    await settle();
    const stored = await storage.offline.take(bob, 'localhost');
    assert.equal(stored.length, 1);
    assert.match(stored[0]!.stanza, /id="m1"/);
  });

  it('with an owner, it is passed on to it once, marked forwarded; one passed on already is answered with an error', async () => {
    const atOwner: Envelope[] = [];
    await router.attach('sm/shard-1', (envelope) => atOwner.push(envelope));
    router.route({ to: 'sm/shard-0', from: 'sm/shard-7', payload: message('m2') });
    await settle();
    assert.equal(atOwner.length, 1);
    assert.equal(atOwner[0]!.from, 'sm/shard-0');
    assert.equal(atOwner[0]!.forwarded, true);
    assert.equal(atOwner[0]!.payload.attrs.id, 'm2');
    assert.equal(atOwner[0]!.payload.attrs.type, 'chat');

    // Passed on already and still not this shard's (the processes disagree on the count): its sender,
    // carol on shard 1, gets service-unavailable from bob, through her shard.
    router.route({ to: 'sm/shard-0', from: 'sm/shard-7', payload: message('m3'), forwarded: true });
    await settle();
    assert.equal(atOwner.length, 2);
    const error = atOwner[1]!.payload;
    assert.equal(error.attrs.type, 'error');
    assert.equal(error.attrs.id, 'm3');
    assert.equal(error.attrs.to, `${carol}@localhost/r`);
    assert.equal(error.attrs.from, `${bob}@localhost`);
    assert.match(error.toString(), /service-unavailable/);
    assert.equal(atOwner[1]!.forwarded, undefined, 'an answer is not a forward');
    assert.equal(await storage.offline.count(bob, 'localhost'), 0, 'nothing stored');
  });
});
