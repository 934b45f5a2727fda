// A message stored offline while its recipient logs in (#17, #21): the store
// (here a real SQLite store made slower than a login, as PostgreSQL under
// load was) and the take at the user's initial presence go in turn, so the
// message arrives in the session that just began, not at the next login.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OfflineStore, Storage } from '../src/storage/ports.ts';
import { RawClient, startTestServer, waitFor } from './helpers.ts';

const STORE_MS = 600;

/** The opened store, with each offline store taking STORE_MS longer; every other call as it was. */
function slowOfflineStores(opened: Storage): Storage {
  const offline = opened.offline;
  const store: OfflineStore['store'] = async (...args) => {
    await new Promise((r) => setTimeout(r, STORE_MS));
    return offline.store(...args);
  };
  const slow = new Proxy(offline, {
    get: (target, key) => {
      if (key === 'store') return store;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return new Proxy(opened, { get: (target, key) => (key === 'offline' ? slow : Reflect.get(target, key, target)) });
}

describe('offline storage and the login that races it', () => {
  it('a message whose store began before the initial presence is delivered in that session, once', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true }, { storage: slowOfflineStores });
    try {
      await server.addUser('sender', 'pw');
      await server.addUser('late', 'pw');
      const sender = await RawClient.connect(server.c2sPort);
      await sender.login('sender', 'pw', 's');
      sender.send("<message to='late@localhost' type='chat' id='raced'><body>while you log in</body></message>");
      // The store is under way (for STORE_MS); the recipient logs in and sends initial presence meanwhile.
      const late = await RawClient.connect(server.c2sPort);
      await late.login('late', 'pw', 'r');
      late.send('<presence/>');
      await late.expect(/id="raced"/, STORE_MS + 3000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(late.received.split('id="raced"').length - 1, 1);
      // Nothing was left behind for the next login.
      await waitFor(async () => (await server.storage.offline.count('late', 'localhost')) === 0, 2000, 'offline storage empty');
      assert.doesNotMatch(sender.received, /type="error"/);
      sender.close();
      late.close();
    } finally {
      await server.stop();
    }
  });
});
