// The login throttle and the registration limit across two c2s processes
// (#18): an attacker who alternates c2s processes gains nothing, because
// every c2s counts in the same table (a NATS KV bucket, auth/shared-throttle.ts).
// Real processes: one sm and two c2s over the test's own nats-server. Then
// NATS stops: each c2s still counts on its own (the gate is never wider than
// one process's), and answers at once; once NATS is back, they share again.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type NatsServer } from '@switchboard/testkit';
import { RawClient, waitFor } from './helpers.ts';
import { addUsers, kill, startRole, type ClusterOptions, type RoleProcess } from './cluster-kit.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

/** One SASL PLAIN attempt on a fresh connection: 'success' or the failure's condition. */
async function tryLogin(port: number, username: string, password: string): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    c.send(HEADER);
    await c.expect(/<\/stream:features>/);
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${username}\0${password}`).toString('base64')}</auth>`);
    const m = await c.expect(/<success|<failure[^>]*><([\w-]+)/, 10_000);
    return m[1] ?? 'success';
  } finally {
    c.close();
  }
}

/** One XEP-0077 registration on a fresh connection: 'result' or the error's condition. */
async function tryRegister(port: number, username: string): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    c.send(HEADER);
    await c.expect(/<\/stream:features>/);
    c.send(`<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>${username}</username><password>pw</password></query></iq>`);
    const m = await c.expect(/<iq type="result" id="reg"|id="reg"[^>]*type="error">.*?<error[^>]*><([\w-]+)/, 10_000);
    return m[1] ?? 'result';
  } finally {
    c.close();
  }
}

describe('login throttle and registration limit shared by two c2s processes (NATS)', { timeout: 120_000 }, () => {
  let nats: NatsServer;
  let dir: string;
  let o: ClusterOptions;
  const all: RoleProcess[] = [];
  let a: number;
  let b: number;

  before(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-cauth-'));
    // Back-off from the second wrong password for an account on, a minute long: no test here waits it out.
    o = {
      dir,
      natsUrl: nats.url,
      prefix: `sba${randomBytes(4).toString('hex')}`,
      config: {
        authThrottle: { accountFreeFailures: 1, addressFreeFailures: 1000, baseDelayMs: 60_000, maxReplyDelayMs: 0 },
        registration: true,
        registrationLimit: { attempts: 2, windowSeconds: 600 },
      },
    };
    addUsers(o, ['victim', 'bystander', 'fallback', 'later']);
    all.push(await startRole(o, 'sm'));
    const [c2sA, c2sB] = await Promise.all([startRole(o, 'c2s'), startRole(o, 'c2s')]);
    all.push(c2sA, c2sB);
    a = c2sA.port!;
    b = c2sB.port!;
  });

  after(async () => {
    for (const p of all) await kill(p, 'SIGKILL');
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('wrong passwords alternated between the two c2s reach the same per-account back-off', async () => {
    assert.equal(await tryLogin(a, 'victim', 'guess-1'), 'not-authorized');
    assert.equal(await tryLogin(b, 'victim', 'guess-2'), 'not-authorized');
    // Two failures in all (one at each c2s), one past the allowance: the account backs off on both, even for the right password.
    // Counted per process, c2s A had seen one failure and let this in.
    assert.equal(await tryLogin(a, 'victim', 'pw'), 'temporary-auth-failure');
    assert.equal(await tryLogin(b, 'victim', 'pw'), 'temporary-auth-failure');
    // The address is not backing off (its allowance is large here): another account logs in.
    assert.equal(await tryLogin(b, 'bystander', 'pw'), 'success');
  });

  it('registration attempts from one address are counted across both c2s', async () => {
    assert.equal(await tryRegister(a, 'new1'), 'result');
    assert.equal(await tryRegister(b, 'new2'), 'result');
    // Per process, c2s A had seen one attempt of two.
    assert.equal(await tryRegister(a, 'new3'), 'policy-violation');
    assert.equal(await tryRegister(b, 'new4'), 'policy-violation');
  });

  it('NATS stopped: each c2s still counts on its own and answers at once; back, they share again', async () => {
    await nats.stop();
    try {
      await waitFor(() => all.every((p) => p.child.exitCode === null), 1000, 'processes up');
      assert.equal(await tryLogin(a, 'fallback', 'guess-1'), 'not-authorized');
      assert.equal(await tryLogin(a, 'fallback', 'guess-2'), 'not-authorized');
      // Two failures at this c2s: its own table backs off, the shared one being away.
      assert.equal(await tryLogin(a, 'fallback', 'pw'), 'temporary-auth-failure');
    } finally {
      await nats.start();
    }
    // Back: once a session binds through each c2s (the sm is reached over NATS again), and past the 5 s a c2s
    // leaves the shared table alone after a failure (shared-table.ts), the two count together again.
    for (const port of [a, b]) {
      await waitFor(async () => {
        const c = await RawClient.connect(port);
        const ok = await c.login('bystander', 'pw', `r${Date.now()}`).then(() => true, () => false);
        c.close();
        return ok;
      }, 30_000, 'a login through each c2s after NATS returned');
    }
    await new Promise((r) => setTimeout(r, 5500));
    assert.equal(await tryLogin(a, 'later', 'guess-1'), 'not-authorized');
    assert.equal(await tryLogin(b, 'later', 'guess-2'), 'not-authorized');
    assert.equal(await tryLogin(a, 'later', 'pw'), 'temporary-auth-failure');
    for (const p of all) assert.equal(p.child.exitCode, null, `a process exited:\n${p.log.slice(-1500)}`);
  });
});
