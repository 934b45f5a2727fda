// One router contract, run on the in-process router and on NATS (a real
// nats-server on 127.0.0.1:4222, as on every machine of this project).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { xml } from '@switchboard/xml';
import { InProcessRouter } from './in-process.ts';
import { NatsRouter } from './nats.ts';
import { readControl, sessionControl, type Envelope } from './envelope.ts';
import type { Router } from './router.ts';

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
