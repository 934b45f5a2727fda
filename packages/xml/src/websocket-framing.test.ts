import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { run } from './test-harness.ts';

const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>";
const CLOSE = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";

describe('StreamParser, WebSocket framing (RFC 7395 §3.3)', () => {
  it('reads one element per message; <open/> and <close/> come out as elements', () => {
    const r = run([OPEN, "<message xmlns='jabber:client'><body>x</body></message>", CLOSE], 'websocket');
    assert.deepEqual(r.elements.map((e) => e.name), ['open', 'message', 'close']);
    assert.equal(r.elements[0]!.attrs.to, 'localhost');
    assert.equal(r.elements[2]!.xmlns, 'urn:ietf:params:xml:ns:xmpp-framing');
    assert.equal(r.opened, undefined, 'no stream header event in this framing');
    assert.equal(r.closed, false, 'no stream close event either: <close/> is an element');
    assert.deepEqual(r.failures, []);
  });

  it('takes many messages in a row, each parsed on its own', () => {
    const messages = Array.from({ length: 100 }, (_, i) => `<iq type='get' id='q${i}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const r = run([OPEN, ...messages], 'websocket');
    assert.equal(r.elements.length, 101);
    assert.equal(r.elements[100]!.attrs.id, 'q99');
  });

  it('allows whitespace around the element', () => {
    const r = run([' \n<presence/>\t'], 'websocket');
    assert.deepEqual(r.elements.map((e) => e.name), ['presence']);
    assert.deepEqual(r.failures, []);
  });

  for (const [label, bad] of [
    ['an empty message', ''],
    ['only whitespace', ' '],
    ['two elements', '<a/><b/>'],
    ['a partial element', '<message><body>'],
    ['a partial open tag', '<message to='],
    ['stray text before', 'text<a/>'],
    ['stray text after', '<a/>text'],
    ['the start of a second element', '<a/><b'],
    ['a mismatched close', '<a></b>'],
    ['an XML declaration', "<?xml version='1.0'?><a/>"],
  ] as const) {
    it(`refuses ${label} as not-well-formed, without handing anything out`, () => {
      const r = run([bad], 'websocket');
      assert.equal(r.failures.length, 1, label);
      assert.equal(r.failures[0]!.condition, 'not-well-formed', label);
      assert.deepEqual(r.elements, []);
    });
  }

  it('does not let an element continue into the next message', () => {
    const r = run(['<message>', '</message>'], 'websocket');
    assert.equal(r.failures.length, 1);
    assert.deepEqual(r.elements, []);
  });

  it('applies RFC 6120 §11 restrictions and the limits to each message', () => {
    assert.equal(run(['<a><!-- c --></a>'], 'websocket').failures[0]?.condition, 'restricted-xml');
    assert.equal(run(['<a>&nbsp;</a>'], 'websocket').failures[0]?.condition, 'restricted-xml');
    assert.equal(run([`<message><body>${'x'.repeat(5000)}</body></message>`], 'websocket', { maxStanzaSize: 1000 }).failures[0]?.condition, 'policy-violation');
    assert.equal(run(['<a><b><c/></b></a>'], 'websocket', { maxDepth: 2 }).failures[0]?.condition, 'policy-violation');
    const fits = run([`<a>${'x'.repeat(93)}</a>`], 'websocket', { maxStanzaSize: 100 });
    assert.deepEqual(fits.failures, []);
  });

  it('ignores every message after a failure', () => {
    const r = run([OPEN, '<a/><b/>', '<presence/>', CLOSE], 'websocket');
    assert.deepEqual(r.elements.map((e) => e.name), ['open']);
    assert.equal(r.failures.length, 1);
  });
});
