import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HEADER, run } from './test-harness.ts';
import type { ParseFailureCondition, ParserLimits } from './limits.ts';

/** Exactly one failure, with this condition, and no stanza handed out after the header. */
function failsWith(chunks: string[], condition: ParseFailureCondition, limits: Partial<ParserLimits> = {}): void {
  const label = JSON.stringify(chunks.join('').replace(HEADER, '<HEADER>')).slice(0, 100);
  const r = run(chunks, 'stream', limits);
  assert.equal(r.failures.length, 1, `one failure for ${label}, got ${JSON.stringify(r.failures)}`);
  assert.equal(r.failures[0]!.condition, condition, label);
  assert.equal(typeof r.failures[0]!.text, 'string');
  assert.equal(r.elements.length, 0, `no element for ${label}`);
  assert.equal(r.closed, false);
}

describe('StreamParser failures: not-well-formed (RFC 6120 §4.9.3.13)', () => {
  it('mismatched and stray close tags', () => {
    failsWith([HEADER, '<message><body></message>'], 'not-well-formed');
    failsWith([HEADER, '<message></body>'], 'not-well-formed');
    failsWith([HEADER, '</message>'], 'not-well-formed');
    failsWith([HEADER, '<message>', '<body>', '</message>'], 'not-well-formed');
  });

  it('characters XML does not allow, raw or as references', () => {
    failsWith([HEADER, '<message>\u0001</message>'], 'not-well-formed');
    failsWith([HEADER, '<message>\u0000</message>'], 'not-well-formed');
    failsWith([HEADER, '<message>\uFFFE</message>'], 'not-well-formed');
    failsWith([HEADER, "<message id='\u0008'/>"], 'not-well-formed');
    failsWith([HEADER, '<message>&#0;</message>'], 'not-well-formed');
    failsWith([HEADER, '<message>&#x1;</message>'], 'not-well-formed');
  });

  it('garbage, bad names and broken attributes', () => {
    failsWith([HEADER, '<<<>>>'], 'not-well-formed');
    failsWith([HEADER, '<1message/>'], 'not-well-formed');
    failsWith([HEADER, "<message to='a></message>x'/>"], 'not-well-formed');
    failsWith([HEADER, '<message to=a/>'], 'not-well-formed');
    failsWith([HEADER, '<message a="1" a="2"/>'], 'not-well-formed');
    failsWith(['plain text, no xml'], 'not-well-formed');
  });

  it("a bare '&' is refused at once rather than swallowing the stream", () => {
    failsWith([HEADER, '<message><body>fish & chips</body></message><presence/>'], 'not-well-formed');
    failsWith([HEADER, "<message to='a & b'/>"], 'not-well-formed');
    failsWith([HEADER, '<message><body>a &', ' b</body></message>'], 'not-well-formed');
    failsWith([HEADER, '<message><body>a &;</body></message>'], 'not-well-formed');
    failsWith([HEADER, '<message><body>a &am p;</body></message>'], 'not-well-formed');
  });

  it('an XML declaration after the start, text after the close, a second root', () => {
    failsWith([HEADER, "<?xml version='1.0'?>"], 'not-well-formed');
    const r = run([HEADER, '</stream:stream>', '<message/>']);
    assert.equal(r.closed, true);
    assert.equal(r.failures[0]?.condition, 'not-well-formed');
  });
});

describe('StreamParser failures: restricted-xml (RFC 6120 §11.1)', () => {
  it('a DTD, before or after the stream header', () => {
    failsWith(["<?xml version='1.0'?><!DOCTYPE foo [<!ENTITY x 'y'>]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"], 'restricted-xml');
    failsWith(['<!DOCTYPE stream>'], 'restricted-xml');
    failsWith([HEADER, '<!DOCTYPE x>'], 'restricted-xml');
  });

  it('comments, between stanzas, inside one or before the header', () => {
    failsWith([HEADER, '<!-- a comment -->'], 'restricted-xml');
    failsWith([HEADER, '<message><!-- inside --></message>'], 'restricted-xml');
    failsWith(['<!-- first -->' + HEADER], 'restricted-xml');
  });

  it('processing instructions', () => {
    failsWith([HEADER, '<?php echo 1; ?>'], 'restricted-xml');
    failsWith([HEADER, '<message><?pi data?></message>'], 'restricted-xml');
  });

  it('references to entities other than the five predefined ones, in text or attributes', () => {
    failsWith([HEADER, '<message><body>&nbsp;</body></message>'], 'restricted-xml');
    failsWith([HEADER, "<message to='&x;'/>"], 'restricted-xml');
    failsWith([HEADER, '<message><body>&nbs', 'p;</body></message>'], 'restricted-xml');
  });
});

