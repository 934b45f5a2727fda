// Stanza builders: markup escaped by the serialiser, characters XML 1.0
// cannot carry replaced, and send()'s guard for everything else.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element, parseElement, xml } from '@switchboard/xml';
import { assertXmlChars, iq, message, presence, xmlSafe } from './stanzas.ts';
import type { ClientError } from './errors.ts';

describe('stanza builders', () => {
  it('message: fields in RFC 6121 order, markup escaped, round-trips through the parser', () => {
    const m = message({ to: 'bob@example.org/a"b', type: 'chat', id: 'm1', lang: 'en', subject: 'S&P', body: '</body><evil/> & \'"', thread: 't1' });
    assert.equal(
      m.toString(),
      '<message to="bob@example.org/a&quot;b" type="chat" id="m1" xml:lang="en"><subject>S&amp;P</subject><body>&lt;/body&gt;&lt;evil/&gt; &amp; \'"</body><thread>t1</thread></message>',
    );
    const back = parseElement(m.toString());
    assert.ok(back instanceof Element);
    assert.equal(back.getChildText('body'), '</body><evil/> & \'"');
    assert.equal(back.attrs.to, 'bob@example.org/a"b');
  });

  it('replaces characters XML 1.0 cannot carry, keeps astral characters', () => {
    assert.equal(xmlSafe('a\u0000b\u0007c\u001Fd\uFFFEe\uFFFF'), 'a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFD');
    assert.equal(xmlSafe('tab\tnl\ncr\r'), 'tab\tnl\ncr\r');
    assert.equal(xmlSafe('lone \uD800 high, lone \uDC00 low, pair \u{1F600}'), 'lone \uFFFD high, lone \uFFFD low, pair \u{1F600}');
    const m = message({ to: 'x\u0001@y', body: 'bell\u0007' });
    assert.equal(m.attrs.to, 'x\uFFFD@y');
    assert.equal(m.getChildText('body'), 'bell\uFFFD');
    assertXmlChars(m);
  });

  it('assertXmlChars refuses text, attributes and names XML cannot carry', () => {
    const code = (f: () => void): string | undefined => {
      try {
        f();
        return undefined;
      } catch (err) {
        return (err as ClientError).code;
      }
    };
    assert.equal(code(() => assertXmlChars(xml('message', {}, xml('body', {}, 'a\u0000')))), 'SB_ERR_INVALID_XML');
    assert.equal(code(() => assertXmlChars(xml('message', { to: '\u0008' }))), 'SB_ERR_INVALID_XML');
    assert.equal(code(() => assertXmlChars(xml('message', {}, xml('x\u0001')))), 'SB_ERR_INVALID_XML');
    assert.equal(code(() => assertXmlChars(xml('message', {}, xml('body', {}, 'fine \u{10FFFF}')))), undefined);
  });

  it('presence: show, status, priority within -128..127', () => {
    assert.equal(presence().toString(), '<presence/>');
    assert.equal(presence({ show: 'away', status: 'out <lunch>', priority: -1 }).toString(), '<presence><show>away</show><status>out &lt;lunch&gt;</status><priority>-1</priority></presence>');
    assert.equal(presence({ to: 'room@muc/nick', type: 'unavailable' }).toString(), '<presence to="room@muc/nick" type="unavailable"/>');
    assert.throws(() => presence({ priority: 128 }), RangeError);
    assert.throws(() => presence({ priority: 1.5 }), RangeError);
  });

  it('iq: one payload', () => {
    assert.equal(iq({ type: 'get', to: 'example.org' }, xml('ping', { xmlns: 'urn:xmpp:ping' })).toString(), '<iq type="get" to="example.org"><ping xmlns="urn:xmpp:ping"/></iq>');
  });
});
