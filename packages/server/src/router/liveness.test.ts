// The liveness table's clock around an outage of our own connection (docs/protocol.md "Liveness").

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LivenessTable } from './liveness.ts';
import type { LivenessEvent } from './router.ts';

function table(): { t: LivenessTable; events: LivenessEvent[]; at: (ms: number) => void } {
  let now = 0;
  const t = new LivenessTable(2000, () => now);
  const events: LivenessEvent[] = [];
  t.watch((e) => events.push(e));
  return { t, events, at: (ms) => (now = ms) };
}

describe('liveness after an outage of our own connection', () => {
  it('a peer that reconnects up to the grace later than we did is not taken for dead; one that never comes back is, grace + bound after', () => {
    const { t, events, at } = table();
    t.seen('sm', 'e1');
    at(1000);
    t.setConnected(false);
    at(61_000);
    t.setConnected(true, 3000);
    assert.equal(t.reconnecting('sm'), true);
    at(63_900); // 2.9 s after our reconnect: past the 2 s bound, within grace + bound
    t.sweep();
    assert.deepEqual(events.filter((e) => e.state === 'down'), []);
    t.seen('sm', 'e1'); // it is back
    assert.equal(t.reconnecting('sm'), false);
    t.seen('c2s/x', 'e2');
    at(70_000);
    t.sweep();
    assert.deepEqual(events.filter((e) => e.state === 'down').map((e) => e.address), ['sm', 'c2s/x']);
  });

  it('without the grace (as before) the same peer is reported dead 2 s after our reconnect', () => {
    const { t, events, at } = table();
    t.seen('sm', 'e1');
    t.setConnected(false);
    at(60_000);
    t.setConnected(true);
    assert.equal(t.reconnecting('sm'), false);
    at(62_100);
    t.sweep();
    assert.deepEqual(events.filter((e) => e.state === 'down').map((e) => e.address), ['sm']);
  });

  it('a peer silent past grace + bound after our reconnect is dead, and no longer "reconnecting"', () => {
    const { t, events, at } = table();
    t.seen('c2s/y', 'e1');
    t.setConnected(false);
    at(10_000);
    t.setConnected(true, 3000);
    at(13_100);
    assert.equal(t.reconnecting('c2s/y'), false);
    at(15_100);
    t.sweep();
    assert.deepEqual(events.filter((e) => e.state === 'down').map((e) => e.address), ['c2s/y']);
  });
});