describe('StreamParser failures: invalid-namespace (RFC 6120 §4.9.3.10)', () => {
  it('a root that is not <stream:stream> in the streams namespace', () => {
    failsWith(["<stream:stream xmlns:stream='urn:wrong'>"], 'invalid-namespace');
    failsWith(['<stream:stream>'], 'invalid-namespace');
    failsWith(["<stream xmlns='http://etherx.jabber.org/streams'>"], 'invalid-namespace');
    failsWith(["<message xmlns:stream='http://etherx.jabber.org/streams'/>"], 'invalid-namespace');
    failsWith(['<message/>'], 'invalid-namespace');
  });
});

describe('StreamParser failures: policy-violation (RFC 6120 §13.12)', () => {
  it('a stanza over maxStanzaSize, whether it arrives in one chunk or many', () => {
    const big = `<message><body>${'x'.repeat(2000)}</body></message>`;
    failsWith([HEADER, big], 'policy-violation', { maxStanzaSize: 1000 });
    failsWith([HEADER + big], 'policy-violation', { maxStanzaSize: 1000 });
    failsWith([HEADER, '<message>', ...Array.from({ length: 10 }, () => 'y'.repeat(200))], 'policy-violation', { maxStanzaSize: 1000 });
    failsWith([HEADER, `<a>${'x'.repeat(94)}</a>`], 'policy-violation', { maxStanzaSize: 100 });
  });

  it('an unfinished open tag cannot grow past the limit, even with spaces in its own chunks', () => {
    const chunks = [HEADER, "<message to='"];
    for (let i = 0; i < 10; i++) chunks.push('x'.repeat(300), ' ');
    failsWith(chunks, 'policy-violation', { maxStanzaSize: 1000 });
    failsWith([HEADER, '<message', ...Array.from({ length: 200 }, (_, i) => ` a${i}='1'`)], 'policy-violation', { maxStanzaSize: 1000 });
  });

  it('a text node that never ends, inside a stanza', () => {
    failsWith([HEADER, '<message><body>', ...Array.from({ length: 20 }, () => ' '.repeat(100))], 'policy-violation', { maxStanzaSize: 1000 });
  });

  it('nesting deeper than maxDepth (the stanza is depth 1), and no deeper than that is fine', () => {
    failsWith([HEADER, '<a>'.repeat(6) + '</a>'.repeat(6)], 'policy-violation', { maxDepth: 5 });
    failsWith([HEADER, '<a>'.repeat(6)], 'policy-violation', { maxDepth: 5 });
    const ok = run([HEADER, '<a>'.repeat(5) + '</a>'.repeat(5)], 'stream', { maxDepth: 5 });
    assert.deepEqual(ok.failures, []);
    assert.equal(ok.elements.length, 1);
  });

  it('more attributes on one element than maxAttributes (xmlns declarations count)', () => {
    const attrs = (n: number): string => Array.from({ length: n }, (_, i) => `a${i}='1'`).join(' ');
    failsWith([HEADER, `<message ${attrs(10)}/>`], 'policy-violation', { maxAttributes: 9 });
    failsWith([HEADER, `<message><body ${attrs(9)} xmlns='urn:x'/></message>`], 'policy-violation', { maxAttributes: 9 });
    const ok = run([HEADER, `<message ${attrs(9)}/>`], 'stream', { maxAttributes: 9 });
    assert.deepEqual(ok.failures, []);
  });

  it('the default limits allow a stanza of 256 KiB and refuse a larger one', () => {
    const body = (n: number): string => `<message><body>${'x'.repeat(n - 32)}</body></message>`;
    assert.deepEqual(run([HEADER, body(256 * 1024)]).failures, []);
    assert.equal(run([HEADER, body(256 * 1024 + 1)]).failures[0]?.condition, 'policy-violation');
  });
});

describe('StreamParser after a failure', () => {
  it('reports one failure and ignores everything after it, valid or not', () => {
    const r = run([HEADER, '<a></b>', '<message/>', '<!-- x -->', '</stream:stream>', '<<<']);
    assert.equal(r.failures.length, 1);
    assert.equal(r.elements.length, 0);
    assert.equal(r.closed, false);
  });

  it('drops the stanzas of the chunk that failed, and ignores the rest of that chunk', () => {
    // saxes reports a bad close tag after closing the element: nothing from the failing chunk is handed out.
    const r = run([HEADER, '<ok/>', '<a/><b></c><d/>', '<e/>']);
    assert.deepEqual(r.elements.map((e) => e.name), ['ok']);
    assert.equal(r.failures.length, 1);
  });

  it('stops after a limit failure too', () => {
    const r = run([HEADER, `<a>${'x'.repeat(200)}</a>`, '<b/>'], 'stream', { maxStanzaSize: 100 });
    assert.equal(r.failures.length, 1);
    assert.equal(r.elements.length, 0);
  });
});
