import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Element, parseElement, xml } from '@switchboard/xml';
import {
  STANZA_ERROR_CONDITIONS,
  STREAM_ERROR_CONDITIONS,
  parseStanzaError,
  parseStreamError,
  replyWithError,
  stanzaError,
  stanzaErrorElement,
  streamError,
  streamErrorElement,
  type StanzaError,
  type StreamError,
} from './errors.ts';
import { iqPayload, iqResult, messageType, presenceType } from './stanza.ts';

const FIXTURES = new URL('../fixtures/rfc6120/', import.meta.url).pathname;

function plain(err: StanzaError | StreamError): Record<string, unknown> {
  const out: Record<string, unknown> = { ...err };
  if (err.application) out.application = err.application.toString();
  return out;
}

describe('stanza and stream errors (RFC 6120 §4.9, §8.3)', () => {
  it('gives each stanza condition its default type', () => {
    assert.equal(stanzaError('bad-request').type, 'modify');
    assert.equal(stanzaError('service-unavailable').type, 'cancel');
    assert.equal(stanzaError('not-authorized').type, 'auth');
    assert.equal(stanzaError('resource-constraint').type, 'wait');
    assert.equal(stanzaError('bad-request', { type: 'cancel' }).type, 'cancel');
  });

  it('round-trips every stanza condition through XML', () => {
    for (const condition of STANZA_ERROR_CONDITIONS) {
      const err = stanzaError(condition, { text: `about ${condition}` });
      const back = parseStanzaError(xml('iq', { type: 'error' }, stanzaErrorElement(err)));
      assert.deepEqual(back, err, condition);
    }
  });

  it('round-trips every stream condition through XML', () => {
    for (const condition of STREAM_ERROR_CONDITIONS) {
      const err = streamError(condition, 'why');
      const wire = parseElement(streamErrorElement(err).toString().replace('<stream:error>', "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>"));
      assert.ok(wire instanceof Element);
      assert.deepEqual(parseStreamError(wire), err, condition);
    }
  });

  it('reads an unknown condition as undefined-condition', () => {
    const err = parseStanzaError(xml('message', { type: 'error' }, xml('error', { type: 'cancel' }, xml('made-up', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }))));
    assert.equal(err?.condition, 'undefined-condition');
  });

  it('round-trips the wire fixtures both ways', () => {
    const cases = readdirSync(FIXTURES).filter((f) => f.endsWith('.xml'));
    assert.ok(cases.length >= 3);
    for (const file of cases) {
      const text = readFileSync(join(FIXTURES, file), 'utf8').trim();
      const expected = JSON.parse(readFileSync(join(FIXTURES, file.replace(/\.xml$/, '.json')), 'utf8')) as Record<string, unknown>;
      const isStream = text.startsWith('<stream:error');
      const el = parseElement(isStream ? text.replace('<stream:error>', "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>") : text);
      assert.ok(el instanceof Element, file);
      const value = isStream ? parseStreamError(el) : parseStanzaError(el)!;
      assert.deepEqual(plain(value), expected, `${file}: XML → value`);
      // value → XML: the error element we write equals the fixture's.
      const written = isStream ? streamErrorElement(value as StreamError).toString() : stanzaErrorElement(value as StanzaError).toString();
      const original = isStream ? text : el.getChild('error')!.toString();
      assert.equal(written, original, `${file}: value → XML`);
    }
  });
});

describe('replyWithError', () => {
  it('swaps addresses, keeps the id and payload, adds the error', () => {
    const request = xml('iq', { type: 'get', id: 'q1', from: 'a@x/r', to: 'x' }, xml('query', { xmlns: 'urn:q' }));
    const reply = replyWithError(request, stanzaError('service-unavailable'))!;
    assert.equal(reply.attrs.type, 'error');
    assert.equal(reply.attrs.to, 'a@x/r');
    assert.equal(reply.attrs.from, 'x');
    assert.equal(reply.attrs.id, 'q1');
    assert.ok(reply.getChild('query', 'urn:q'));
    assert.equal(parseStanzaError(reply)?.condition, 'service-unavailable');
  });

  it('never answers an error or an iq result (no error loops)', () => {
    assert.equal(replyWithError(xml('message', { type: 'error' }), stanzaError('bad-request')), undefined);
    assert.equal(replyWithError(xml('iq', { type: 'result', id: '1' }), stanzaError('bad-request')), undefined);
  });
});

describe('stanza helpers', () => {
  it('reads types with the RFC defaults', () => {
    assert.equal(messageType(xml('message')), 'normal');
    assert.equal(messageType(xml('message', { type: 'bogus' })), 'normal');
    assert.equal(presenceType(xml('presence')), 'available');
    assert.equal(presenceType(xml('presence', { type: 'bogus' })), undefined);
    assert.equal(iqPayload(xml('iq', {}, xml('a'), xml('b'))), undefined);
    const result = iqResult(xml('iq', { id: '7', from: 'a', to: 'b', type: 'get' }), xml('pong'));
    assert.deepEqual(result.attrs, { type: 'result', id: '7', to: 'a', from: 'b' });
  });
});
