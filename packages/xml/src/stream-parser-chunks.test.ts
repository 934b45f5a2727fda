// Chunk boundaries the hand-written parser has to carry over: each case is
// cut at every position, and the result must be the same as in one piece.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HEADER, run } from './test-harness.ts';
import type { ParserLimits } from './limits.ts';

/** Every way of cutting `text` in two, after the header. */
function everySplit(text: string, limits: Partial<ParserLimits> = {}): { whole: string; cuts: string[] } {
  const whole = summary(run([HEADER, text], 'stream', limits));
  const cuts: string[] = [];
  for (let i = 1; i < text.length; i++) cuts.push(summary(run([HEADER, text.slice(0, i), text.slice(i)], 'stream', limits)));
  return { whole, cuts };
}

function summary(r: ReturnType<typeof run>): string {
  return JSON.stringify({ elements: r.elements.map((e) => e.toString()), closed: r.closed, failure: r.failures.map((f) => f.condition) });
}

function sameAtEveryCut(text: string, expected: string): void {
  const { whole, cuts } = everySplit(text);
  assert.equal(whole, expected, 'in one piece');
  cuts.forEach((got, i) => assert.equal(got, expected, `cut after ${i + 1}: ${JSON.stringify(text.slice(0, i + 1))}`));
}

const ok = (...elements: string[]): string => JSON.stringify({ elements, closed: false, failure: [] });
const fails = (condition: string): string => JSON.stringify({ elements: [], closed: false, failure: [condition] });

describe('StreamParser, chunk boundaries', () => {
  it('references, CR LF, surrogate pairs and CDATA ends, in text and attribute values', () => {
    sameAtEveryCut("<m a='x&amp;y&#x1F600;\r\n😀'>a&lt;b&#x263A;\r\nc😀]]]x<![CDATA[ <&]] ]]]></m>", ok('<m a="x&amp;y😀 😀">a&lt;b☺\nc😀]]]x &lt;&amp;]] ]</m>'));
  });

  it("']]>' in text, whichever chunk its characters arrive in", () => {
    sameAtEveryCut('<m>a]]>b</m>', fails('not-well-formed'));
  });

  it('a bare or unknown reference, wherever it is cut', () => {
    sameAtEveryCut('<m>a & b</m>', fails('not-well-formed'));
    sameAtEveryCut('<m>&nbsp;</m>', fails('restricted-xml'));
    sameAtEveryCut("<m a='&nbsp;'/>", fails('restricted-xml'));
  });

  it('names with non-ASCII and supplementary characters', () => {
    sameAtEveryCut("<é 𐀀='1'></é >", ok('<é 𐀀="1"/>'));
  });

  it('comments, processing instructions and DTDs, from their first characters', () => {
    sameAtEveryCut('<!-- x -->', fails('restricted-xml'));
    sameAtEveryCut('<?pi x?>', fails('restricted-xml'));
    sameAtEveryCut('<!DOCTYPE x>', fails('restricted-xml'));
    sameAtEveryCut('<!-x>', fails('not-well-formed'));
  });

  it('a byte order mark, then the XML declaration in another write (#18)', () => {
    const decl = "<?xml version='1.0'?>";
    const rest = HEADER.slice(decl.length);
    for (const chunks of [['\ufeff', decl, rest], ['\ufeff', decl + rest], ['\ufeff<?x', 'ml', " version='1.0'?>" + rest]]) {
      const r = run(chunks);
      assert.deepEqual(r.failures, [], JSON.stringify(chunks));
      assert.ok(r.opened, 'the stream opens');
    }
    // Still only at the start: after a character of anything else it is refused.
    assert.equal(run(['\ufeff ', decl + rest]).failures[0]?.condition, 'not-well-formed');
  });

  it('an element after the stream close, refused at its first character', () => {
    const r = run([HEADER, '</stream:stream><a']);
    assert.equal(r.closed, false, 'the chunk with the fault hands nothing out');
    assert.equal(r.failures[0]?.condition, 'not-well-formed');
  });

  it('no whitespace between attributes is refused before the next name has ended', () => {
    assert.equal(run([HEADER, "<a b='1'c"]).failures[0]?.condition, 'not-well-formed');
  });

  it('a pending reference that cannot become one is refused before its end arrives', () => {
    assert.equal(run([HEADER, '<m>&am\u0003']).failures[0]?.condition, 'not-well-formed');
    assert.equal(run([HEADER, `<m>&${'a'.repeat(100)}`]).failures[0]?.condition, 'restricted-xml');
  });
});

describe('StreamParser, large tags in small chunks', () => {
  it('reads a tag dribbled in one character at a time in linear time, and finds its end', () => {
    const value = 'x'.repeat(100_000);
    const tag = `<message to='${value}' id="a>b">`;
    const chunks = [HEADER, ...tag, '</message>'];
    const started = performance.now();
    const r = run(chunks);
    const ms = performance.now() - started;
    assert.deepEqual(r.failures, []);
    assert.equal(r.elements[0]?.attrs.to, value);
    assert.equal(r.elements[0]?.attrs.id, 'a>b');
    // Re-reading the tag with every chunk would take minutes; once is far below a second.
    assert.ok(ms < 5000, `${ms} ms`);
  });

  it('still refuses a fault inside a large unfinished tag long before the limit', () => {
    const chunks = [HEADER, `<message to='${'x'.repeat(1000)}`, ...'y&z w'];
    const r = run(chunks, 'stream', { maxStanzaSize: 1_000_000 });
    assert.equal(r.failures[0]?.condition, 'not-well-formed');
    const lt = run([HEADER, `<message to='${'x'.repeat(1000)}`, 'y<'], 'stream', { maxStanzaSize: 1_000_000 });
    assert.equal(lt.failures[0]?.condition, 'not-well-formed');
  });

  it('counts a large unfinished tag towards the stanza limit as it grows', () => {
    const chunks = [HEADER, `<message to='${'x'.repeat(500)}`, ...Array.from({ length: 100 }, () => 'x'.repeat(10))];
    const r = run(chunks, 'stream', { maxStanzaSize: 1000 });
    assert.equal(r.failures[0]?.condition, 'policy-violation');
  });
});
