import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StreamParser, type Framing } from './stream-parser.ts';
import type { ParseFailure, ParserLimits } from './limits.ts';
import type { Element } from './element.ts';
import type { Attrs } from './element.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

interface Run {
  opened: Attrs | undefined;
  elements: Element[];
  closed: boolean;
  failures: ParseFailure[];
}

function run(chunks: string[], framing: Framing = 'stream', limits: Partial<ParserLimits> = {}): Run {
  const r: Run = { opened: undefined, elements: [], closed: false, failures: [] };
  const p = new StreamParser(
    { streamOpen: (a) => (r.opened = a), element: (e) => r.elements.push(e), streamClose: () => (r.closed = true), failure: (f) => r.failures.push(f) },
    framing,
    limits,
  );
  for (const c of chunks) {
    if (framing === 'websocket') p.writeMessage(c);
    else p.write(c);
  }
  return r;
}

function failsWith(chunks: string[], condition: string, limits: Partial<ParserLimits> = {}): void {
  const r = run(chunks, 'stream', limits);
  assert.equal(r.failures.length, 1, `one failure for ${JSON.stringify(chunks).slice(0, 80)}`);
  assert.equal(r.failures[0]!.condition, condition);
}

describe('StreamParser, TCP framing', () => {
  it('reads the header, stanzas and the close', () => {
    const r = run([HEADER, "<message to='a@b'><body>hi &amp; &#x263A;</body></message>", ' ', "<presence/>", '</stream:stream>']);
    assert.equal(r.opened?.to, 'localhost');
    assert.deepEqual(r.elements.map((e) => e.name), ['message', 'presence']);
    assert.equal(r.elements[0]!.getChildText('body'), 'hi & ☺');
    assert.equal(r.closed, true);
    assert.deepEqual(r.failures, []);
  });

  it('handles any chunk boundary, including inside names, attributes, entities and multi-byte text', () => {
    const doc = HEADER + "<message to='bob@localhost' id='x1'><body>héllo &lt;wörld&gt; 😀</body><thread>t</thread></message><iq type='get' id='2'><ping xmlns='urn:xmpp:ping'/></iq>";
    for (let size = 1; size <= 13; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < doc.length; i += size) chunks.push(doc.slice(i, i + size));
      const r = run(chunks);
      assert.deepEqual(r.failures, [], `chunk size ${size}`);
      assert.equal(r.elements.length, 2);
      assert.equal(r.elements[0]!.getChildText('body'), 'héllo <wörld> 😀');
      assert.equal(r.elements[1]!.getChild('ping')?.attrs.xmlns, 'urn:xmpp:ping');
    }
  });

  it('not-well-formed: mismatched tags, bad characters, garbage, unclosed attributes', () => {
    failsWith([HEADER, '<message><body></message>'], 'not-well-formed');
    failsWith([HEADER, '<message>\u0001</message>'], 'not-well-formed');
    failsWith([HEADER, '<<<>>>'], 'not-well-formed');
    failsWith([HEADER, "<message to='a></message>x'/>"], 'not-well-formed');
    failsWith([HEADER, '<message a="1" a="2"/>'], 'not-well-formed');
    failsWith(['plain text, no xml'], 'not-well-formed');
  });

  it('restricted-xml: DOCTYPE, comments, processing instructions, undefined entities (RFC 6120 §11.1)', () => {
    failsWith(["<?xml version='1.0'?><!DOCTYPE foo [<!ENTITY x 'y'>]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"], 'restricted-xml');
    failsWith([HEADER, '<!-- a comment -->'], 'restricted-xml');
    failsWith([HEADER, '<message><!-- inside --></message>'], 'restricted-xml');
    failsWith([HEADER, '<?php echo 1; ?>'], 'restricted-xml');
    failsWith([HEADER, '<message><body>&nbsp;</body></message>'], 'restricted-xml');
  });

  it('invalid-namespace: a root that is not <stream:stream> in the streams namespace', () => {
    failsWith(["<stream:stream xmlns:stream='urn:wrong'>"], 'invalid-namespace');
    failsWith(['<message/>'], 'invalid-namespace');
  });

  it('policy-violation: size, depth and attribute count', () => {
    failsWith([HEADER, `<message><body>${'x'.repeat(2000)}</body></message>`], 'policy-violation', { maxStanzaSize: 1000 });
    failsWith([HEADER, '<message>', ...Array.from({ length: 10 }, () => 'y'.repeat(200))], 'policy-violation', { maxStanzaSize: 1000 });
    failsWith([HEADER, '<a>'.repeat(6) + '</a>'.repeat(6)], 'policy-violation', { maxDepth: 5 });
    const attrs = Array.from({ length: 10 }, (_, i) => `a${i}='1'`).join(' ');
    failsWith([HEADER, `<message ${attrs}/>`], 'policy-violation', { maxAttributes: 9 });
  });

  it('a limit counts per stanza: many stanzas and endless keepalives under the limit pass', () => {
    const stanza = `<message><body>${'x'.repeat(500)}</body></message>`;
    const r = run([HEADER, ...Array.from({ length: 50 }, () => stanza), ...Array.from({ length: 5000 }, () => ' ')], 'stream', { maxStanzaSize: 1000 });
    assert.deepEqual(r.failures, []);
    assert.equal(r.elements.length, 50);
  });

  it('ignores everything after a failure', () => {
    const r = run([HEADER, '<a></b>', '<message/>', '<!-- x -->']);
    assert.equal(r.failures.length, 1);
    assert.equal(r.elements.length, 0);
  });
});

describe('StreamParser, WebSocket framing (RFC 7395)', () => {
  it('reads one element per message, including <open/> and <close/>', () => {
    const r = run(["<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>", "<message xmlns='jabber:client'><body>x</body></message>", "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"], 'websocket');
    assert.deepEqual(r.elements.map((e) => e.name), ['open', 'message', 'close']);
    assert.deepEqual(r.failures, []);
  });

  it('refuses a message with no element, two elements, a partial element or stray text', () => {
    for (const bad of [' ', '<a/><b/>', '<message><body>', 'text<a/>']) {
      const r = run([bad], 'websocket');
      assert.equal(r.failures[0]?.condition, 'not-well-formed', bad);
    }
  });

  it('applies the size limit to each message', () => {
    const r = run([`<message><body>${'x'.repeat(5000)}</body></message>`], 'websocket', { maxStanzaSize: 1000 });
    assert.equal(r.failures[0]?.condition, 'policy-violation');
  });
});
