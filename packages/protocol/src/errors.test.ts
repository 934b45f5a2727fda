import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element, parseElement, xml } from '@switchboard/xml';
import {
  STANZA_ERROR_CONDITIONS,
  STREAM_ERROR_CONDITIONS,
  isStanzaError,
  parseStanzaError,
  parseStreamError,
  seeOtherHost,
  stanzaError,
  stanzaErrorElement,
  streamError,
  streamErrorElement,
  type StanzaErrorCondition,
  type StanzaErrorType,
  type StreamError,
} from './errors.ts';
import { NS_STANZA_ERRORS, NS_STREAM_ERRORS } from './namespaces.ts';

/** The type RFC 6120 §8.3.3 says each condition SHOULD carry (the first one where it names two). */
const RFC_TYPES: Record<StanzaErrorCondition, StanzaErrorType> = {
  'bad-request': 'modify', // §8.3.3.1
  conflict: 'cancel', // §8.3.3.2
  'feature-not-implemented': 'cancel', // §8.3.3.3 (cancel or modify)
  forbidden: 'auth', // §8.3.3.4
  gone: 'cancel', // §8.3.3.5
  'internal-server-error': 'cancel', // §8.3.3.6
  'item-not-found': 'cancel', // §8.3.3.7
  'jid-malformed': 'modify', // §8.3.3.8
  'not-acceptable': 'modify', // §8.3.3.9
  'not-allowed': 'cancel', // §8.3.3.10
  'not-authorized': 'auth', // §8.3.3.11
  'policy-violation': 'modify', // §8.3.3.12 (modify or wait)
  'recipient-unavailable': 'wait', // §8.3.3.13
  redirect: 'modify', // §8.3.3.14
  'registration-required': 'auth', // §8.3.3.15
  'remote-server-not-found': 'cancel', // §8.3.3.16
  'remote-server-timeout': 'wait', // §8.3.3.17
  'resource-constraint': 'wait', // §8.3.3.18
  'service-unavailable': 'cancel', // §8.3.3.19
  'subscription-required': 'auth', // §8.3.3.20
  'undefined-condition': 'cancel', // §8.3.3.21 (any type; the example uses modify)
  'unexpected-request': 'wait', // §8.3.3.22 (wait or modify)
};

/** Serialises and parses again, as the value would travel. */
function overTheWire(el: Element): Element {
  const back = parseElement(el.toString());
  assert.ok(back instanceof Element, JSON.stringify(back));
  return back;
}

