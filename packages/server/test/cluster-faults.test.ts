// The split that survives (#17), with real processes: an sm and two c2s
// processes over the test's own nats-server, killed and stopped under
// numbered message bursts. Each test counts every message: delivered once,
// stored offline, or answered with an error to its sender; none lost, none
// duplicated; contacts told within the liveness bound.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type NatsServer } from '@switchboard/testkit';
import { RawClient, waitFor } from './helpers.ts';
import { account, addUsers, errorIds, ids, kill, startRole, type ClusterOptions, type RoleProcess } from './cluster-kit.ts';

/** Liveness bound the issue asks for (heartbeat 0.5 s + dead after 2 s here, swept twice a second). */
const BOUND_MS = 5000;

const unavailableFrom = (text: string, jid: string): boolean =>
  [...text.matchAll(/<presence\b[^>]*>/g)].some((m) => m[0].includes(`from="${jid}"`) && m[0].includes('type="unavailable"'));

describe('cluster faults: real sm and c2s processes over NATS', { timeout: 120_000 }, () => {
  let nats: NatsServer;
  let dir: string;
  let o: ClusterOptions;
  let sm: RoleProcess;
  let c2sA: RoleProcess;
  let c2sB: RoleProcess;
  const all: RoleProcess[] = [];

  before(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-faults-'));
    o = { dir, natsUrl: nats.url, prefix: `sbf${randomBytes(4).toString('hex')}` };
    addUsers(o, ['alice', 'bob']);
    sm = await startRole(o, 'sm');
    [c2sA, c2sB] = await Promise.all([startRole(o, 'c2s'), startRole(o, 'c2s')]);
    all.push(sm, c2sA!, c2sB!);
  });

  after(async () => {
    for (const p of all) await kill(p, 'SIGKILL');
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** alice on c2sA sends directed presence to bob on c2sB, then bob sends a paced burst to alice's full JID while `fault` strikes. */
  async function burstAcross(prefix: string, fault: () => Promise<void>): Promise<{ alice: RawClient; bob: RawClient; toldMs: number }> {
    const alice = await RawClient.connect(c2sA.port!);
    const bob = await RawClient.connect(c2sB.port!);
    await alice.login('alice', 'pw', 'a');
    await bob.login('bob', 'pw', 'b');
    bob.send('<presence/>');
    alice.send("<presence to='bob@localhost/b'/>");
    await bob.expect(/<presence[^>]*from="alice@localhost\/a"/);
    let faultAt = 0;
    for (let i = 1; i <= 60; i++) {
      bob.send(`<message to='alice@localhost/a' type='chat' id='${prefix}${i}'><body>${i}</body></message>`);
      if (i === 20) {
        // What the dying c2s holds in hand is the documented at-most-once hop for a session without XEP-0198; on a
        // loaded machine it was #13–#19 (CI on 2026-12-07). The fault strikes once #19 is out, so that every message
        // after it counts: delivered before, stored offline, or an error — only #20 may be in the c2s as it dies.
        await alice.expect(new RegExp(`id="${prefix}19"`), 10_000);
        faultAt = Date.now();
        await fault();
      }
      await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor(() => unavailableFrom(bob.received, 'alice@localhost/a'), BOUND_MS + 1000, 'unavailable presence from alice');
    return { alice, bob, toldMs: Date.now() - faultAt };
  }

  /** alice logs in again through the other c2s and collects her offline messages. */
  async function offlineOf(prefix: string, n: number, already: number[]): Promise<number[]> {
    const again = await RawClient.connect(c2sB.port!);
    await again.login('alice', 'pw', 'back');
    again.send('<presence/>');
    // Everything not already received must come from offline storage.
    await waitFor(() => ids(again.received, prefix).length + already.length >= n, 5000, 'offline messages').catch(() => undefined);
    const got = ids(again.received, prefix);
    again.close();
    return got;
  }

  it('kill -9 of a c2s: contacts see unavailable within the bound; later messages go to offline storage, none lost or doubled', async () => {
    const { alice, bob, toldMs } = await burstAcross('k', () => kill(c2sA, 'SIGKILL').then(() => undefined));
    assert.ok(toldMs <= BOUND_MS, `contacts told after ${toldMs} ms`);
    const before = ids(alice.received, 'k');
    const stored = await offlineOf('k', 60, before);
    const errors = errorIds(bob.received, 'k');
    const { lost, duplicated } = account(60, [before, stored, errors]);
    console.log(`kill -9 c2s: told in ${toldMs} ms; delivered ${before.length}, offline ${stored.length}, errors ${errors.length}, lost ${lost.join(',') || 'none'}`);
    assert.deepEqual(duplicated, []);
    // The one message bob sent just before the kill may have been inside the killed process: that hop is at-most-once
    // (docs/protocol.md). Every message sent after the kill reached offline storage through no-responders or the death.
    assert.deepEqual(lost.filter((i) => i !== 20), [], `lost ${lost.join(',')}`);
    alice.close();
    bob.close();
    c2sA = await startRole(o, 'c2s');
    all.push(c2sA);
  });

  it('SIGTERM of a c2s: streams get system-shutdown, the sm is told of every session at once, nothing lost', async () => {
    const { alice, bob, toldMs } = await burstAcross('t', async () => {
      assert.equal(await kill(c2sA, 'SIGTERM'), 0);
    });
    assert.match(alice.received, /<system-shutdown/);
    // The c2s said `end` for each session before it went: no waiting for the liveness bound.
    assert.ok(toldMs < 2000, `contacts told after ${toldMs} ms`);
    const before = ids(alice.received, 't');
    const stored = await offlineOf('t', 60, before);
    const errors = errorIds(bob.received, 't');
    const { lost, duplicated } = account(60, [before, stored, errors]);
    console.log(`SIGTERM c2s: told in ${toldMs} ms; delivered ${before.length}, offline ${stored.length}, errors ${errors.length}`);
    assert.deepEqual(duplicated, []);
    assert.deepEqual(lost, []);
    alice.close();
    bob.close();
    c2sA = await startRole(o, 'c2s');
    all.push(c2sA);
  });

  it('kill -9 of the sm: every c2s closes its streams with system-shutdown within the bound, binds fail fast, and the restarted sm serves', async () => {
    const alice = await RawClient.connect(c2sA.port!);
    const bob = await RawClient.connect(c2sB.port!);
    await alice.login('alice', 'pw', 'a');
    await bob.login('bob', 'pw', 'b');
    const t0 = Date.now();
    await kill(sm, 'SIGKILL');
    await alice.expect(/<system-shutdown/, BOUND_MS + 1000);
    await bob.expect(/<system-shutdown/, BOUND_MS + 1000);
    const closedMs = Date.now() - t0;
    assert.ok(closedMs <= BOUND_MS, `streams closed after ${closedMs} ms`);
    // A bind while no sm is there fails at once (no responders), not at the login timeout.
    const early = await RawClient.connect(c2sA.port!);
    const bindStart = Date.now();
    await assert.rejects(early.login('alice', 'pw', 'early'));
    assert.match(early.received, /id="bind1"[^>]*type="error"|type="error"[^>]*id="bind1"/);
    assert.ok(Date.now() - bindStart < 5500);
    early.close();
    sm = await startRole(o, 'sm');
    all.push(sm);
    const a2 = await RawClient.connect(c2sA.port!);
    const b2 = await RawClient.connect(c2sB.port!);
    await a2.login('alice', 'pw', 'a');
    await b2.login('bob', 'pw', 'b');
    a2.send("<message to='bob@localhost/b' type='chat' id='after'><body>back</body></message>");
    await b2.expect(/<body>back<\/body>/);
    for (const c of [alice, bob, a2, b2]) c.close();
  });

  it('NATS stopped: stanzas get errors instead of vanishing, iqs are answered, every process stays up and serves again when it returns', async () => {
    const alice = await RawClient.connect(c2sA.port!);
    const bob = await RawClient.connect(c2sB.port!);
    await alice.login('alice', 'pw', 'a');
    await bob.login('bob', 'pw', 'b');
    bob.send('<presence/>');
    await new Promise((r) => setTimeout(r, 200));
    await nats.stop();
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 1; i <= 20; i++) alice.send(`<message to='bob@localhost/b' type='chat' id='n${i}'><body>${i}</body></message>`);
    alice.send("<iq type='get' id='ping1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    await alice.expect(/id="ping1"/);
    await waitFor(() => errorIds(alice.received, 'n').length === 20, 5000, 'errors for every message');
    await new Promise((r) => setTimeout(r, 1500));
    await nats.start();
    // Every process is still running, reconnects by itself, and serves again.
    for (const p of [sm, c2sA, c2sB]) assert.equal(p.child.exitCode, null, p.log);
    await waitFor(() => [sm, c2sA, c2sB].every((p) => /"event":"backend.connected"/.test(p.log)), 15_000, 'every process reconnected');
    // A stream whose session the sm ended meanwhile (its c2s was unreachable) is reset at its next stanza, and its
    // client logs in again; the messages meanwhile went to offline storage. Fresh logins chat at once.
    await waitFor(async () => {
      const a = await RawClient.connect(c2sA.port!);
      const b = await RawClient.connect(c2sB.port!);
      try {
        await a.login('alice', 'pw', `ra${Date.now()}`);
        const bJid = await b.login('bob', 'pw', `rb${Date.now()}`);
        a.send(`<message to='${bJid}' type='chat' id='r1'><body>retry</body></message>`);
        await b.expect(/<body>retry<\/body>/, 2000);
        return true;
      } catch {
        return false;
      } finally {
        a.close();
        b.close();
      }
    }, 20_000, 'chat after NATS returned');
    assert.deepEqual(account(20, [ids(bob.received, 'n'), errorIds(alice.received, 'n')]).lost, []);
    // Each change of the connection's state was logged.
    assert.match(c2sA.log, /"event":"backend.disconnected"/);
    assert.match(c2sA.log, /"event":"backend.connected"/);
    alice.close();
    bob.close();
  });

  it('a second sm on the same prefix stands by and never double-processes; when the active sm is killed it takes over within seconds', async () => {
    const standby = await startRole(o, 'sm', /standing by/);
    all.push(standby);
    const alice = await RawClient.connect(c2sA.port!);
    const bob = await RawClient.connect(c2sB.port!);
    await alice.login('alice', 'pw', 'a');
    await bob.login('bob', 'pw', 'b');
    for (let i = 1; i <= 10; i++) bob.send(`<message to='alice@localhost/a' type='chat' id='d${i}'><body>${i}</body></message>`);
    bob.send("<iq type='get' id='once' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    await waitFor(() => ids(alice.received, 'd').length >= 10, 5000, 'ten messages');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(account(10, [ids(alice.received, 'd')]).duplicated, []);
    assert.equal(ids(alice.received, 'd').length, 10);
    assert.equal(bob.received.match(/id="once"/g)?.length, 1);
    const t0 = Date.now();
    await kill(sm, 'SIGKILL');
    await waitFor(() => /sm for localhost/.test(standby.log), 15_000, 'standby serving');
    const takeoverMs = Date.now() - t0;
    console.log(`sm kill -9 → standby serving in ${takeoverMs} ms`);
    assert.ok(takeoverMs <= 10_000, `standby took ${takeoverMs} ms`);
    await alice.expect(/<system-shutdown/, BOUND_MS + 1000);
    sm = standby;
    const a2 = await RawClient.connect(c2sA.port!);
    const b2 = await RawClient.connect(c2sB.port!);
    await a2.login('alice', 'pw', 'a');
    await b2.login('bob', 'pw', 'b');
    a2.send("<message to='bob@localhost/b' type='chat' id='via-standby'><body>standby</body></message>");
    await b2.expect(/<body>standby<\/body>/);
    for (const c of [alice, bob, a2, b2]) c.close();
  });
});
