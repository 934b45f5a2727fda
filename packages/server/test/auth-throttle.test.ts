// Issue #18: password guessing. Failures are counted per address and per
// account with exponential back-off: past the free allowance the failure
// reply is held and further attempts are refused with temporary-auth-failure
// (RFC 6120 §6.5.12) whatever the password, and every failure is reported
// as the line fail2ban reads. Other clients are touched neither by an
// address's back-off nor by another account's.
// Clients bind 127.0.0.x source addresses to stand for different hosts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { RawClient, startTestServer } from './helpers.ts';
import { formatAuthFailure, type AuthFailure } from '../src/auth/auth-log.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

async function attempt(port: number, from: string, auth: string): Promise<{ condition: string; ms: number }> {
  const c = await RawClient.connect(port, from);
  try {
    c.send(HEADER);
    await c.expect(/<\/stream:features>/);
    const started = Date.now();
    c.send(auth);
    const m = await c.expect(/<success|<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><([a-z-]+)/, 10_000);
    return { condition: m[1] ?? 'success', ms: Date.now() - started };
  } finally {
    c.close();
  }
}

const plain = (user: string, password: string): string =>
  `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${password}`).toString('base64')}</auth>`;
const scramFirst = (user: string): string =>
  `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>${Buffer.from(`n,,n=${user},r=fyko+d2lbbFgONRv9qkxdawL`).toString('base64')}</auth>`;

describe('password guessing is throttled per address and per account', { timeout: 60_000 }, () => {
  it('backs off an address, then an account, refusing even the right password meanwhile, and logs each failure', async () => {
    const failures: AuthFailure[] = [];
    const onFailure = (f: unknown): void => void failures.push(f as AuthFailure);
    subscribe('switchboard:c2s:auth-failed', onFailure);
    const server = await startTestServer({
      allowPlaintextOnLoopback: true,
      logAuthFailures: false,
      authThrottle: { addressFreeFailures: 3, accountFreeFailures: 5, baseDelayMs: 2000, maxDelayMs: 4000, maxReplyDelayMs: 400 },
    });
    try {
      await server.addUser('alice', 'alice-pw');
      await server.addUser('bob', 'bob-pw');
      const port = server.c2sPort;

      // One address guessing at a user who does not exist: three free failures, answered at once.
      for (let i = 0; i < 3; i++) assert.equal((await attempt(port, '127.0.0.2', plain('carol', `guess${i}`))).condition, 'not-authorized');
      // The fourth starts a 2 s back-off; its reply is held (maxReplyDelayMs).
      const fourth = await attempt(port, '127.0.0.2', plain('carol', 'guess3'));
      assert.equal(fourth.condition, 'not-authorized');
      assert.ok(fourth.ms >= 350, `the fourth failure was held (${fourth.ms} ms)`);
      // Meanwhile that address gets temporary-auth-failure for anything, the right password and SCRAM included.
      assert.equal((await attempt(port, '127.0.0.2', plain('bob', 'bob-pw'))).condition, 'temporary-auth-failure');
      assert.equal((await attempt(port, '127.0.0.2', scramFirst('bob'))).condition, 'temporary-auth-failure');
      // Another address is not affected.
      assert.equal((await attempt(port, '127.0.0.3', plain('bob', 'bob-pw'))).condition, 'success');
      // Once the back-off has passed the address may try again.
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal((await attempt(port, '127.0.0.2', plain('bob', 'bob-pw'))).condition, 'success');

      // Six addresses, one guess each, at alice: past the account's five free failures.
      for (let i = 0; i < 6; i++) assert.equal((await attempt(port, `127.0.0.${10 + i}`, plain('alice', `nope${i}`))).condition, 'not-authorized');
      // Now alice is backing off from everywhere, bob is not.
      assert.equal((await attempt(port, '127.0.0.20', plain('alice', 'alice-pw'))).condition, 'temporary-auth-failure');
      assert.equal((await attempt(port, '127.0.0.20', plain('bob', 'bob-pw'))).condition, 'success');

      // One report per failure, with address, account, mechanism and reason.
      const wrong = failures.filter((f) => f.reason === 'not-authorized');
      const refused = failures.filter((f) => f.reason === 'throttled');
      assert.equal(wrong.length, 10);
      assert.equal(refused.length, 3);
      assert.deepEqual(
        { address: wrong[0]!.address, account: wrong[0]!.account, mechanism: wrong[0]!.mechanism },
        { address: '127.0.0.2', account: 'carol@localhost', mechanism: 'PLAIN' },
      );
      assert.deepEqual(refused.map((f) => [f.address, f.account, f.mechanism]), [
        ['127.0.0.2', 'bob@localhost', 'PLAIN'],
        ['127.0.0.2', 'bob@localhost', 'SCRAM-SHA-1'],
        ['127.0.0.20', 'alice@localhost', 'PLAIN'],
      ]);
      // The line a fail2ban filter matches: failregex = ^authentication failed from <HOST> 
      const line = formatAuthFailure(wrong.at(-1)!);
      assert.match(line, /^authentication failed from 127\.0\.0\.15 account=alice@localhost mechanism=PLAIN reason=not-authorized transport=tcp stream=\S+$/);
    } finally {
      unsubscribe('switchboard:c2s:auth-failed', onFailure);
      await server.stop();
    }
  });
});