describe('stanzaError (RFC 6120 §8.3)', () => {
  it('lists the 22 conditions of §8.3.3 and gives each its RFC type by default', () => {
    assert.equal(STANZA_ERROR_CONDITIONS.length, 22);
    assert.deepEqual([...STANZA_ERROR_CONDITIONS].sort(), Object.keys(RFC_TYPES).sort());
    for (const condition of STANZA_ERROR_CONDITIONS) {
      assert.deepEqual(stanzaError(condition), { kind: 'stanza-error', condition, type: RFC_TYPES[condition] }, condition);
    }
  });

  it('lets the caller choose another type and add text, an application condition, by and uri', () => {
    const app = xml('too-many', { xmlns: 'urn:example:app' });
    const err = stanzaError('bad-request', { type: 'cancel', text: 'why', application: app, by: 'localhost' });
    assert.deepEqual(err, { kind: 'stanza-error', condition: 'bad-request', type: 'cancel', text: 'why', application: app, by: 'localhost' });
    assert.equal(Object.hasOwn(stanzaError('gone', { text: undefined }), 'text'), false, 'absent options leave no keys behind');
    assert.ok(isStanzaError(err));
    assert.ok(!isStanzaError(streamError('conflict')));
    assert.ok(!isStanzaError(null) && !isStanzaError('bad-request'));
  });

  it('writes the error element of §8.3.2', () => {
    const err = stanzaError('bad-request', { text: 'a < b', by: 'localhost', application: xml('x', { xmlns: 'urn:a' }) });
    assert.equal(
      stanzaErrorElement(err).toString(),
      `<error type="modify" by="localhost"><bad-request xmlns="${NS_STANZA_ERRORS}"/><text xmlns="${NS_STANZA_ERRORS}" xml:lang="en">a &lt; b</text><x xmlns="urn:a"/></error>`,
    );
    assert.equal(stanzaErrorElement(stanzaError('gone', { uri: 'xmpp:a@b' })).toString(), `<error type="cancel"><gone xmlns="${NS_STANZA_ERRORS}">xmpp:a@b</gone></error>`);
  });

  it('round-trips every condition through XML, bare and with every option', () => {
    for (const condition of STANZA_ERROR_CONDITIONS) {
      const bare = stanzaError(condition);
      assert.deepEqual(parseStanzaError(overTheWire(xml('iq', { type: 'error' }, stanzaErrorElement(bare)))), bare, condition);
      const uri = condition === 'gone' || condition === 'redirect' ? `xmpp:new@example.org?${condition}` : undefined;
      const full = stanzaError(condition, { type: 'continue', text: `about ${condition} & more`, by: 'a@b/c', uri });
      const back = parseStanzaError(overTheWire(xml('message', { type: 'error' }, xml('body', {}, 'hi'), stanzaErrorElement(full))));
      assert.deepEqual(back, full, condition);
      const app = stanzaError(condition, { application: xml('detail', { xmlns: 'urn:example:app', n: '1' }) });
      const appBack = parseStanzaError(overTheWire(xml('presence', { type: 'error' }, stanzaErrorElement(app))));
      assert.equal(appBack?.application?.toString(), app.application?.toString(), condition);
      assert.equal(appBack?.condition, condition);
    }
  });

  it('reads what peers send: unknown conditions and types, a missing type, no error child', () => {
    const read = (inner: string): ReturnType<typeof parseStanzaError> => parseStanzaError(overTheWire(parseElement(`<message type='error'>${inner}</message>`) as Element));
    assert.equal(read(`<error type='cancel'><made-up xmlns='${NS_STANZA_ERRORS}'/></error>`)?.condition, 'undefined-condition');
    assert.equal(read(`<error type='cancel'></error>`)?.condition, 'undefined-condition');
    assert.equal(read(`<error type='bogus'><bad-request xmlns='${NS_STANZA_ERRORS}'/></error>`)?.type, 'modify', 'an unknown type reads as the default');
    assert.equal(read(`<error><not-authorized xmlns='${NS_STANZA_ERRORS}'/></error>`)?.type, 'auth');
    assert.equal(read(`<error type='cancel'><bad-request xmlns='urn:wrong'/></error>`)?.condition, 'undefined-condition', 'a condition in another namespace is application-specific');
    assert.equal(read(`<error type='cancel'><bad-request xmlns='urn:wrong'/></error>`)?.application?.attrs.xmlns, 'urn:wrong');
    assert.equal(read(`<error type='cancel'><forbidden xmlns='${NS_STANZA_ERRORS}'>junk</forbidden></error>`)?.uri, undefined, 'only gone and redirect carry an address');
    assert.equal(read(`<error type='cancel'><gone xmlns='${NS_STANZA_ERRORS}'>  xmpp:x@y  </gone></error>`)?.uri, 'xmpp:x@y');
    assert.equal(read(`<error type='cancel'><gone xmlns='${NS_STANZA_ERRORS}'/></error>`)?.uri, undefined);
    assert.equal(parseStanzaError(xml('message', { type: 'error' })), undefined);
  });
});

describe('streamError (RFC 6120 §4.9)', () => {
  it('lists the 25 conditions of §4.9.3', () => {
    assert.equal(STREAM_ERROR_CONDITIONS.length, 25);
    assert.equal(new Set(STREAM_ERROR_CONDITIONS).size, 25);
  });

  it('writes the <stream:error> element of §4.9.2', () => {
    assert.equal(streamErrorElement(streamError('conflict')).toString(), `<stream:error><conflict xmlns="${NS_STREAM_ERRORS}"/></stream:error>`);
    assert.equal(
      streamErrorElement(seeOtherHost('[2001:db8::1]:5222')).toString(),
      `<stream:error><see-other-host xmlns="${NS_STREAM_ERRORS}">[2001:db8::1]:5222</see-other-host></stream:error>`,
    );
  });

  it('round-trips every condition through XML, with and without text and an application element', () => {
    for (const condition of STREAM_ERROR_CONDITIONS) {
      const cases: StreamError[] =
        condition === 'see-other-host'
          ? [seeOtherHost('other.example'), seeOtherHost('192.0.2.7:5222', 'moving')]
          : [streamError(condition), streamError(condition, `why: ${condition} <&>`), streamError(condition, undefined, xml('detail', { xmlns: 'urn:example:app' }))];
      for (const err of cases) {
        const back = parseStreamError(overTheWire(streamErrorElement(err)));
        assert.deepEqual({ ...back, application: back.application?.toString() }, { ...err, application: err.application?.toString() }, condition);
      }
    }
  });

  it('reads an unknown or missing condition as undefined-condition', () => {
    assert.equal(parseStreamError(xml('stream:error', {}, xml('made-up', { xmlns: NS_STREAM_ERRORS }))).condition, 'undefined-condition');
    assert.equal(parseStreamError(xml('stream:error')).condition, 'undefined-condition');
    assert.equal(parseStreamError(xml('stream:error', {}, xml('see-other-host', { xmlns: NS_STREAM_ERRORS }))).host, undefined);
  });
});
