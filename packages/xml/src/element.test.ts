import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element, xml } from './element.ts';
import { parseElement } from './parse-element.ts';
import { escapeAttr, escapeText } from './escape.ts';

function reparse(el: Element): Element {
  const back = parseElement(el.toString());
  assert.ok(back instanceof Element, `parses back: ${JSON.stringify(back)}`);
  return back;
}

describe('escaping (XML 1.0 §2.4, §3.3.3)', () => {
  it('escapes the markup characters in text and all five in attribute values', () => {
    assert.equal(escapeText('a & b < c > d " e \' f'), 'a &amp; b &lt; c &gt; d " e \' f');
    assert.equal(escapeAttr('a & b < c > d " e \' f'), 'a &amp; b &lt; c &gt; d &quot; e &apos; f');
    assert.equal(escapeText('&amp;'), '&amp;amp;', 'never treats its input as already escaped');
    assert.equal(escapeText(']]>'), ']]&gt;');
  });

  it('returns plain strings untouched, including non-ASCII text', () => {
    for (const s of ['', 'plain', 'héllo wörld 😀', 'tab\tand\nnewline in text']) assert.equal(escapeText(s), s);
    assert.equal(escapeAttr('ünïcødé 😀'), 'ünïcødé 😀');
  });

  it('writes whitespace a parser would normalise as character references', () => {
    // §2.11: a literal CR in text is read back as LF; §3.3.3: tab, CR and LF in an attribute are read back as spaces.
    assert.equal(escapeText('a\r\nb'), 'a&#xD;\nb');
    assert.equal(escapeAttr('a\tb\nc\rd'), 'a&#x9;b&#xA;c&#xD;d');
  });
});

