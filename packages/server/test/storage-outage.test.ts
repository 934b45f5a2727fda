// PostgreSQL refused and hung under a running server (#17): the store sits
// behind the testkit's cuttable relay. Every storage call is bounded by
// timeouts.storageSeconds; logins get temporary-auth-failure, stores an
// error to the sender; online chat goes on; the process never crashes and
// serves as before once the database is back.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startProxy, type CuttableProxy } from '@switchboard/testkit';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';

const PG = new URL(process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');

describe('PostgreSQL outages under a running server', { timeout: 60_000 }, () => {
  let proxy: CuttableProxy;
  let server: TestServer;
  let alice: RawClient;
  let bob: RawClient;
  const schema = `sbout${randomBytes(4).toString('hex')}`;

  before(async () => {
    proxy = await startProxy(Number(PG.port || 5432));
    const url = new URL(PG.toString());
    url.host = `127.0.0.1:${proxy.port}`;
    server = await startTestServer({ allowPlaintextOnLoopback: true, storage: { kind: 'postgres', url: url.toString(), schema }, timeouts: { storageSeconds: 1 } });
    for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, 'pw');
    alice = await RawClient.connect(server.c2sPort);
    bob = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'pw', 'a');
    await bob.login('bob', 'pw', 'b');
    bob.send('<presence/>');
    alice.send('<presence/>');
    await new Promise((r) => setTimeout(r, 300));
  });

  after(async () => {
    alice?.close();
    bob?.close();
    proxy.accept();
    await server?.stop();
    await proxy.close();
  });

  for (const fault of ['refused', 'hung'] as const) {
    it(`${fault}: a message for offline storage gets an error, a login gets temporary-auth-failure, online chat goes on, and all serve again after`, async () => {
      if (fault === 'refused') proxy.refuse();
      else proxy.freeze();
      const t0 = Date.now();
      // To carol, who is offline: storage is needed, and fails within the bound.
      bob.send(`<message to='carol@localhost' type='chat' id='${fault}-off'><body>for later</body></message>`);
      // Meanwhile online chat is not stalled behind that write.
      alice.send(`<message to='bob@localhost/b' type='chat' id='${fault}-on'><body>online</body></message>`);
      // At most one storage timeout (1 s here) for the first call; the breaker fails the rest at once.
      await bob.expect(new RegExp(`id=["']${fault}-on["']`), 2500);
      await bob.expect(new RegExp(`<message[^>]*id="${fault}-off"[^>]*type="error"[\\s\\S]*?(internal-server-error|resource-constraint)`), 4000);
      assert.ok(Date.now() - t0 < 4000);
      // A new login needs the store: temporary-auth-failure, not a hang or a crash.
      const late = await RawClient.connect(server.c2sPort);
      await assert.rejects(late.login('carol', 'pw', 'c'));
      assert.match(late.received, /temporary-auth-failure/);
      late.close();
      proxy.accept();
      if (fault === 'hung') proxy.cutAll();
      // Back: stores and logins work again, in the same process.
      await waitFor(async () => {
        const again = await RawClient.connect(server.c2sPort);
        const ok = await again.login('carol', 'pw', `c${Date.now()}`).then(() => true, () => false);
        again.close();
        return ok;
      }, 10_000, 'login after the database returned');
      bob.send(`<message to='carol@localhost' type='chat' id='${fault}-stored'><body>now</body></message>`);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(bob.received.includes(`id="${fault}-stored" type="error"`), false);
    });
  }
});
