// Reading incoming messages: carbons unwrapped and marked, forged carbons and
// archive results kept from the application.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element, parseElement } from '@switchboard/xml';
import { readMessage } from './carbons.ts';

const el = (text: string): Element => {
  const parsed = parseElement(text);
  assert.ok(parsed instanceof Element);
  return parsed;
};

const carbon = (from: string, kind: 'received' | 'sent') =>
  el(
    `<message from="${from}" to="me@x/laptop" type="chat"><${kind} xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">` +
      `<message from="you@y/phone" to="me@x/phone" type="chat"><body>hi</body><stanza-id xmlns="urn:xmpp:sid:0" by="me@x" id="s1"/></message>` +
      `</forwarded></${kind}></message>`,
  );

describe('readMessage', () => {
  it('a plain message is a message, with the stanza id its account archive gave it', () => {
    const m = readMessage(el('<message from="you@y/phone" type="chat"><body>hi</body><stanza-id xmlns="urn:xmpp:sid:0" by="me@x" id="s9"/><stanza-id xmlns="urn:xmpp:sid:0" by="evil@z" id="no"/></message>'), 'me@x');
    assert.equal(m?.kind, 'message');
    assert.equal(m?.stanzaId, 's9');
  });

  it('carbons from the account are unwrapped and marked', () => {
    for (const kind of ['received', 'sent'] as const) {
      const m = readMessage(carbon('me@x', kind), 'me@x');
      assert.equal(m?.kind, `${kind}-carbon`);
      assert.equal(m?.stanza.attrs.from, 'you@y/phone');
      assert.equal(m?.stanza.getChildText('body'), 'hi');
      assert.equal(m?.stanzaId, 's1');
    }
  });

  it('a carbon from anyone else, a full JID of the account included, is dropped', () => {
    for (const from of ['mallory@evil', 'me@x/phone', 'x']) assert.equal(readMessage(carbon(from, 'received'), 'me@x'), undefined, from);
    assert.equal(readMessage(el('<message to="me@x/laptop"><received xmlns="urn:xmpp:carbons:2"/></message>'), 'me@x'), undefined, 'no from');
  });

  it('archive results are not messages for the application', () => {
    assert.equal(readMessage(el('<message><result xmlns="urn:xmpp:mam:2" id="1"/></message>'), 'me@x'), undefined);
  });
});
