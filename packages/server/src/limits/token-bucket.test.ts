import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('allows the burst, then asks to wait in proportion to the excess, and refills with time', () => {
    let now = 0;
    const bucket = new TokenBucket(1000, 2000, () => now);
    assert.equal(bucket.take(2000), 0, 'the burst passes');
    assert.equal(bucket.take(500), 500, '500 bytes over at 1000 B/s: wait 500 ms');
    now += 500;
    assert.equal(bucket.take(0), 0, 'paid back after the wait');
    now += 2000;
    assert.equal(bucket.take(1500), 0, 'refilled, capped at the burst');
    assert.equal(bucket.take(1000), 500);
  });

  it('tryTake refuses when empty without running into debt, and refills with time', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 3, () => now);
    assert.deepEqual([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()], [true, true, true, false]);
    assert.equal(bucket.tryTake(), false, 'refusals cost nothing');
    now += 500;
    assert.deepEqual([bucket.tryTake(), bucket.tryTake()], [true, false], 'one token back after half a second at 2/s');
  });
});
