// A property-based fuzzer over the stream parser (issue #18): for generated
// streams, valid and broken, every way of cutting them into reads gives the
// same outcome, with the tree of an unfinished stanza kept or dropped
// (limits.maxHeldTree), and the parser never throws. Bounded for CI; for a
// long run: FUZZ_SECONDS=3600 FUZZ_SEED=… node scripts/test.mjs stream-parser.fuzz

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { run } from '../test-harness.ts';
import type { ParserLimits } from '../limits.ts';
import { HEADER, cut, cutPoints, streamBody } from './stream-arbitraries.ts';

const seconds = Number(process.env.FUZZ_SECONDS ?? 0);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** CI: a fixed number of runs; long runs: as many as fit in FUZZ_SECONDS. */
const budget: fc.Parameters<unknown> = seconds > 0 ? { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false } : { numRuns: 3000 };

interface Outcome {
  elements: string[];
  sources: (string | undefined)[];
  opened: boolean;
  closed: boolean;
  failure: string | undefined;
}

function outcome(chunks: string[], limits: Partial<ParserLimits>): Outcome {
  const r = run(chunks, 'stream', limits);
  for (const f of r.failures) assert.doesNotMatch(f.text, /unreachable/, 'an internal invariant broke');
  assert.ok(r.failures.length <= 1, 'at most one failure');
  return { elements: r.elements.map((e) => e.toString()), sources: r.sources, opened: r.opened !== undefined, closed: r.closed, failure: r.failures[0]?.condition };
}

/**
 * Outcomes agree when they fail (or not) in the same way and hand out the
 * same elements; a stream that fails may hand out fewer of the elements
 * before the fault (a read is handed out only once it parsed whole), never
 * other ones.
 */
function assertSame(a: Outcome, b: Outcome, what: string): void {
  assert.equal(b.failure, a.failure, `${what}: failure`);
  assert.equal(b.opened, a.opened, `${what}: opened`);
  if (a.failure === undefined) {
    assert.deepEqual(b.elements, a.elements, `${what}: elements`);
    assert.deepEqual(b.sources, a.sources, `${what}: sources`);
    assert.equal(b.closed, a.closed, `${what}: closed`);
    return;
  }
  const n = Math.min(a.elements.length, b.elements.length);
  assert.deepEqual(b.elements.slice(0, n), a.elements.slice(0, n), `${what}: elements before the fault`);
}

describe('StreamParser fuzzer (fast-check)', { timeout: seconds > 0 ? (seconds + 600) * 1000 : 120_000 }, () => {
  it('every cutting of a stream into reads gives the same outcome, tree held or not', () => {
    let runs = 0;
    fc.assert(
      fc.property(streamBody, cutPoints, cutPoints, (body, p1, p2) => {
        runs++;
        const whole = outcome([HEADER + body], {});
        assertSame(whole, outcome([HEADER, ...cut(body, p1)], {}), 'cut');
        assertSame(whole, outcome([HEADER, ...cut(body, p2)], { maxHeldTree: 0 }), 'cut, no tree held');
        // Every single cut, for short bodies.
        if (body.length <= 40) {
          for (let i = 1; i < body.length; i++) assertSame(whole, outcome([HEADER + body.slice(0, i), body.slice(i)], { maxHeldTree: 0 }), `cut at ${i}`);
        }
        // Where it succeeds, every source is the element's own text.
        if (whole.failure === undefined) for (const s of whole.sources) assert.ok(s !== undefined && body.includes(s));
      }),
      { ...budget, ...(seed === undefined ? {} : { seed }) },
    );
    if (seconds > 0) console.log(`# ${runs} streams in ${seconds} s${seed === undefined ? '' : `, seed ${seed}`}`);
  });
});