describe('Element', () => {
  it('serialises attributes in insertion order and empty elements self-closed', () => {
    assert.equal(xml('presence').toString(), '<presence/>');
    assert.equal(xml('iq', { type: 'get', id: '1', to: 'x' }).toString(), '<iq type="get" id="1" to="x"/>');
    assert.equal(xml('a', {}, '').toString(), '<a></a>', 'an empty text child still gives an open and a close tag');
    assert.equal(xml('stream:error', {}, xml('conflict')).toString(), '<stream:error><conflict/></stream:error>');
  });

  it('escapes text and attribute values on output', () => {
    const el = xml('message', { to: 'a"b\'c<d>&e' }, xml('body', {}, '<script>&amp;</script>'));
    assert.equal(el.toString(), '<message to="a&quot;b&apos;c&lt;d&gt;&amp;e"><body>&lt;script&gt;&amp;amp;&lt;/script&gt;</body></message>');
  });

  it('round-trips through the parser unchanged', () => {
    const el = xml('iq', { type: 'set', id: 'x&y' }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'a@b', name: 'Ünïcødé <3' }, xml('group', {}, 'Friends & "Family"'))));
    const back = reparse(el);
    assert.equal(back.toString(), el.toString());
    assert.equal(back.getChild('query', 'jabber:iq:roster')?.getChild('item')?.attrs.name, 'Ünïcødé <3');
  });

  it('round-trips every special character, whitespace and astral text in text and attributes', () => {
    const nasty = '& < > " \' ]]> \t \n \r\n \r 😀 é \u00a0 \u2028';
    const el = xml('message', { id: nasty, 'xml:lang': 'en' }, xml('body', {}, nasty), 'mixed ', xml('b'), ' content');
    const back = reparse(el);
    assert.equal(back.attrs.id, nasty);
    assert.equal(back.getChildText('body'), nasty);
    assert.deepEqual(back.children.filter((c) => typeof c === 'string'), ['mixed ', ' content']);
    assert.equal(back.toString(), el.toString());
  });

  it('keeps prefixed names and namespace declarations as written', () => {
    const el = xml('stream:features', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, xml('mechanisms', { xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl' }));
    const back = reparse(el);
    assert.equal(back.name, 'stream:features');
    assert.equal(back.localName, 'features');
    assert.equal(back.getChild('mechanisms')?.xmlns, 'urn:ietf:params:xml:ns:xmpp-sasl');
    assert.equal(xml('body').localName, 'body');
  });

  it('openTag() writes the opening tag only, escaped', () => {
    const header = xml('stream:stream', { xmlns: 'jabber:client', to: 'a&b' });
    assert.equal(header.openTag(), '<stream:stream xmlns="jabber:client" to="a&amp;b">');
  });
});

describe('xml() builder', () => {
  it('skips undefined, false and null, and flattens nested arrays', () => {
    const el = xml('a', { x: undefined, y: '1' }, undefined, false, null, [xml('b'), [xml('c'), [undefined, 'deep']]], 'text');
    assert.equal(el.toString(), '<a y="1"><b/><c/>deeptext</a>');
    assert.equal(Object.hasOwn(el.attrs, 'x'), false, 'an undefined attribute is not even a key');
  });

  it('accepts null or no attributes', () => {
    assert.equal(xml('a', null, 'x').toString(), '<a>x</a>');
    assert.deepEqual({ ...xml('a').attrs }, {});
  });

  it('copies the attribute object it is given', () => {
    const attrs = { to: 'a' };
    const el = xml('message', attrs);
    attrs.to = 'b';
    assert.equal(el.attrs.to, 'a');
  });
});

describe('Element navigation and copies', () => {
  it('finds children by name and namespace, reads text', () => {
    const el = xml('message', {}, xml('body', {}, 'one', 'two'), xml('x', { xmlns: 'urn:a' }), xml('x', { xmlns: 'urn:b' }));
    assert.equal(el.getChildText('body'), 'onetwo');
    assert.equal(el.getChild('x', 'urn:b')?.attrs.xmlns, 'urn:b');
    assert.equal(el.getChildren('x').length, 2);
    assert.equal(el.getChildren().length, 3);
    assert.equal(el.getChildren('x', 'urn:c').length, 0);
    assert.equal(el.getChildByNamespace('urn:a')?.name, 'x');
    assert.equal(el.getChild('missing'), undefined);
    assert.equal(el.getChildText('missing'), undefined);
    assert.equal(el.text(), '', 'text() reads direct text children only');
    assert.ok(el.is('message'));
    assert.ok(!el.is('message', 'jabber:client'), 'an element without xmlns is not in a given namespace');
    assert.equal(el.attr('id'), undefined);
  });

  it('append() skips absent children and chains', () => {
    const el = xml('a').append(undefined, null, false, xml('b'), 'c');
    assert.equal(el.toString(), '<a><b/>c</a>');
  });

  it('withAttrs copies attributes and leaves the original alone', () => {
    const el = xml('message', { from: 'spoof', to: 'b' });
    const stamped = el.withAttrs({ from: 'real', to: undefined });
    assert.equal(stamped.attrs.from, 'real');
    assert.equal(stamped.attrs.to, undefined);
    assert.equal(stamped.toString(), '<message from="real"/>');
    assert.equal(el.attrs.from, 'spoof');
    assert.equal(el.attrs.to, 'b');
  });

  it('withAttrs keeps the order of the attributes it keeps and adds new ones last', () => {
    const el = xml('message', { id: '1', from: 'spoof', to: 'b', type: 'chat' });
    assert.equal(el.withAttrs({ from: 'a@x/r', xmlns: undefined, lang: 'en' }).toString(), '<message id="1" from="a@x/r" to="b" type="chat" lang="en"/>');
  });

  it('attributes named like Object.prototype members are attributes like any other', () => {
    const el = reparse(xml('message', { constructor: 'c', ['__proto__']: 'p', toString: 't' } as Record<string, string>));
    assert.equal(el.attrs.constructor as unknown, 'c');
    assert.equal(el.attrs.__proto__ as unknown, 'p');
    const stamped = el.withAttrs({ from: 'a@x/r' });
    assert.equal(stamped.toString(), '<message constructor="c" __proto__="p" toString="t" from="a@x/r"/>');
    assert.equal(el.clone().toString(), '<message constructor="c" __proto__="p" toString="t"/>');
    // Absent ones are absent, not inherited.
    assert.equal(xml('message').attrs.constructor as unknown, undefined);
    assert.equal('toString' in xml('message').attrs, false);
  });

  it('clone() is deep: changing the copy leaves the original alone', () => {
    const el = xml('message', { id: '1' }, xml('body', { 'xml:lang': 'en' }, 'hi'));
    const copy = el.clone();
    copy.attrs.id = '2';
    copy.getChild('body')!.attrs['xml:lang'] = 'de';
    copy.getChild('body')!.children.push(' there');
    assert.equal(el.toString(), '<message id="1"><body xml:lang="en">hi</body></message>');
    assert.equal(copy.toString(), '<message id="2"><body xml:lang="de">hi there</body></message>');
  });
});
