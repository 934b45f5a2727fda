import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from './element.ts';
import { parseElement } from './parse-element.ts';

describe('parseElement', () => {
  it('parses one standalone element with its children and text', () => {
    const el = parseElement("<route xmlns='urn:switchboard:route' to='sm'><message to='a@b'><body>x &amp; y</body></message></route>");
    assert.ok(el instanceof Element);
    assert.equal(el.attrs.to, 'sm');
    assert.equal(el.getChild('message')?.getChildText('body'), 'x & y');
  });

  it('has no size limit unless given one', () => {
    const big = `<a>${'x'.repeat(1024 * 1024)}</a>`;
    assert.ok(parseElement(big) instanceof Element);
    assert.deepEqual(parseElement(big, { maxStanzaSize: 1000 }), { condition: 'policy-violation', text: 'stanza larger than 1000 characters' });
  });

  it('returns the failure instead of throwing', () => {
    const cases: [string, string][] = [
      ['', 'not-well-formed'],
      ['<a>', 'not-well-formed'],
      ['<a/><b/>', 'not-well-formed'],
      ['<a></b>', 'not-well-formed'],
      ['<a>\u0001</a>', 'not-well-formed'],
      ['<a><!-- x --></a>', 'restricted-xml'],
      ['<a>&lt;&foo;</a>', 'restricted-xml'],
    ];
    for (const [text, condition] of cases) {
      const result = parseElement(text);
      assert.ok(!(result instanceof Element), text);
      assert.equal(result.condition, condition, text);
    }
    const deep = parseElement('<a><b><c/></b></a>', { maxDepth: 2 });
    assert.ok(!(deep instanceof Element) && deep.condition === 'policy-violation');
  });
});
