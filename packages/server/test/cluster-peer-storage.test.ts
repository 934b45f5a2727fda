// Stanzas between shards while PostgreSQL is away (#17): two c2s and two sm
// processes, each sm owning one of two shards, over the test's own
// nats-server, the store behind the testkit's cuttable relay. A subscription
// request or a probe whose recipient's side runs on the other shard, and
// needs the store there, either takes effect or its sender gets a presence
// error (RFC 6121 §3.1: a subscription request is never lost) — before, the
// other shard logged the failure and the sender heard nothing. Refused, then
// hung; no process dies; once the store is back the same requests take
// effect. Then a stanza driven to the wrong shard through the router (as
// after a takeover): passed on to the owner, or answered when it was passed on already.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xml } from '@switchboard/xml';
import { startNatsServer, startProxy, type CuttableProxy, type NatsServer } from '@switchboard/testkit';
import { RawClient, waitFor } from './helpers.ts';
import { addUsers, kill, startRole, type ClusterOptions, type RoleProcess } from './cluster-kit.ts';
import { ShardMap } from '../src/router/shards.ts';
import { NatsRouter } from '../src/router/nats.ts';

const PG = new URL(process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const shards = new ShardMap(2);

/** `n` user names on `shard`. */
function namesOn(shard: number, prefix: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (shards.indexOf(`${prefix}${i}@localhost`) === shard) out.push(`${prefix}${i}`);
  return out;
}

/** The attributes of every `<presence>` start tag in a client's received text. */
function presences(text: string): Record<string, string>[] {
  return [...text.matchAll(/<presence\b([^>]*)>/g)].map((m) => Object.fromEntries([...m[1]!.matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])));
}

const errorsWithId = (text: string, id: string): number => presences(text).filter((p) => p.type === 'error' && p.id === id).length;

