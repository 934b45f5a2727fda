import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CaptchaChallenges, makeQuestion } from './captcha.ts';

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const fixed = () => ({ question: 'What is two plus two?', answer: '4' });

describe('CaptchaChallenges', () => {
  it('asks sums in words whose answer is in range', () => {
    for (let i = 0; i < 200; i++) {
      const { question, answer } = makeQuestion();
      assert.match(question, /^What is [a-z]+ (plus|minus) [a-z]+\? \(answer in digits\)$/);
      assert.ok(Number(answer) >= 0 && Number(answer) <= 40, answer);
    }
  });

  it('takes one answer per challenge, from its own stream only, digits or the word', () => {
    const t = new CaptchaChallenges({ enabled: true, ttlSeconds: 60, maxPending: 10, maxPerAddress: 10 }, Date.now, fixed);
    const a = t.issue('s1', '192.0.2.1')!;
    assert.match(a.id, /^[A-Za-z0-9_-]{22}$/, '128 random bits');
    assert.equal(t.check(a.id, 's1', ' 4 '), 'right');
    assert.equal(t.check(a.id, 's1', '4'), 'unknown', 'spent');
    const b = t.issue('s1', '192.0.2.1')!;
    assert.equal(t.check(b.id, 's1', '5'), 'wrong');
    assert.equal(t.check(b.id, 's1', '4'), 'unknown', 'a wrong answer spends it too');
    const c = t.issue('s1', '192.0.2.1')!;
    assert.equal(t.check(c.id, 's2', '4'), 'unknown', "another stream's challenge");
    const d = t.issue('s1', '192.0.2.1')!;
    assert.equal(t.check(d.id, 's1', 'Four'), 'right');
    assert.equal(t.size, 0);
  });

  it('is bounded in all and per address (IPv6 /64), and forgets after the TTL', () => {
    const c = clock();
    const t = new CaptchaChallenges({ enabled: true, ttlSeconds: 60, maxPending: 5, maxPerAddress: 2 }, c.now, fixed);
    assert.ok(t.issue('s', '2001:db8::1'));
    assert.ok(t.issue('s', '2001:db8::2'));
    assert.equal(t.issue('s', '2001:db8::3'), undefined, 'the same /64');
    assert.ok(t.issue('s', '192.0.2.1'));
    assert.ok(t.issue('s', '192.0.2.2'));
    assert.ok(t.issue('s', '192.0.2.3'));
    assert.equal(t.issue('s', '192.0.2.4'), undefined, 'the table is full');
    assert.equal(t.size, 5);
    c.advance(60_000);
    assert.ok(t.issue('s', '2001:db8::3'), 'expired ones are swept');
    assert.equal(t.size, 1);
  });

  it('holds a bounded table under a flood', () => {
    const t = new CaptchaChallenges({ enabled: true, ttlSeconds: 300, maxPending: 1000, maxPerAddress: 5 });
    let issued = 0;
    for (let i = 0; i < 100_000; i++) if (t.issue(`s${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)) issued++;
    assert.equal(issued, 1000);
    assert.equal(t.size, 1000);
  });
});
