import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressKey, AuthThrottle, BoundedMap, DEFAULT_AUTH_THROTTLE } from './throttle.ts';

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('AuthThrottle', () => {
  const config = { ...DEFAULT_AUTH_THROTTLE, addressFreeFailures: 3, accountFreeFailures: 5, baseDelayMs: 1000, maxDelayMs: 8000, maxReplyDelayMs: 2000 };

  it('lets the free failures through, then doubles the back-off up to the cap', () => {
    const c = clock();
    const t = new AuthThrottle(config, c.now);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      assert.deepEqual(t.admit('192.0.2.1', 'a@x'), { ok: true }, `attempt ${i + 1} admitted after waiting`);
      delays.push(t.failed('192.0.2.1', 'a@x'));
      const refused = t.admit('192.0.2.1', 'b@x');
      if (i >= 3) {
        assert.equal(refused.ok, false, `attempt right after failure ${i + 1} refused`);
        assert.equal(!refused.ok && refused.by, 'address');
      }
      c.advance(8000);
    }
    // The reply hold is the back-off capped at maxReplyDelayMs.
    assert.deepEqual(delays, [0, 0, 0, 1000, 2000, 2000, 2000, 2000]);
  });

  it('refuses for the remaining back-off and admits once it has passed', () => {
    const c = clock();
    const t = new AuthThrottle(config, c.now);
    for (let i = 0; i < 6; i++) t.failed('192.0.2.1', 'a@x'); // the third past the free three: 4000 ms
    const r = t.admit('192.0.2.1', 'a@x');
    assert.deepEqual(r, { ok: false, retryAfterMs: 4000, by: 'address' });
    c.advance(3999);
    assert.equal(t.admit('192.0.2.1', 'a@x').ok, false);
    c.advance(1);
    assert.equal(t.admit('192.0.2.1', 'a@x').ok, true);
  });

  it('counts an account across addresses, and its owner logging in clears it', () => {
    const c = clock();
    const t = new AuthThrottle(config, c.now);
    for (let i = 0; i < 6; i++) t.failed(`192.0.2.${i}`, 'a@x');
    const r = t.admit('198.51.100.7', 'a@x');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.by, 'account');
    assert.equal(t.admit('198.51.100.7', 'b@x').ok, true, 'other accounts are not affected');
    t.succeeded('a@x');
    assert.equal(t.admit('198.51.100.7', 'a@x').ok, true);
  });

  it('forgets failures after forgetAfterMs', () => {
    const c = clock();
    const t = new AuthThrottle({ ...config, forgetAfterMs: 60_000 }, c.now);
    for (let i = 0; i < 3; i++) t.failed('192.0.2.1', 'a@x');
    c.advance(60_001);
    assert.equal(t.failed('192.0.2.1', 'a@x'), 0, 'counting starts over');
  });

  it('tracks at most maxTracked keys per table', () => {
    const t = new AuthThrottle({ ...config, maxTracked: 100 });
    for (let i = 0; i < 10_000; i++) t.failed(`10.0.${i >> 8}.${i & 255}`, `u${i}@x`);
    assert.deepEqual(t.tracked, { addresses: 100, accounts: 100 });
  });
});

describe('BoundedMap', () => {
  it('drops the least recently set key', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('a', 3);
    m.set('c', 4);
    assert.equal(m.get('b'), undefined);
    assert.equal(m.get('a'), 3);
    assert.equal(m.get('c'), 4);
  });
});

describe('addressKey', () => {
  it('keeps IPv4, unmaps IPv4-mapped IPv6, and takes the /64 of IPv6', () => {
    assert.equal(addressKey('203.0.113.9'), '203.0.113.9');
    assert.equal(addressKey('::ffff:203.0.113.9'), '203.0.113.9');
    assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });
});
