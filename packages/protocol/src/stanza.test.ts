import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@switchboard/xml';
import { parseStanzaError, replyWithError, stanzaError } from './errors.ts';
import { iqPayload, iqResult, iqType, messageType, presenceType, stanzaKind } from './stanza.ts';

describe('replyWithError (RFC 6120 §8.3.1)', () => {
  it('swaps the addresses, keeps name, id and payload, and adds the error', () => {
    const request = xml('iq', { type: 'get', id: 'q1', from: 'a@x/r', to: 'x' }, xml('query', { xmlns: 'urn:q' }));
    const reply = replyWithError(request, stanzaError('service-unavailable'))!;
    assert.deepEqual({ ...reply.attrs }, { from: 'x', to: 'a@x/r', id: 'q1', type: 'error' });
    assert.equal(reply.name, 'iq');
    assert.ok(reply.getChild('query', 'urn:q'));
    assert.deepEqual(parseStanzaError(reply), stanzaError('service-unavailable'));
    assert.equal(reply.children.at(-1), reply.getChild('error'), 'the error comes after the payload');
  });

  it('answers every type of message and presence, and iq get and set', () => {
    const err = stanzaError('not-allowed');
    for (const [name, type] of [
      ['message', undefined], ['message', 'chat'], ['message', 'groupchat'], ['message', 'headline'], ['message', 'normal'],
      ['presence', undefined], ['presence', 'subscribe'], ['presence', 'probe'], ['presence', 'unavailable'],
      ['iq', 'get'], ['iq', 'set'],
    ] as const) {
      const reply = replyWithError(xml(name, { type, id: 'i', from: 'f@x', to: 't@x' }), err);
      assert.ok(reply, `${name} ${type}`);
      assert.equal(reply.attrs.type, 'error');
      assert.equal(reply.attrs.id, 'i');
    }
  });

  it('keeps the content of a message (the body goes back to its sender) but not stray text', () => {
    const reply = replyWithError(xml('message', { to: 'b@x', from: 'a@x/r', type: 'chat' }, 'stray', xml('body', {}, 'hello')), stanzaError('recipient-unavailable'))!;
    assert.equal(reply.getChildText('body'), 'hello');
    assert.ok(!reply.children.includes('stray'));
  });

  it('leaves out addresses and id that the request did not have', () => {
    const reply = replyWithError(xml('iq', { type: 'set' }, xml('bind')), stanzaError('bad-request'))!;
    assert.deepEqual({ ...reply.attrs }, { type: 'error' });
  });

  it('never answers an error or an iq result, so error loops cannot start', () => {
    for (const name of ['message', 'presence', 'iq']) {
      assert.equal(replyWithError(xml(name, { type: 'error', id: '1' }), stanzaError('bad-request')), undefined, name);
    }
    assert.equal(replyWithError(xml('iq', { type: 'result', id: '1' }), stanzaError('bad-request')), undefined);
  });

  it('does not touch the request', () => {
    const request = xml('message', { from: 'a@x', to: 'b@x' }, xml('body', {}, 'x'));
    const before = request.toString();
    replyWithError(request, stanzaError('forbidden'));
    assert.equal(request.toString(), before);
  });
});

describe('stanza helpers (RFC 6120 §8, RFC 6121)', () => {
  it('stanzaKind names the three stanzas and nothing else', () => {
    assert.equal(stanzaKind(xml('message')), 'message');
    assert.equal(stanzaKind(xml('presence')), 'presence');
    assert.equal(stanzaKind(xml('iq')), 'iq');
    assert.equal(stanzaKind(xml('stream:features')), undefined);
    assert.equal(stanzaKind(xml('r', { xmlns: 'urn:xmpp:sm:3' })), undefined);
  });

  it('messageType: the five types; absent or unknown is normal (RFC 6121 §5.2.2)', () => {
    for (const t of ['chat', 'error', 'groupchat', 'headline', 'normal'] as const) assert.equal(messageType(xml('message', { type: t })), t);
    assert.equal(messageType(xml('message')), 'normal');
    assert.equal(messageType(xml('message', { type: 'bogus' })), 'normal');
    assert.equal(messageType(xml('message', { type: 'Chat' })), 'normal', 'types are case-sensitive');
  });

  it('presenceType: absent is available; unknown, including the word "available", is undefined', () => {
    for (const t of ['error', 'probe', 'subscribe', 'subscribed', 'unavailable', 'unsubscribe', 'unsubscribed'] as const) {
      assert.equal(presenceType(xml('presence', { type: t })), t);
    }
    assert.equal(presenceType(xml('presence')), 'available');
    assert.equal(presenceType(xml('presence', { type: 'available' })), undefined);
    assert.equal(presenceType(xml('presence', { type: 'bogus' })), undefined);
  });

  it('iqType: the four types, anything else undefined', () => {
    for (const t of ['get', 'set', 'result', 'error'] as const) assert.equal(iqType(xml('iq', { type: t })), t);
    assert.equal(iqType(xml('iq')), undefined);
    assert.equal(iqType(xml('iq', { type: 'bogus' })), undefined);
  });

  it('iqPayload: exactly one child element, whatever text is around it (§8.2.3)', () => {
    const ping = xml('ping', { xmlns: 'urn:xmpp:ping' });
    assert.equal(iqPayload(xml('iq', {}, ' ', ping, '\n')), ping);
    assert.equal(iqPayload(xml('iq')), undefined);
    assert.equal(iqPayload(xml('iq', {}, xml('a'), xml('b'))), undefined);
  });

  it('iqResult: swaps addresses, keeps the id, carries an optional payload', () => {
    const request = xml('iq', { id: '7', from: 'a@x/r', to: 'x', type: 'get' }, xml('query'));
    assert.equal(iqResult(request).toString(), '<iq type="result" id="7" to="a@x/r" from="x"/>');
    assert.equal(iqResult(request, xml('pong')).toString(), '<iq type="result" id="7" to="a@x/r" from="x"><pong/></iq>');
    assert.equal(iqResult(xml('iq', { id: '8', type: 'get' })).toString(), '<iq type="result" id="8"/>');
  });
});
