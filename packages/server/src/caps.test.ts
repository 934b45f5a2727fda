import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capsVerification } from './caps.ts';

describe('XEP-0115 verification string', () => {
  it('matches the simple example of §5.2', () => {
    const ver = capsVerification([{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }], [
      'http://jabber.org/protocol/caps',
      'http://jabber.org/protocol/disco#info',
      'http://jabber.org/protocol/disco#items',
      'http://jabber.org/protocol/muc',
    ]);
    assert.equal(ver, 'QgayPKawpkPSDYmwT/WM94uAlu0=');
  });
});
