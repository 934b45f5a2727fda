// One router contract, run on the in-process router and on NATS (a real
// nats-server on 127.0.0.1:4222, as on every machine of this project).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { xml } from '@switchboard/xml';
import { InProcessRouter } from './in-process.ts';
import { NatsRouter } from './nats.ts';
import { readControl, sessionControl, type Envelope } from './envelope.ts';
import type { LivenessEvent, Router, UndeliverableReason } from './router.ts';

const NATS_URL = process.env.SWITCHBOARD_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

function until(predicate: () => boolean, ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - start > ms) return reject(new Error('timed out'));
      setTimeout(tick, 5);
    };
    tick();
  });
}

/** `open(n)` gives n routers joined together: one process's view each. */
function routerContract(name: string, open: (n: number) => Promise<Router[]>): void {
  describe(`router contract: ${name}`, () => {
    it('delivers an envelope to the attached component with ids and payload intact', async () => {
      const [a, b] = await open(2);
      const got: Envelope[] = [];
      await b!.attach('sm', (e) => got.push(e));
      const payload = xml('message', { to: 'bob@localhost', from: 'alice@localhost/x' }, xml('body', {}, '<&>'));
      a!.route({ to: 'sm', from: 'c2s/a', c2s: 'c1', sm: 's1', payload });
      await until(() => got.length === 1);
      assert.equal(got[0]!.c2s, 'c1');
      assert.equal(got[0]!.sm, 's1');
      assert.equal(got[0]!.from, 'c2s/a');
      assert.equal(got[0]!.payload.toString(), payload.toString());
      await Promise.all([a!.close(), b!.close()]);
    });

    it('keeps the order of envelopes from one sender', async () => {
      const [a, b] = await open(2);
      const got: string[] = [];
      await b!.attach('c2s/b', (e) => got.push(e.payload.attrs.id!));
      for (let i = 0; i < 200; i++) a!.route({ to: 'c2s/b', from: 'sm', payload: xml('message', { id: String(i) }) });
      await until(() => got.length === 200);
      assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => String(i)));
      await Promise.all([a!.close(), b!.close()]);
    });

    it('carries control actions both ways', async () => {
      const [a, b] = await open(2);
      const atSm: Envelope[] = [];
      const atC2s: Envelope[] = [];
      await b!.attach('sm', (e) => {
        atSm.push(e);
        b!.route({ to: e.from, from: 'sm', c2s: e.c2s, sm: 'sm9', payload: sessionControl('started', 'a@localhost/r') });
      });
      await a!.attach('c2s/a', (e) => atC2s.push(e));
      a!.route({ to: 'sm', from: 'c2s/a', c2s: 'k1', payload: sessionControl('start', 'a@localhost/r') });
      await until(() => atC2s.length === 1);
      assert.equal(readControl(atSm[0]!.payload)?.action, 'start');
      assert.equal(readControl(atC2s[0]!.payload)?.action, 'started');
      assert.equal(atC2s[0]!.sm, 'sm9');
      await Promise.all([a!.close(), b!.close()]);
    });

    it('stops delivering after detach', async () => {
      const [a, b] = await open(2);
      let count = 0;
      await b!.attach('sm', () => count++);
      await b!.detach('sm');
      a!.route({ to: 'sm', from: 'c2s/a', payload: xml('message') });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(count, 0);
      await Promise.all([a!.close(), b!.close()]);
    });

    it('a kept route follows its component through attach, detach and attach again', async () => {
      const [a, b] = await open(2);
      const message = (id: string): Envelope => ({ to: 'c2s/k', from: 'sm', payload: xml('message', { id }) });
      // Kept before the component exists, as an sm session keeps the way to its c2s.
      const route = a!.routeTo('c2s/k');
      const got: string[] = [];
      await b!.attach('c2s/k', (e) => got.push(e.payload.attrs.id!));
      route.send(message('1'));
      await until(() => got.length === 1);
      await b!.detach('c2s/k');
      route.send(message('2'));
      await new Promise((r) => setTimeout(r, 100));
      await b!.attach('c2s/k', (e) => got.push(`again ${e.payload.attrs.id}`));
      route.send(message('3'));
      await until(() => got.length === 2);
      assert.deepEqual(got, ['1', 'again 3']);
      // A component in the sender's own process is reached by direct call.
      const here: string[] = [];
      await a!.attach('c2s/here', (e) => here.push(e.payload.attrs.id!));
      a!.routeTo('c2s/here').send({ ...message('4'), to: 'c2s/here' });
      assert.deepEqual(here, ['4']);
      await Promise.all([a!.close(), b!.close()]);
    });

    it('hands an envelope no component takes back to its sender, never dropping it silently', async () => {
      const [a] = await open(1);
      const back: [string, UndeliverableReason][] = [];
      await a!.attach('c2s/lonely', () => {}, { undeliverable: (e, reason) => back.push([e.payload.attrs.id!, reason]) });
      a!.route({ to: 'sm-nobody', from: 'c2s/lonely', payload: xml('message', { id: 'm1' }) });
      a!.routeTo('sm-nobody').send({ to: 'sm-nobody', from: 'c2s/lonely', payload: xml('iq', { id: 'q1', type: 'get' }) });
      await until(() => back.length === 2);
      assert.deepEqual(back, [['m1', 'no-component'], ['q1', 'no-component']]);
      await a!.close();
    });

    it('announces each attach with a new epoch and each detach as a goodbye, to every process', async () => {
      const [a, b] = await open(2);
      const seen: LivenessEvent[] = [];
      const stop = a!.watch((e) => {
        if (e.address === 'component/muc.localhost') seen.push(e);
      });
      await b!.attach('component/muc.localhost', () => {});
      await until(() => seen.length === 1);
      const first = seen[0]!;
      assert.equal(first.state, 'up');
      assert.equal(a!.epochOf('component/muc.localhost'), first.epoch);
      await b!.detach('component/muc.localhost');
      await until(() => seen.length === 2);
      assert.deepEqual(seen[1], { state: 'down', address: 'component/muc.localhost', epoch: first.epoch, why: 'goodbye' });
      assert.equal(a!.epochOf('component/muc.localhost'), undefined);
      await b!.attach('component/muc.localhost', () => {});
      await until(() => seen.length === 3);
      assert.equal(seen[2]!.state, 'up');
      assert.notEqual(seen[2]!.epoch, first.epoch);
      stop();
      // A new watcher learns at once who is alive now.
      const now: LivenessEvent[] = [];
      a!.watch((e) => now.push(e))();
      assert.ok(now.some((e) => e.address === 'component/muc.localhost' && e.state === 'up'));
      await Promise.all([a!.close(), b!.close()]);
    });
  });
}

