import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@switchboard/xml';
import { stanzaError } from '@switchboard/protocol';
import { IqCallee, IqCaller } from './iq.ts';
import { IqError, ClientError } from './errors.ts';
import { realTimers } from './timers.ts';

describe('iq', () => {
  it('caller: resolves with the result, rejects with the typed stanza error, times out', async () => {
    const caller = new IqCaller(realTimers);
    const sent: string[] = [];
    const ok = caller.request(xml('iq', { type: 'get', id: 'a' }), 1000, (el) => sent.push(el.attrs.id!));
    assert.equal(caller.answer(xml('iq', { type: 'result', id: 'a' })), true);
    assert.equal((await ok).attrs.id, 'a');
    const bad = caller.request(xml('iq', { type: 'get', id: 'b' }), 1000, () => {});
    caller.answer(xml('iq', { type: 'error', id: 'b' }, xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }))));
    await assert.rejects(bad, (err: IqError) => err instanceof IqError && err.condition === 'item-not-found');
    await assert.rejects(caller.request(xml('iq', { type: 'get', id: 'c' }), 10, () => {}), (err: ClientError) => err.code === 'SB_ERR_TIMEOUT');
    assert.equal(caller.answer(xml('iq', { type: 'result', id: 'unknown' })), false);
    assert.deepEqual(sent, ['a']);
  });

  it('callee: answers with the handler, its error, or service-unavailable', async () => {
    const callee = new IqCallee();
    callee.register('urn:xmpp:ping', 'ping', () => undefined);
    callee.register('urn:x', 'q', () => stanzaError('forbidden'));
    const ping = await callee.answer(xml('iq', { type: 'get', id: '1', from: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.deepEqual({ ...ping?.attrs }, { type: 'result', id: '1', to: 'localhost' });
    const forbidden = await callee.answer(xml('iq', { type: 'get', id: '2', from: 'a@b' }, xml('q', { xmlns: 'urn:x' })));
    assert.match(forbidden!.toString(), /type="error".*<forbidden/);
    const unknown = await callee.answer(xml('iq', { type: 'set', id: '3', from: 'a@b' }, xml('z', { xmlns: 'urn:unknown' })));
    assert.match(unknown!.toString(), /<service-unavailable/);
    assert.equal(callee.has(xml('iq', {}, xml('ping', { xmlns: 'urn:xmpp:ping' }))), true);
  });

  it('callee: a handler that returns null has answered itself, so nothing is sent for it', async () => {
    const callee = new IqCallee();
    callee.register('urn:xmpp:jingle:1', 'jingle', () => null);
    assert.equal(await callee.answer(xml('iq', { type: 'set', id: '4', from: 'a@b/c' }, xml('jingle', { xmlns: 'urn:xmpp:jingle:1' }))), undefined);
  });
});
