import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StreamParser, parseElement, type Element } from '@switchboard/xml';
import { fromAttribute, stampedText } from './stamp.ts';

const HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

/** Each stanza of one write, with the source text the parser gave it. */
function parsed(write: string): { el: Element; source: string | undefined }[] {
  const out: { el: Element; source: string | undefined }[] = [];
  const parser = new StreamParser({ streamOpen() {}, element: (el, source) => out.push({ el, source }), streamClose() {}, failure: (f) => assert.fail(f.text) });
  parser.write(HEADER);
  parser.write(write);
  return out;
}

/** The element as a comparable value: attributes in name order, text and children in document order. */
function canonical(el: Element): unknown {
  return { name: el.name, attrs: Object.entries(el.attrs).sort(([a], [b]) => (a < b ? -1 : 1)), children: el.children.map((c) => (typeof c === 'string' ? c : canonical(c))) };
}

/** The stamped text says what the stamped element says. */
function assertStampsAlike(stanza: string, fullJid: string): string {
  const [{ el, source }] = parsed(stanza) as [{ el: Element; source: string | undefined }];
  const text = stampedText(el, source, fromAttribute(fullJid));
  assert.ok(text !== undefined, stanza);
  el.attrs.from = fullJid;
  const reparsed = parseElement(text);
  assert.ok(!('condition' in reparsed), `${text} does not parse`);
  assert.deepEqual(canonical(reparsed as Element), canonical(el), text);
  return text;
}

describe("stamping `from` on the client's own text", () => {
  it('writes the attribute after the name and leaves the rest as the client wrote it', () => {
    const text = assertStampsAlike("<message to='juliet@example.com' type='chat'><body>hi</body></message>", 'romeo@example.net/orchard');
    assert.equal(text, `<message from="romeo@example.net/orchard" to='juliet@example.com' type='chat'><body>hi</body></message>`);
    assert.equal(assertStampsAlike('<presence/>', 'romeo@example.net/orchard'), '<presence from="romeo@example.net/orchard"/>');
  });

  it('keeps references, CDATA, odd spacing and markup characters in values meaning what they meant', () => {
    assertStampsAlike("<message\n  to = \"juliet@example.com\"\ttype='chat' id='a&gt;b/c'><body>&lt;3 &amp; &#x263A; <![CDATA[<not markup> & ]]></body><x xmlns='urn:x' a='&apos;\"'/></message>", 'romeo@example.net/orchard');
    assertStampsAlike("<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>", 'romeo@example.net/orchard');
  });

  it('escapes a full JID whose resource has markup characters', () => {
    const text = assertStampsAlike("<message to='juliet@example.com'/>", `romeo@example.net/"a" & <b>`);
    assert.ok(text.startsWith('<message from="romeo@example.net/&quot;a&quot; &amp; &lt;b&gt;"'), text);
  });

  it('gives no text when the client wrote a from or an xmlns of its own, or when there is no source', () => {
    const [{ el: withFrom, source: fromSource }] = parsed("<message from='someone@else' to='juliet@example.com'/>") as [{ el: Element; source: string }];
    assert.equal(stampedText(withFrom, fromSource, fromAttribute('romeo@example.net/orchard')), undefined);
    const [{ el: withXmlns, source: xmlnsSource }] = parsed("<message xmlns='jabber:client' to='juliet@example.com'/>") as [{ el: Element; source: string }];
    assert.equal(stampedText(withXmlns, xmlnsSource, fromAttribute('romeo@example.net/orchard')), undefined);
    assert.equal(stampedText(withXmlns, undefined, fromAttribute('romeo@example.net/orchard')), undefined);
  });
});
