// XEP-0313 / XEP-0059 wire forms: what the client library builds, the server
// reads back the same; what a server must refuse, it refuses with the XEP's error.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element, parseElement } from '@switchboard/xml';
import { isStanzaError } from './errors.ts';
import { mamFinElement, mamMetadataElement, mamPrefsElement, mamQueryElement, mamResultMessage, parseMamFin, parseMamMetadata, parseMamPrefs, parseMamQuery, parseMamResult, type MamQuery } from './xep0313.ts';
import { stanzaIdBy, stanzaIdElement, withoutStanzaIdsBy } from './xep0297.ts';

const el = (text: string): Element => {
  const parsed = parseElement(text);
  assert.ok(parsed instanceof Element, text);
  return parsed;
};

describe('XEP-0313 query', () => {
  it('round-trips every filter and paging value', () => {
    const q: MamQuery = {
      queryId: 'q1',
      with: 'juliet@capulet.lit',
      start: new Date('2010-06-07T00:00:00Z'),
      end: new Date('2010-07-07T13:23:54.123Z'),
      afterId: 'a',
      beforeId: 'b',
      ids: ['x', 'y'],
      fullText: 'hello world',
      max: 10,
      before: '',
      flipPage: true,
    };
    const parsed = parseMamQuery(el(mamQueryElement(q).toString()));
    assert.deepEqual(parsed, { ok: true, query: q });
  });

  it('refuses what XEP-0313 §4.1.1 and XEP-0059 call bad requests', () => {
    const form = (fields: string, extra = '') =>
      `<query xmlns="urn:xmpp:mam:2"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field>${fields}</x>${extra}</query>`;
    const cases: [string, string][] = [
      [form('<field var="colour"><value>red</value></field>'), 'bad-request'],
      [form('<field var="start"><value>yesterday</value></field>'), 'bad-request'],
      [form('<field var="start"><value>2010-06-07T00:00:00Z</value></field><field var="end"><value>2009-06-07T00:00:00Z</value></field>'), 'bad-request'],
      [form('', '<set xmlns="http://jabber.org/protocol/rsm"><max>-1</max></set>'), 'bad-request'],
      [form('', '<set xmlns="http://jabber.org/protocol/rsm"><max>ten</max></set>'), 'bad-request'],
      [form('', '<set xmlns="http://jabber.org/protocol/rsm"><after/></set>'), 'bad-request'],
      [form('', '<set xmlns="http://jabber.org/protocol/rsm"><after>a</after><before>b</before></set>'), 'bad-request'],
      [form('', '<set xmlns="http://jabber.org/protocol/rsm"><index>3</index></set>'), 'feature-not-implemented'],
      ['<query xmlns="urn:xmpp:mam:2"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>urn:xmpp:mam:1</value></field></x></query>', 'bad-request'],
      ['<query xmlns="urn:xmpp:mam:2"><surprise/></query>', 'bad-request'],
    ];
    for (const [text, condition] of cases) {
      const r = parseMamQuery(el(text));
      assert.ok(!r.ok, text);
      assert.equal(r.error.condition, condition, text);
    }
    assert.deepEqual(parseMamQuery(el('<query xmlns="urn:xmpp:mam:2"/>')), { ok: true, query: {} }, 'an empty query is the whole archive');
  });
});

describe('XEP-0313 results, fin and prefs', () => {
  it('a result message carries the forwarded message and its stamp', () => {
    const archived = el('<message from="a@x/r" to="b@x" type="chat"><body>hi</body></message>');
    const stamp = new Date('2026-01-02T03:04:05.678Z');
    const m = el(mamResultMessage('b@x/r', 'b@x', 'q1', 'id1', stamp, archived).toString());
    const r = parseMamResult(m);
    assert.equal(r?.id, 'id1');
    assert.equal(r?.queryId, 'q1');
    assert.equal(r?.forwarded.stamp?.getTime(), stamp.getTime());
    assert.equal(r?.forwarded.stanza.getChildText('body'), 'hi');
    assert.equal(parseMamResult(el('<message><body>x</body></message>')), undefined);
  });

  it('fin round-trips complete and the RSM summary', () => {
    const fin = { complete: true, rsm: { first: 'a', last: 'b', count: 7 } };
    assert.deepEqual(parseMamFin(el(mamFinElement(fin).toString())), fin);
    assert.deepEqual(parseMamFin(el(mamFinElement({ complete: false, rsm: { count: 0 } }).toString())), { complete: false, rsm: { count: 0 } });
  });

  it('prefs round-trip; a bad default is bad-request', () => {
    const prefs = { default: 'roster' as const, always: ['a@x'], never: ['b@x', 'c@x'] };
    assert.deepEqual(parseMamPrefs(el(mamPrefsElement(prefs).toString())), prefs);
    const bad = parseMamPrefs(el('<prefs xmlns="urn:xmpp:mam:2" default="sometimes"/>'));
    assert.ok(isStanzaError(bad) && bad.condition === 'bad-request');
  });
});

describe('XEP-0359 stanza ids', () => {
  it('ids claiming to be by the server are stripped, others kept', () => {
    const m = el('<message to="b@x"><body>x</body></message>');
    m.append(stanzaIdElement('b@x', 'forged'), stanzaIdElement('other@y', 'theirs'));
    const clean = withoutStanzaIdsBy(m, 'b@x');
    assert.equal(stanzaIdBy(clean, 'b@x'), undefined);
    assert.equal(stanzaIdBy(clean, 'other@y'), 'theirs');
    assert.equal(clean.attrs.to, 'b@x');
    const plain = el('<message><body>y</body></message>');
    assert.equal(withoutStanzaIdsBy(plain, 'b@x'), plain, 'nothing to strip: the same element');
  });
});

describe('XEP-0313 §5 archive metadata', () => {
  it("reads the XEP's example and round-trips what the server writes; an empty archive is an empty <metadata/>", () => {
    const example = el(`<metadata xmlns='urn:xmpp:mam:2'><start id='YWxwaGEg' timestamp='2008-08-22T21:09:04Z' /><end id='b21lZ2Eg' timestamp='2020-04-20T14:34:21Z' /></metadata>`);
    const read = parseMamMetadata(example)!;
    assert.deepEqual(read, { start: { id: 'YWxwaGEg', timestamp: new Date('2008-08-22T21:09:04Z') }, end: { id: 'b21lZ2Eg', timestamp: new Date('2020-04-20T14:34:21Z') } });
    assert.deepEqual(parseMamMetadata(el(mamMetadataElement(read).toString())), read);
    assert.equal(mamMetadataElement({}).toString(), '<metadata xmlns="urn:xmpp:mam:2"/>');
    assert.deepEqual(parseMamMetadata(el('<metadata xmlns="urn:xmpp:mam:2"/>')), {});
    assert.equal(parseMamMetadata(el('<metadata xmlns="urn:xmpp:mam:1"/>')), undefined);
  });
});
