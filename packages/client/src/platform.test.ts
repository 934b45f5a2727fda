// Each entry point hands the client its platform: the browser entry has no
// TCP, and says so when the client is made rather than on connect().

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client as BrowserClient } from './browser.ts';
import { Client as NodeClient } from './index.ts';
import { ClientError } from './errors.ts';

const account = { domain: 'localhost', username: 'a', password: 'b' };

describe('platforms', () => {
  it('the browser entry refuses TCP when the client is made', () => {
    assert.throws(
      () => new BrowserClient(account),
      (err: unknown) => err instanceof ClientError && err.code === 'SB_ERR_POLICY' && err.fatal && /websocket/.test(err.message),
    );
    assert.doesNotThrow(() => new BrowserClient({ ...account, transport: { kind: 'websocket', url: 'wss://localhost/xmpp-websocket' } }));
  });

  it('the Node entry takes TCP and WebSocket', () => {
    assert.doesNotThrow(() => new NodeClient(account));
    assert.doesNotThrow(() => new NodeClient({ ...account, transport: { kind: 'websocket', url: 'wss://localhost/xmpp-websocket' } }));
  });
});
