import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element, xml } from './element.ts';
import { parseElement } from './parse-element.ts';
import { escapeAttr, escapeText } from './escape.ts';

describe('Element', () => {
  it('escapes text and attribute values on output', () => {
    const el = xml('message', { to: 'a"b\'c<d>&e' }, xml('body', {}, '<script>&amp;</script>'));
    assert.equal(el.toString(), '<message to="a&quot;b&apos;c&lt;d&gt;&amp;e"><body>&lt;script&gt;&amp;amp;&lt;/script&gt;</body></message>');
    assert.equal(escapeText('plain'), 'plain');
    assert.equal(escapeAttr('"'), '&quot;');
  });

  it('round-trips through the parser unchanged', () => {
    const el = xml('iq', { type: 'set', id: 'x&y' }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'a@b', name: 'Ünïcødé <3' }, xml('group', {}, 'Friends & "Family"'))));
    const back = parseElement(el.toString());
    assert.ok(back instanceof Element);
    assert.equal(back.toString(), el.toString());
    assert.equal(back.getChild('query', 'jabber:iq:roster')?.getChild('item')?.attrs.name, 'Ünïcødé <3');
  });

  it('builder skips undefined, false and null, and flattens arrays', () => {
    const el = xml('a', { x: undefined, y: '1' }, undefined, false, null, [xml('b'), [xml('c')]], 'text');
    assert.equal(el.toString(), '<a y="1"><b/><c/>text</a>');
  });

  it('finds children by name and namespace, reads text', () => {
    const el = xml('message', {}, xml('body', {}, 'one', 'two'), xml('x', { xmlns: 'urn:a' }), xml('x', { xmlns: 'urn:b' }));
    assert.equal(el.getChildText('body'), 'onetwo');
    assert.equal(el.getChild('x', 'urn:b')?.attrs.xmlns, 'urn:b');
    assert.equal(el.getChildren('x').length, 2);
    assert.equal(el.getChildByNamespace('urn:a')?.name, 'x');
    assert.equal(el.getChild('missing'), undefined);
  });

  it('withAttrs copies attributes and leaves the original alone', () => {
    const el = xml('message', { from: 'spoof', to: 'b' });
    const stamped = el.withAttrs({ from: 'real', to: undefined });
    assert.equal(stamped.attrs.from, 'real');
    assert.equal(stamped.attrs.to, undefined);
    assert.equal(el.attrs.from, 'spoof');
  });
});