routerContract('in-process', async (n) => {
  const shared = new InProcessRouter();
  // One process: every "instance" is the same router, and close() is idempotent.
  return Array.from({ length: n }, () => shared);
});

routerContract('NATS', async (n) => {
  const prefix = `sbtest${randomBytes(4).toString('hex')}`;
  return Promise.all(Array.from({ length: n }, () => NatsRouter.connect(NATS_URL, prefix)));
});

describe('router liveness across processes (NATS)', () => {
  it('knows a component dead within the bound when its process vanishes without a goodbye', async () => {
    const prefix = `sbtest${randomBytes(4).toString('hex')}`;
    const a = await NatsRouter.connect(NATS_URL, { prefix, heartbeatMs: 200, deadAfterMs: 600 });
    const b = await NatsRouter.connect(NATS_URL, { prefix, heartbeatMs: 200, deadAfterMs: 600 });
    const events: LivenessEvent[] = [];
    a.watch((e) => events.push(e));
    await b.attach('c2s/doomed', () => {});
    await until(() => events.some((e) => e.state === 'up' && e.address === 'c2s/doomed'));
    // Still alive after several dead-after periods: the beats keep it so.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(events.filter((e) => e.state === 'down').length, 0);
    const t0 = Date.now();
    await b.abandon();
    await until(() => events.some((e) => e.state === 'down' && e.address === 'c2s/doomed'), 3000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed <= 600 + 500 + 200, `dead after ${elapsed} ms`);
    assert.equal((events.find((e) => e.state === 'down') as { why: string }).why, 'timeout');
    await a.close();
  });

  it('a restart with a new epoch is reported as the old one down, then the new one up', async () => {
    const prefix = `sbtest${randomBytes(4).toString('hex')}`;
    const a = await NatsRouter.connect(NATS_URL, { prefix, heartbeatMs: 200, deadAfterMs: 5000 });
    const b = await NatsRouter.connect(NATS_URL, { prefix, heartbeatMs: 200, deadAfterMs: 5000 });
    const events: LivenessEvent[] = [];
    a.watch((e) => e.address === 'sm' && events.push(e));
    await b.attach('sm', () => {});
    await until(() => events.length === 1);
    await b.abandon();
    const c = await NatsRouter.connect(NATS_URL, { prefix, heartbeatMs: 200, deadAfterMs: 5000 });
    await c.attach('sm', () => {});
    await until(() => events.length === 3);
    assert.deepEqual(events.map((e) => [e.state, 'why' in e ? e.why : '']), [['up', ''], ['down', 'restarted'], ['up', '']]);
    await Promise.all([a.close(), c.close()]);
  });
});
