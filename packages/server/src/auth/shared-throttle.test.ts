// The cluster's login throttle and registration limit over a shared table
// (the NATS bucket is exercised by test/cluster-auth.test.ts with real
// processes): two "processes" share one table in memory here, with a fake
// clock; a table that fails leaves each with its own count, never none.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle, type AuthThrottleConfig } from './throttle.ts';
import { RegistrationLimiter } from './registration-limit.ts';
import { SharedAuthThrottle, SharedRegistrationLimit } from './shared-throttle.ts';
import type { SharedTable } from '../router/shared-table.ts';

/** One table in memory, as the KV bucket behaves for one writer at a time. */
class MemoryTable implements SharedTable {
  readonly entries = new Map<string, string>();
  down = false;
  get<T>(key: string): Promise<T | undefined> {
    if (this.down) return Promise.reject(new Error('down'));
    const v = this.entries.get(key);
    return Promise.resolve(v === undefined ? undefined : (JSON.parse(v) as T));
  }
  async update<T>(key: string, next: (current: T | undefined) => T): Promise<T> {
    const value = next(await this.get<T>(key));
    this.entries.set(key, JSON.stringify(value));
    return value;
  }
  delete(key: string): Promise<void> {
    if (this.down) return Promise.reject(new Error('down'));
    this.entries.delete(key);
    return Promise.resolve();
  }
}

const config: AuthThrottleConfig = { addressFreeFailures: 100, accountFreeFailures: 2, baseDelayMs: 1000, maxDelayMs: 60_000, maxReplyDelayMs: 5000, forgetAfterMs: 900_000, maxTracked: 1000 };

describe('SharedAuthThrottle', () => {
  it('failures at two processes add up to one per-account back-off; the holder of the password clears it everywhere', async () => {
    let now = 1_000_000;
    const clock = (): number => now;
    const table = new MemoryTable();
    const a = new SharedAuthThrottle(new AuthThrottle(config, clock), table, clock);
    const b = new SharedAuthThrottle(new AuthThrottle(config, clock), table, clock);
    assert.equal((await a.admit('192.0.2.1', 'v@x')).ok, true);
    assert.equal(await a.failed('192.0.2.1', 'v@x'), 0);
    assert.equal((await b.admit('192.0.2.2', 'v@x')).ok, true);
    // The second failure in all is past the allowance of two… at b, which saw only one itself.
    assert.equal(await b.failed('192.0.2.2', 'v@x'), 0);
    assert.equal(await a.failed('192.0.2.1', 'v@x'), 1000, 'the third failure holds its reply for the back-off');
    const refused = await b.admit('192.0.2.3', 'v@x');
    assert.deepEqual(refused, { ok: false, retryAfterMs: 1000, by: 'account' });
    now += 1001;
    assert.equal((await b.admit('192.0.2.3', 'v@x')).ok, true);
    b.succeeded('v@x');
    await new Promise((r) => setImmediate(r));
    assert.equal(table.entries.size, 2, 'the account entry deleted, the two addresses that failed kept');
  });

  it('with the table away, each process still counts on its own (never less than one process)', async () => {
    const now = 1_000_000;
    const clock = (): number => now;
    const table = new MemoryTable();
    table.down = true;
    const a = new SharedAuthThrottle(new AuthThrottle(config, clock), table, clock);
    for (let i = 0; i < 3; i++) {
      assert.equal((await a.admit('192.0.2.1', 'w@x')).ok, true);
      await a.failed('192.0.2.1', 'w@x');
    }
    assert.equal((await a.admit('192.0.2.1', 'w@x')).ok, false);
  });
});

describe('SharedRegistrationLimit', () => {
  it('counts the attempts of one address at every process, and falls back to the process\'s own window', async () => {
    const limit = { attempts: 2, windowSeconds: 600, maxTracked: 1000 };
    const table = new MemoryTable();
    const a = new SharedRegistrationLimit(new RegistrationLimiter(limit), limit, table);
    const b = new SharedRegistrationLimit(new RegistrationLimiter(limit), limit, table);
    assert.equal(await a.attempt('192.0.2.1'), true);
    assert.equal(await b.attempt('192.0.2.1'), true);
    assert.equal(await a.attempt('192.0.2.1'), false);
    assert.equal(await b.attempt('192.0.2.9'), true, 'another address');
    table.down = true;
    const c = new SharedRegistrationLimit(new RegistrationLimiter(limit), limit, table);
    assert.equal(await c.attempt('192.0.2.5'), true);
    assert.equal(await c.attempt('192.0.2.5'), true);
    assert.equal(await c.attempt('192.0.2.5'), false, 'its own window still holds');
  });
});
