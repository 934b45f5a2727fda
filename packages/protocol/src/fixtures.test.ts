// Wire fixtures (StanzaJS protocol-cases style): each fixtures/<spec>/<case>.xml
// is paired with <case>.json, the typed value it stands for. Every case is
// read (XML → value) and written (value → XML), and both must match.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { Element, parseElement } from '@switchboard/xml';
import { parseStanzaError, parseStreamError, stanzaErrorElement, streamErrorElement, type StanzaError, type StreamError } from './errors.ts';

const ROOT = new URL('../fixtures/', import.meta.url);

function element(text: string, what: string): Element {
  const el = parseElement(text);
  assert.ok(el instanceof Element, `${what}: ${JSON.stringify(el)}`);
  return el;
}

/** JSON form of a typed value: the application element as its XML string. */
function toJson(value: StanzaError | StreamError): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  if (value.application) out.application = value.application.toString();
  return out;
}

function fromJson(json: Record<string, unknown>): StanzaError | StreamError {
  const value = { ...json };
  if (typeof value.application === 'string') value.application = element(value.application, 'application');
  return value as unknown as StanzaError | StreamError;
}

for (const spec of readdirSync(ROOT)) {
  describe(`wire fixtures: ${spec}`, () => {
    const dir = new URL(`${spec}/`, ROOT);
    const cases = readdirSync(dir).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4));

    it('has cases, each with its JSON value', () => {
      assert.ok(cases.length >= 5);
      for (const name of cases) assert.ok(readdirSync(dir).includes(`${name}.json`), name);
    });

    for (const name of cases) {
      it(name, () => {
        const wire = element(readFileSync(new URL(`${name}.xml`, dir), 'utf8').trim(), `${name}.xml`);
        const expected = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as Record<string, unknown>;
        const isStream = wire.name === 'stream:error';
        assert.equal(expected.kind, isStream ? 'stream-error' : 'stanza-error');

        // XML → value
        const read = isStream ? parseStreamError(wire) : parseStanzaError(wire);
        assert.ok(read, `${name}: no error read`);
        assert.deepEqual(toJson(read), expected, `${name}: XML → value`);

        // value → XML: the element written from the JSON value is the fixture's error element.
        const value = fromJson(expected);
        const written = isStream ? streamErrorElement(value as StreamError) : stanzaErrorElement(value as StanzaError);
        const original = isStream ? wire : wire.getChild('error');
        assert.equal(written.toString(), original?.toString(), `${name}: value → XML`);
      });
    }
  });
}
