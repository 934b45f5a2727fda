// The client against Debian's ejabberd 23.01, started by the test as its
// own instance (testkit/ejabberd.ts): the failures issue #19 found when a
// new user tried the library against it, each reproduced here.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEjabberd, type EjabberdServer } from '@switchboard/testkit';
import { Client, type ClientOptions } from '../src/index.ts';

const USERS = [
  { username: 'alice', password: 'alice-pw' },
  { username: 'bob', password: 'bob-pw' },
];

describe('client against ejabberd (Debian 23.01)', () => {
  let ejabberd: EjabberdServer;
  const clients: Client[] = [];
  before(async () => {
    ejabberd = await startEjabberd({ users: USERS });
  });
  after(async () => {
    for (const c of clients) await c.disconnect();
    await ejabberd?.stop();
  });
  const make = (extra: Partial<ClientOptions> = {}): Client => {
    const client = new Client({
      domain: 'localhost',
      username: 'alice',
      password: 'alice-pw',
      transport: { kind: 'tcp', host: '127.0.0.1', port: ejabberd.c2sPort },
      retry: { delayMs: 200, maxAttempts: 2 },
      timeoutMs: 5000,
      ...extra,
    });
    clients.push(client);
    return client;
  };

  it('logs in with default options over STARTTLS (no -PLUS with a channel binding the server does not list)', async () => {
    const client = make();
    const jid = await client.connect();
    assert.match(jid, /^alice@localhost\//);
    await client.disconnect();
  });
});