describe('subscriptions and probes across shards while PostgreSQL is away (2 c2s, 2 sm shards, NATS)', { timeout: 150_000 }, () => {
  let nats: NatsServer;
  let proxy: CuttableProxy;
  let dir: string;
  let o: ClusterOptions;
  const all: RoleProcess[] = [];
  let c2sA: RoleProcess;
  let c2sB: RoleProcess;
  // The subscriber on shard 1; on shard 0, per fault, a contact asked before the outage and one asked
  // first during it, and an online user for the misrouted stanzas.
  const [subscriber] = namesOn(1, 'q', 1) as [string];
  const [askedRefused, askedHung, freshRefused, freshHung, online] = namesOn(0, 'q', 5) as [string, string, string, string, string];
  const contacts = { refused: { asked: askedRefused, fresh: freshRefused }, hung: { asked: askedHung, fresh: freshHung } };
  let s: RawClient;
  let on: RawClient;

  before(async () => {
    nats = await startNatsServer();
    proxy = await startProxy(Number(PG.port || 5432));
    const url = new URL(PG.toString());
    url.host = `127.0.0.1:${proxy.port}`;
    dir = mkdtempSync(join(tmpdir(), 'switchboard-peerpg-'));
    const schema = `sbpp${randomBytes(4).toString('hex')}`;
    const config = (store: URL): Record<string, unknown> => ({ shards: 2, storage: { kind: 'postgres', url: store.toString(), schema }, timeouts: { heartbeatSeconds: 0.5, deadAfterSeconds: 2, storageSeconds: 1 } });
    o = { dir, natsUrl: nats.url, prefix: `sbq${randomBytes(4).toString('hex')}`, config: config(PG) };
    addUsers(o, [subscriber, askedRefused, askedHung, freshRefused, freshHung, online]);
    o.config = config(url);
    all.push(await startRole(o, 'sm'));
    all.push(await startRole(o, 'sm'));
    [c2sA, c2sB] = await Promise.all([startRole(o, 'c2s'), startRole(o, 'c2s')]);
    all.push(c2sA, c2sB);
    await waitFor(() => all.slice(0, 2).every((p) => /serving sm\/shard-\d/.test(p.log)) && new Set(all.slice(0, 2).map((p) => /serving (sm\/shard-\d)[^\n]*$/m.exec(p.log)?.[1])).size === 2, 15_000, 'one shard each');
    s = await RawClient.connect(c2sA.port!);
    await s.login(subscriber, 'pw', 's');
    s.send('<presence/>');
    on = await RawClient.connect(c2sB.port!);
    await on.login(online, 'pw', 'r');
    on.send('<presence/>');
    // Asked before the outage: each contact's side (shard 0) stores the pending request.
    for (const c of [askedRefused, askedHung]) s.send(`<presence type='subscribe' to='${c}@localhost' id='ask-${c}'/>`);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(presences(s.received).filter((p) => p.type === 'error').length, 0, 'the first requests were taken');
  });

  after(async () => {
    s?.close();
    on?.close();
    proxy.accept();
    for (const p of all) await kill(p, 'SIGKILL');
    await proxy.close();
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const fault of ['refused', 'hung'] as const) {
    it(`${fault}: a request asked again and a probe (the other shard's store) and a new request (this shard's) each get an error; after, all take effect`, async () => {
      const { asked, fresh } = contacts[fault];
      if (fault === 'refused') proxy.refuse();
      else proxy.freeze();
      // Asked again: the subscriber's side has nothing to store, so it goes to shard 0, whose store is away.
      s.send(`<presence type='subscribe' to='${asked}@localhost' id='${fault}-again'/>`);
      // A probe: answered on shard 0 from the contact's roster, which is in the store (the contact is offline).
      s.send(`<presence type='probe' to='${asked}@localhost' id='${fault}-probe'/>`);
      // A first request: the subscriber's own side cannot store it (the local path, answered already before).
      s.send(`<presence type='subscribe' to='${fresh}@localhost' id='${fault}-fresh'/>`);
      try {
        await waitFor(() => ['again', 'probe', 'fresh'].every((k) => errorsWithId(s.received, `${fault}-${k}`) > 0), 10_000, 'an error for each');
      } catch (err) {
        for (const p of all) console.log('----', p.log.slice(-2500));
        throw err;
      }
      for (const k of ['again', 'probe', 'fresh']) {
        const [error] = presences(s.received).filter((p) => p.type === 'error' && p.id === `${fault}-${k}`);
        assert.equal(error!.from, `${k === 'fresh' ? fresh : asked}@localhost`, 'from the contact asked');
      }
      assert.match(s.received, /internal-server-error|resource-constraint/);
      for (const p of all) assert.equal(p.child.exitCode, null, `a process exited during the outage:\n${p.log.slice(-1500)}`);

      proxy.accept();
      if (fault === 'hung') proxy.cutAll();
      await waitFor(async () => {
        const again = await RawClient.connect(c2sA.port!);
        const ok = await again.login(subscriber, 'pw', `t${Date.now()}`).then(() => true, () => false);
        again.close();
        return ok;
      }, 15_000, 'login after the database returned');

      // Back: the refused request, sent again, is stored; the contact hears it at its login.
      s.send(`<presence type='subscribe' to='${fresh}@localhost' id='${fault}-fresh2'/>`);
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(errorsWithId(s.received, `${fault}-fresh2`), 0, 'taken, not refused');
      const f = await RawClient.connect(c2sB.port!);
      await f.login(fresh, 'pw', 'f');
      f.send('<presence/>');
      await waitFor(() => presences(f.received).some((p) => p.type === 'subscribe' && p.from === `${subscriber}@localhost`), 5000, `${fresh} is asked`);
      f.close();

      // The contact asked before the outage approves; the subscriber gets subscribed and its presence, and a probe answers.
      const c = await RawClient.connect(c2sB.port!);
      await c.login(asked, 'pw', 'c');
      c.send('<presence/>');
      await waitFor(() => presences(c.received).some((p) => p.type === 'subscribe' && p.from === `${subscriber}@localhost`), 5000, `${asked} is asked`);
      c.send(`<presence type='subscribed' to='${subscriber}@localhost'/>`);
      const fromContact = (): number => presences(s.received).filter((p) => p.from === `${asked}@localhost/c` && p.type === undefined).length;
      await waitFor(() => presences(s.received).some((p) => p.type === 'subscribed' && p.from === `${asked}@localhost`) && fromContact() > 0, 5000, 'subscribed and the contact\'s presence');
      const seen = fromContact();
      s.send(`<presence type='probe' to='${asked}@localhost' id='${fault}-probe2'/>`);
      await waitFor(() => fromContact() > seen, 5000, 'the probe answered');
      assert.equal(errorsWithId(s.received, `${fault}-probe2`), 0);
      c.close();
    });
  }

  it('a stanza driven to the wrong shard through the router is passed on to its owner; one passed on already is answered', async () => {
    // The test joins the router as a stray sm address, as a process with another shard count would.
    const router = await NatsRouter.connect(nats.url, { prefix: o.prefix, heartbeatMs: 500, deadAfterMs: 2000 });
    try {
      await router.attach('sm/shard-7', () => undefined);
      const message = (id: string): ReturnType<typeof xml> => xml('message', { from: `${online}@localhost/r`, to: `${subscriber}@localhost`, type: 'chat', id }, xml('body', {}, id));
      // For the subscriber (shard 1), sent to shard 0: shard 0 passes it on, and it is delivered.
      router.route({ to: 'sm/shard-0', from: 'sm/shard-7', payload: message('mis1') });
      await s.expect(/id="mis1"/, 5000);
      assert.equal(s.received.split('id="mis1"').length - 1, 1, 'delivered once');
      // Marked as passed on already: shard 0 answers its sender (online, on shard 0) instead of passing it round.
      router.route({ to: 'sm/shard-0', from: 'sm/shard-7', payload: message('mis2'), forwarded: true });
      await on.expect(/<message[^>]*type="error"[^>]*>|<message[^>]*id="mis2"[^>]*type="error"/, 5000);
      assert.match(on.received, /id="mis2"[\s\S]*service-unavailable/);
      assert.equal(s.received.includes('id="mis2"'), false, 'not delivered');
    } finally {
      await router.close();
    }
  });
});
