import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SaxesParser } from 'saxes';
import { FIELDS_MATCH, attachHandlers } from './saxes-handlers.ts';

describe('attachHandlers (saxes on V8)', () => {
  it('knows where this saxes keeps its handlers, so the parser stays a fast object', () => {
    assert.equal(FIELDS_MATCH, true, 'saxes renamed its handler fields: update saxes-handlers.ts, or the parser runs ~5× slower');
  });

  it('delivers every event it attaches', () => {
    const seen: string[] = [];
    const sax = new SaxesParser();
    attachHandlers(sax, {
      doctype: () => seen.push('doctype'),
      comment: () => seen.push('comment'),
      processinginstruction: () => seen.push('pi'),
      error: () => seen.push('error'),
      opentag: (tag) => seen.push(`open ${tag.name}`),
      closetag: (tag) => seen.push(`close ${tag.name}`),
      text: (text) => seen.push(`text ${text}`),
      cdata: (text) => seen.push(`cdata ${text}`),
    });
    sax.write('<!DOCTYPE a><a><?pi x?><!-- c -->t<![CDATA[d]]></a></b>');
    assert.deepEqual(seen, ['doctype', 'open a', 'pi', 'comment', 'text t', 'cdata d', 'close a', 'error']);
  });
});
