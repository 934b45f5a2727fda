import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HEADER, decodedChunks, run, slices } from './test-harness.ts';
import type { Element } from './element.ts';

const STANZAS =
  "<message to='bob@localhost' id='x1' type='chat'><body>héllo &lt;wörld&gt; &amp; 😀 &#x263A;&#9731;</body><thread>t</thread></message>" +
  "<presence><show>away</show><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>" +
  "<iq type='get' id='2'><ping xmlns='urn:xmpp:ping'/></iq>";

function assertStanzas(elements: readonly Element[], label: string): void {
  assert.deepEqual(elements.map((e) => e.name), ['message', 'presence', 'iq'], label);
  const [message, presence, iq] = elements;
  assert.equal(message!.getChildText('body'), 'héllo <wörld> & 😀 ☺☃', label);
  assert.equal(message!.attrs.type, 'chat', label);
  assert.equal(presence!.getChild('c', 'http://jabber.org/protocol/caps')?.attrs.ver, 'QgayPKawpkPSDYmwT/WM94uAlu0=', label);
  assert.equal(iq!.getChild('ping')?.attrs.xmlns, 'urn:xmpp:ping', label);
}

describe('StreamParser, stream framing (RFC 6120 §4)', () => {
  it('reports the header, each stanza and the close, in order', () => {
    const r = run([HEADER, "<message to='a@b'><body>hi</body></message>", ' ', '<presence/>', '</stream:stream>']);
    assert.deepEqual({ ...r.opened }, { xmlns: 'jabber:client', 'xmlns:stream': 'http://etherx.jabber.org/streams', to: 'localhost', version: '1.0' });
    assert.deepEqual(r.events.map((e) => Object.keys(e)[0]), ['open', 'element', 'element', 'close']);
    assert.deepEqual(r.elements.map((e) => e.toString()), ['<message to="a@b"><body>hi</body></message>', '<presence/>']);
    assert.deepEqual(r.failures, []);
  });

  it('accepts a header without the XML declaration, and everything in one chunk', () => {
    const header = HEADER.replace("<?xml version='1.0'?>", '');
    const r = run([header + STANZAS + '</stream:stream>']);
    assertStanzas(r.elements, 'one chunk');
    assert.equal(r.closed, true);
    assert.deepEqual(r.failures, []);
  });

  it('hands out a stanza only once its last byte has arrived', () => {
    const r = run([HEADER, '<message><body>hi</body></message', '>']);
    assert.equal(r.elements.length, 1);
    const partial = run([HEADER, '<message><body>hi</body>']);
    assert.equal(partial.elements.length, 0);
    assert.deepEqual(partial.failures, []);
  });

  it('handles every chunk boundary of the string, including inside names, attributes, references and surrogate pairs', () => {
    const doc = HEADER + STANZAS + '</stream:stream>';
    for (let size = 1; size <= 17; size++) {
      const r = run(slices(doc, size));
      assert.deepEqual(r.failures, [], `chunk size ${size}`);
      assertStanzas(r.elements, `chunk size ${size}`);
      assert.equal(r.closed, true);
    }
  });

  it('handles every byte boundary of the UTF-8 stream when decoded with a streaming TextDecoder', () => {
    const doc = HEADER + STANZAS + '</stream:stream>';
    for (let size = 1; size <= 9; size++) {
      const r = run(decodedChunks(doc, size));
      assert.deepEqual(r.failures, [], `byte chunk size ${size}`);
      assertStanzas(r.elements, `byte chunk size ${size}`);
    }
  });

  it('keeps CR LF as LF (XML 1.0 §2.11) even when split between chunks', () => {
    const r = run([HEADER, '<message><body>a\r', '\nb\rc</body></message>']);
    assert.equal(r.elements[0]!.getChildText('body'), 'a\nb\nc');
  });

  it('reads CDATA sections as text', () => {
    const r = run([HEADER, '<message><body><![CDATA[a & <b>]]></body></message>']);
    assert.equal(r.elements[0]!.getChildText('body'), 'a & <b>');
  });

  it('reports stream-level elements with their prefix and keeps namespace declarations as attributes', () => {
    const r = run([HEADER, "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"]);
    assert.equal(r.elements[0]!.name, 'stream:features');
    assert.ok(r.elements[0]!.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls')?.getChild('required'));
  });

  it('hands out the stanzas before a close in the same chunk, then the close', () => {
    const r = run([HEADER, '<a/><b/></stream:stream>']);
    assert.deepEqual(r.events.map((e) => ('element' in e ? e.element.name : Object.keys(e)[0])), ['open', 'a', 'b', 'close']);
  });
});

describe('StreamParser, size limit and keepalives (RFC 6120 §4.6.1, §13.12)', () => {
  const limits = { maxStanzaSize: 100 };
  const exactly = (n: number): string => `<a>${'x'.repeat(n - 7)}</a>`;

  it('counts each stanza on its own: a stanza of exactly the limit passes', () => {
    assert.equal(exactly(100).length, 100);
    const r = run([HEADER, exactly(100), exactly(100) + exactly(100)], 'stream', limits);
    assert.deepEqual(r.failures, []);
    assert.equal(r.elements.length, 3);
  });

  it('accepts a chunk far larger than the limit when it holds many small stanzas', () => {
    const r = run([HEADER + exactly(90).repeat(50)], 'stream', limits);
    assert.deepEqual(r.failures, []);
    assert.equal(r.elements.length, 50);
  });

  it('does not count whitespace keepalives, alone or around stanzas in the same chunk', () => {
    const r = run(
      [HEADER, ...Array.from({ length: 500 }, () => ' '), '\n'.repeat(300), `${' '.repeat(300)}${exactly(100)}${'\t'.repeat(300)}`, exactly(100) + '\r\n'.repeat(300), exactly(100)],
      'stream',
      limits,
    );
    assert.deepEqual(r.failures, []);
    assert.equal(r.elements.length, 3);
  });

  it('many stanzas near the limit, each followed by keepalives, never add up', () => {
    const chunks = [HEADER];
    for (let i = 0; i < 200; i++) chunks.push(exactly(95), '  ');
    const r = run(chunks, 'stream', limits);
    assert.deepEqual(r.failures, []);
    assert.equal(r.elements.length, 200);
  });
});

describe('StreamParser, the source text of each stanza', () => {
  const originals = [
    "<message to='bob@localhost' id='x1' type='chat'><body>héllo &lt;wörld&gt; &amp; 😀 &#x263A;&#9731;</body><thread>t</thread></message>",
    "<presence><show>away</show><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>",
    "<iq type='get' id='2'><ping xmlns='urn:xmpp:ping'/></iq>",
  ];

  it('gives each stanza that came in one write its exact text, whitespace keepalives and neighbours left out', () => {
    const r = run([HEADER, ` ${originals[0]} ${originals[1]}<r xmlns='urn:xmpp:sm:3'/>`, originals[2]!]);
    assert.deepEqual(r.sources, [originals[0], originals[1], "<r xmlns='urn:xmpp:sm:3'/>", originals[2]]);
  });

  it('gives the whole text of a stanza begun in an earlier write (it was held as text), and when only its start tag was carried', () => {
    assert.deepEqual(run([HEADER, '<message><body>hi</body>', '</message>']).sources, ['<message><body>hi</body></message>']);
    assert.deepEqual(run([HEADER, ' <message><body>h', 'i</body>', '</message> <iq/>']).sources, ['<message><body>hi</body></message>', '<iq/>']);
    assert.deepEqual(run([HEADER, "<message to='a", "@b'><body>hi</body></message>"]).sources, ["<message to='a@b'><body>hi</body></message>"]);
  });

  it('never gives a text that is not the stanza, wherever the writes are cut', () => {
    const text = originals.join(' ');
    for (let size = 1; size <= text.length; size++) {
      const r = run([HEADER, ...slices(text, size)]);
      assert.equal(r.sources.length, 3, `size ${size}`);
      r.sources.forEach((source, i) => {
        assert.equal(source, originals[i], `size ${size}, stanza ${i}`);
      });
    }
  });

  it('gives a WebSocket message its element text', () => {
    const message = "<message xmlns='jabber:client' to='a@b'><body>hi</body></message>";
    assert.deepEqual(run([message], 'websocket').sources, [message]);
  });
});
