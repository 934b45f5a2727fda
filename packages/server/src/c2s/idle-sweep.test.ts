import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IdleSweep, type IdleMember } from './idle-sweep.ts';

function member(): IdleMember & { idleAt: number | undefined } {
  return {
    heardInRound: 0,
    idleAt: undefined,
    idle() {
      this.idleAt = performance.now();
    },
  };
}

describe('IdleSweep', () => {
  it('calls a silent member idle after one to one and a quarter periods, and leaves one that is heard from', async () => {
    const sweep = new IdleSweep(200);
    const silent = member();
    const heard = member();
    const t0 = performance.now();
    sweep.add(silent);
    sweep.add(heard);
    const talk = setInterval(() => (heard.heardInRound = sweep.round), 50);
    await new Promise((r) => setTimeout(r, 450));
    clearInterval(talk);
    assert.ok(silent.idleAt !== undefined, 'the silent member is idle');
    const after = silent.idleAt - t0;
    // Timers fire late, never early: at least the period, at most the period plus a sweep and some slack.
    assert.ok(after >= 200 && after < 400, `idle after ${after.toFixed(0)} ms`);
    assert.equal(heard.idleAt, undefined, 'a member heard from every quarter period stays');
    sweep.remove(heard);
  });
});
