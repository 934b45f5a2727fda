// XEP-0280 §6.1 eligibility, one case per rule.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@switchboard/xml';
import { eligibleForCarbons, NS_CARBONS, NS_HINTS, type MessageKind } from './eligible.ts';

const body = xml('body', {}, 'hi');
const check = (type: MessageKind, children: ReturnType<typeof xml>[], answers = false): boolean => eligibleForCarbons(xml('message', { type }, children), type, () => answers);

describe('XEP-0280 eligibility', () => {
  it('chat always, normal only with a body, groupchat and headline never', () => {
    assert.equal(check('chat', []), true);
    assert.equal(check('normal', [body]), true);
    assert.equal(check('normal', [xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' })]), false);
    assert.equal(check('groupchat', [body]), false);
    assert.equal(check('headline', [body]), false);
  });

  it('an error only when it answers an eligible message', () => {
    assert.equal(check('error', [body], true), true);
    assert.equal(check('error', [body], false), false);
  });

  it('private, no-copy and carbons themselves are never copied', () => {
    assert.equal(check('chat', [body, xml('private', { xmlns: NS_CARBONS })]), false);
    assert.equal(check('chat', [body, xml('no-copy', { xmlns: NS_HINTS })]), false);
    assert.equal(check('chat', [xml('received', { xmlns: NS_CARBONS })]), false);
    assert.equal(check('chat', [body, xml('no-store', { xmlns: NS_HINTS })]), true);
  });
});
