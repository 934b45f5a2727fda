// XEP-0352 hold-back rules, one case per rule.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type Element } from '@switchboard/xml';
import { ClientState } from './csi.ts';

const presence = (from: string, show?: string): Element => xml('presence', { from }, show && xml('show', {}, show));
const composing = (from: string): Element => xml('message', { from, type: 'chat' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' }));
const chat = (from: string, body: string): Element => xml('message', { from, type: 'chat' }, xml('body', {}, body));
const names = (out: { stanza: Element }[] | undefined): string[] => (out ?? []).map(({ stanza }) => stanza.getChildText('show') ?? stanza.getChildText('body') ?? stanza.getChildren()[0]?.name ?? stanza.name);

describe('XEP-0352 client state', () => {
  it('active: everything is written as it comes', () => {
    const csi = new ClientState(10);
    assert.equal(csi.offer(presence('a@x/1'), undefined), undefined);
    assert.equal(csi.offer(composing('a@x/1'), undefined), undefined);
  });

  it('inactive: presence (newest per sender) and chat states wait; a body flushes them first, in order', () => {
    const csi = new ClientState(10);
    csi.set(true);
    assert.deepEqual(csi.offer(presence('a@x/1', 'away'), undefined), []);
    assert.deepEqual(csi.offer(presence('b@x/1', 'xa'), undefined), []);
    assert.deepEqual(csi.offer(composing('a@x/1'), undefined), []);
    assert.deepEqual(csi.offer(presence('a@x/1', 'dnd'), undefined), []);
    assert.deepEqual(names(csi.offer(chat('a@x/1', 'hello'), undefined)), ['xa', 'composing', 'dnd', 'hello']);
    // Nothing held: an urgent stanza goes alone.
    assert.equal(csi.offer(chat('a@x/1', 'again'), undefined), undefined);
  });

  it('urgent stanzas: iqs (alone, the held ones keep waiting), errors, subscription requests, carbons of a body', () => {
    const csi = new ClientState(10);
    csi.set(true);
    csi.offer(presence('a@x/1', 'away'), undefined);
    assert.equal(csi.offer(xml('iq', { type: 'get', id: '1' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), undefined), undefined);
    assert.deepEqual(names(csi.offer(xml('presence', { type: 'subscribe', from: 'b@x' }), undefined)), ['away', 'presence']);
    assert.equal(csi.offer(xml('message', { type: 'error', from: 'a@x' }), undefined), undefined);
    const carbon = (inner: Element): Element => xml('message', { from: 'me@x' }, xml('received', { xmlns: 'urn:xmpp:carbons:2' }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, inner)));
    assert.equal(csi.offer(carbon(chat('a@x/1', 'hi')), undefined), undefined);
    assert.deepEqual(csi.offer(carbon(composing('a@x/1')), undefined), [], 'a carbon of a chat state waits');
  });

  it('active flushes in order; the bound flushes too', () => {
    const csi = new ClientState(3);
    csi.set(true);
    csi.offer(presence('a@x/1', 'away'), undefined);
    assert.deepEqual(names(csi.set(false)), ['away']);
    csi.set(true);
    csi.offer(composing('a@x/1'), undefined);
    csi.offer(composing('b@x/1'), undefined);
    assert.equal(csi.offer(composing('c@x/1'), undefined)!.length, 3, 'at the bound everything goes');
    assert.deepEqual(csi.drain(), []);
  });
});
