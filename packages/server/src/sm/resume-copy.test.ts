import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@switchboard/xml';
import { ResumeCopy } from './resume-copy.ts';

const msg = (n: number) => xml('message', { id: `m${n}` }, xml('body', {}, String(n)));
const ids = (stanzas: { attrs: Record<string, string | undefined> }[]) => stanzas.map((s) => s.attrs.id);

function copyOf(n: number, limits = { stanzas: 100, bytes: 1e6 }): ResumeCopy {
  const copy = new ResumeCopy('s3cret', 60, limits);
  for (let i = 1; i <= n; i++) assert.equal(copy.keep(msg(i), `<message id="m${i}"/>`), i);
  return copy;
}

describe('the sm copy of a resumable session (XEP-0198 through any c2s)', () => {
  it('with no report, the client count is the copy in order: h acknowledges a prefix and the rest comes back', () => {
    const copy = copyOf(5);
    assert.deepEqual(copy.check(2), { ok: true, acknowledged: 2 });
    const back = copy.resume(2);
    assert.deepEqual(ids(back.stanzas), ['m3', 'm4', 'm5']);
    assert.deepEqual(back.seqs, [3, 4, 5]);
  });

  it('refuses an h above what was sent, and changes nothing', () => {
    const copy = copyOf(3);
    const check = copy.check(4);
    assert.equal(check.ok, false);
    assert.equal(!check.ok && check.sendCount, 3);
    assert.deepEqual(ids(copy.resume(0).stanzas), ['m1', 'm2', 'm3']);
  });

  it("follows the c2s's order: its own stanzas (x) take a count, a superseded presence goes, acks trim", () => {
    const copy = copyOf(6);
    // The c2s wrote 1, its own error, 2, 4 (3 held by CSI, then superseded), 5; the client acknowledged 3 of them.
    copy.acked(3, [1, null, 2, 4, 5], [3], 0);
    assert.equal(copy.count, 3);
    // Counts 4, 5 are seqs 4 and 5 (reported); 6 was never reported, so it is the guess after them.
    assert.deepEqual(copy.check(6), { ok: true, acknowledged: 3 });
    assert.equal(copy.check(7).ok, false);
    assert.deepEqual(ids(copy.resume(5).stanzas), ['m6']);
  });

  it('counts what the session handled from the client: envelopes it got, plus what the c2s answered alone', () => {
    const copy = copyOf(1);
    copy.received = 4;
    copy.acked(0, [], [], 2);
    assert.equal(copy.inbound, 6);
    assert.equal(copy.resume(0).inbound, 6);
  });

  it('after a resumption the new stream counts from the h it resumed with', () => {
    const copy = copyOf(4);
    copy.resume(1);
    assert.equal(copy.keep(msg(5), 'x'), 5);
    // The replay (2, 3, 4) came first on the new stream, then 5.
    assert.deepEqual(copy.check(5), { ok: true, acknowledged: 4 });
    assert.deepEqual(ids(copy.resume(3).stanzas), ['m4', 'm5']);
  });

  it('is bounded: past the stanza or byte limit nothing more is kept', () => {
    const copy = copyOf(2, { stanzas: 2, bytes: 1e6 });
    assert.equal(copy.keep(msg(3), 'x'), 'full');
    const small = new ResumeCopy('s', 60, { stanzas: 10, bytes: 10 });
    assert.equal(small.keep(msg(1), '12345678901'), 'full');
  });
});
