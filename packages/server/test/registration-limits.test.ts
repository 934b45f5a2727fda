// Issue #18: bulk registration. XEP-0077 attempts to create an account are
// limited per address (policy-violation, type wait, past the limit), and an
// operator may require an invitation token presented as XEP-0445 says:
// stream feature urn:xmpp:ibr-token:0, <preauth xmlns='urn:xmpp:pars:0'/>,
// one account per token.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { RawClient, startTestServer } from './helpers.ts';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
const register = (id: string, user: string): string =>
  `<iq type='set' id='${id}'><query xmlns='jabber:iq:register'><username>${user}</username><password>pw-${user}</password></query></iq>`;

async function open(port: number, from?: string): Promise<{ c: RawClient; features: string }> {
  const c = await RawClient.connect(port, from);
  c.send(HEADER);
  const features = (await c.expect(/<stream:features>.*<\/stream:features>/))[0];
  return { c, features };
}

describe('XEP-0077 registration limits', { timeout: 60_000 }, () => {
  it('limits attempts per address, whatever the connection, and leaves other addresses alone', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, registration: true, registrationLimit: { attempts: 3, windowSeconds: 600 } });
    try {
      const { c } = await open(server.c2sPort, '127.0.0.2');
      for (let i = 0; i < 3; i++) {
        c.send(register(`r${i}`, `bulk${i}`));
        await c.expect(new RegExp(`<iq type="result" id="r${i}"`));
      }
      c.send(register('r3', 'bulk3'));
      await c.expect(/id="r3"[^>]*type="error">.*?<error type="wait"><policy-violation/);
      c.close();
      // A new connection from the same address is still over the limit.
      const again = await open(server.c2sPort, '127.0.0.2');
      again.c.send(register('r4', 'bulk4'));
      await again.c.expect(/id="r4"[^>]*type="error">.*?<error type="wait"><policy-violation/);
      again.c.close();
      assert.equal(await server.storage.accounts.accountExists('bulk3', 'localhost'), false);
      assert.equal(await server.storage.accounts.accountExists('bulk4', 'localhost'), false);
      assert.deepEqual((await server.storage.accounts.listAccounts('localhost')).sort(), ['bulk0', 'bulk1', 'bulk2']);

      const other = await open(server.c2sPort, '127.0.0.3');
      other.c.send(register('o', 'elsewhere'));
      await other.c.expect(/<iq type="result" id="o"/);
      other.c.close();
    } finally {
      await server.stop();
    }
  });

  it('with registrationInvites, an account needs a valid token, and each token makes one', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, registration: true, registrationInvites: true });
    try {
      const { c, features } = await open(server.c2sPort);
      assert.match(features, /<register xmlns="urn:xmpp:ibr-token:0"\/>/);
      c.send(register('none', 'gatecrasher'));
      await c.expect(/id="none"[^>]*type="error".*?<forbidden/);
      c.send("<iq type='set' id='bogus'><preauth xmlns='urn:xmpp:pars:0' token='made-up'/></iq>");
      await c.expect(/id="bogus"[^>]*type="error".*?<forbidden/);
      c.send(register('still', 'gatecrasher'));
      await c.expect(/id="still"[^>]*type="error".*?<forbidden/);
      assert.equal(await server.storage.accounts.accountExists('gatecrasher', 'localhost'), false);

      const token = await server.createInvite();
      c.send(`<iq type='set' id='pre'><preauth xmlns='urn:xmpp:pars:0' token='${token}'/></iq>`);
      await c.expect(/<iq type="result" id="pre"/);
      c.send(register('ok', 'invited'));
      await c.expect(/<iq type="result" id="ok"/);
      assert.equal(await server.storage.accounts.accountExists('invited', 'localhost'), true);
      // Spent: neither the same stream nor another gets a second account from it.
      c.send(register('twice', 'invited2'));
      await c.expect(/id="twice"[^>]*type="error".*?<forbidden/);
      c.close();
      const d = (await open(server.c2sPort)).c;
      d.send(`<iq type='set' id='pre2'><preauth xmlns='urn:xmpp:pars:0' token='${token}'/></iq>`);
      await d.expect(/id="pre2"[^>]*type="error".*?<forbidden/);
      d.close();
      assert.equal(await server.storage.accounts.accountExists('invited2', 'localhost'), false);

      // A name already taken does not spend the token.
      await server.addUser('taken', 'x');
      const t2 = await server.createInvite();
      const e = (await open(server.c2sPort)).c;
      e.send(`<iq type='set' id='pre3'><preauth xmlns='urn:xmpp:pars:0' token='${t2}'/></iq>`);
      await e.expect(/<iq type="result" id="pre3"/);
      e.send(register('dup', 'taken'));
      await e.expect(/id="dup"[^>]*type="error".*?<conflict/);
      e.send(register('fresh', 'fresh'));
      await e.expect(/<iq type="result" id="fresh"/);
      e.close();

      // The operator's way to make one: `switchboard invite`, on the same store.
      const made = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'invite', '3600', '--data-dir', server.dataDir, '--domain', 'localhost'], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      const [cliToken, uri] = made.stdout.trim().split('\n');
      assert.equal(uri, `xmpp:localhost?register;preauth=${cliToken}`);
      const f = (await open(server.c2sPort)).c;
      f.send(`<iq type='set' id='pre4'><preauth xmlns='urn:xmpp:pars:0' token='${cliToken}'/></iq>`);
      await f.expect(/<iq type="result" id="pre4"/);
      f.send(register('cli', 'fromcli'));
      await f.expect(/<iq type="result" id="cli"/);
      f.close();
    } finally {
      await server.stop();
    }
  });
});
