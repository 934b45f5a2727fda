// The chains' contract: priority order, the three verdicts, async handlers
// that keep the order, event chains that survive a failing handler, and a
// module host that takes back all a module registered.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@switchboard/xml';
import { jid } from '@switchboard/jid';
import { stanzaError } from '@switchboard/protocol';
import { Chains, CORE_PRIORITY, type PktSm } from './chains.ts';
import { classify } from './classify.ts';
import { IqHandlers } from './iq-handlers.ts';
import { defineModule, ModuleHost, type ModuleServices } from './module.ts';
import { SmSession } from './session.ts';

function packet(): PktSm {
  const c = classify(xml('iq', { type: 'get', id: '1', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 'localhost');
  assert.ok(c.ok);
  return { c: c.value, target: 'host', account: undefined, session: undefined };
}

describe('sm chains', () => {
  it('run highest priority first, registration order among equals, and stop at handled', () => {
    const chains = new Chains();
    const seen: string[] = [];
    chains.hook('pktSm', () => (seen.push('core'), 'handled'), CORE_PRIORITY);
    chains.hook('pktSm', () => (seen.push('a0'), 'pass'));
    chains.hook('pktSm', () => (seen.push('b10'), 'pass'), 10);
    chains.hook('pktSm', () => (seen.push('c0'), 'pass'));
    chains.hook('pktSm', () => (seen.push('never'), 'pass'), -200);
    assert.equal(chains.run('pktSm', packet()), 'handled');
    assert.deepEqual(seen, ['b10', 'a0', 'c0', 'core']);
  });

  it('an error verdict stops the chain and is returned; an empty chain passes', () => {
    const chains = new Chains();
    assert.equal(chains.run('inSess', { session: undefined as never, c: packet().c }), 'pass');
    chains.hook('pktSm', () => stanzaError('not-acceptable'), 5);
    chains.hook('pktSm', () => assert.fail('after an error nothing runs'), 0);
    const verdict = chains.run('pktSm', packet());
    assert.ok(typeof verdict === 'object' && !(verdict instanceof Promise) && verdict.condition === 'not-acceptable');
  });

  it('stays synchronous while every handler is, and waits for an async one before the next', async () => {
    const chains = new Chains();
    const seen: string[] = [];
    chains.hook('pktSm', () => (seen.push('sync'), 'pass'), 20);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    chains.hook('pktSm', async () => {
      await gate;
      seen.push('async');
      return 'pass' as const;
    }, 10);
    chains.hook('pktSm', () => (seen.push('last'), 'handled'));
    const result = chains.run('pktSm', packet());
    assert.ok(result instanceof Promise);
    assert.deepEqual(seen, ['sync']);
    release();
    assert.equal(await result, 'handled');
    assert.deepEqual(seen, ['sync', 'async', 'last']);

    const quick = new Chains();
    quick.hook('pktSm', () => 'handled');
    assert.equal(quick.run('pktSm', packet()), 'handled', 'no promise on the synchronous path');
  });

  it('event chains run every handler in order even when one fails; strict ones throw', async () => {
    const chains = new Chains();
    const seen: string[] = [];
    const session = new SmSession('sm1', 'c1', { to: 'c2s:x', send: () => {} } as never, jid('alice@localhost/a'));
    chains.hook('sessEnd', () => void seen.push('first'), 1);
    chains.hook('sessEnd', () => {
      throw new Error('module bug (expected in this test)');
    });
    chains.hook('sessEnd', async () => void seen.push('third'), -1);
    await chains.emit('sessEnd', { session, reason: 'closed', status: undefined });
    assert.deepEqual(seen, ['first', 'third']);
    chains.hook('sessStart', () => {
      throw new Error('refused');
    });
    await assert.rejects(chains.emitStrict('sessStart', { session }), /refused/);
  });

  it('a removed handler no longer runs; an unknown chain name does not compile', () => {
    const chains = new Chains();
    const remove = chains.hook('outSess', () => 'handled');
    assert.ok(chains.has('outSess'));
    remove();
    assert.equal(chains.has('outSess'), false);
    // Checked by `npm run typecheck`, never run.
    const wrong = (): void => {
      // @ts-expect-error the set of chains is closed
      chains.hook('inSes', () => 'pass');
      // @ts-expect-error a packet handler answers with a verdict
      chains.hook('pktUser', () => 42);
      // @ts-expect-error out-sess is synchronous
      chains.hook('outSess', async () => 'pass');
    };
    void wrong;
  });

  it('a module host loads in dependency order and unload takes back hooks, iqs and features', () => {
    const chains = new Chains();
    const iq = new IqHandlers();
    const host = new ModuleHost({} as ModuleServices, chains, iq);
    const probe = defineModule<{ feature: string }, string>({
      name: 'probe',
      setup(ctx, options) {
        ctx.hook('pktSm', () => 'pass');
        ctx.iq({ xmlns: 'urn:example:probe', name: 'query', targets: ['host'], handler: () => undefined });
        ctx.feature('account', options.feature);
        return 'api';
      },
    });
    const dependent = defineModule({ name: 'dependent', dependsOn: ['probe'], setup() {} });
    assert.throws(() => host.load(dependent, undefined), /needs probe/);
    assert.equal(host.load(probe, { feature: 'urn:example:feature' }), 'api');
    assert.throws(() => host.load(probe, { feature: 'x' }), /loaded twice/);
    assert.deepEqual(iq.features('account'), ['urn:example:feature']);
    assert.ok(chains.has('pktSm'));
    host.unload('probe');
    assert.equal(chains.has('pktSm'), false);
    assert.deepEqual(iq.features('host'), []);
    assert.deepEqual(iq.features('account'), []);
  });
});
