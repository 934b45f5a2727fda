// Wire fixtures, round-tripped both ways (StanzaJS protocol-cases):
// fixtures/<xep>/<case>.xml read into the typed value must equal <case>.json,
// and that value written back must be the same XML (attribute order and
// indentation aside).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Element, parseElement } from '@switchboard/xml';
import { parseJingle, writeJingle } from './xep0166.ts';
import { parseIbb, writeIbb, type IbbPayload } from './xep0047.ts';
import { hashElement, parseHash, type Hash } from './xep0300.ts';
import { canonical, plain } from './test-util.ts';

const ROOT = new URL('../../fixtures/', import.meta.url).pathname;

interface Codec {
  parse(el: Element): unknown;
  write(value: unknown): Element;
}

const jingleCodec: Codec = {
  parse(el) {
    const r = parseJingle(el);
    assert.ok(r.ok, r.ok ? '' : r.text);
    return r.jingle;
  },
  write: (v) => writeJingle(v as Parameters<typeof writeJingle>[0]),
};

const CODECS: Record<string, Codec> = {
  'xep-0047': { parse: (el) => parseIbb(el), write: (v) => writeIbb(v as IbbPayload) },
  'xep-0300': { parse: (el) => parseHash(el), write: (v) => hashElement(v as Hash) },
};

describe('wire fixtures', () => {
  const specs = readdirSync(ROOT).sort();
  it('cover every spec the package implements', () => {
    for (const spec of ['xep-0047', 'xep-0166', 'xep-0167', 'xep-0176', 'xep-0234', 'xep-0260', 'xep-0261', 'xep-0300', 'xep-0320', 'xep-0338', 'xep-0343']) {
      assert.ok(specs.includes(spec), spec);
    }
  });
  for (const spec of specs) {
    const codec = CODECS[spec] ?? jingleCodec;
    for (const file of readdirSync(join(ROOT, spec)).filter((f) => f.endsWith('.xml')).sort()) {
      it(`${spec}/${file}`, () => {
        const text = readFileSync(join(ROOT, spec, file), 'utf8');
        const el = parseElement(text);
        assert.ok(el instanceof Element, `${file} parses`);
        const value = codec.parse(el);
        const expected: unknown = JSON.parse(readFileSync(join(ROOT, spec, file.replace(/\.xml$/, '.json')), 'utf8'));
        assert.deepEqual(plain(value), expected, 'XML → value');
        assert.equal(canonical(codec.write(value)), canonical(el), 'value → XML');
      });
    }
  }
});
