// A MUC owner paused past its lease (#20, #17): two MUC processes of their
// own over the test's own nats-server, one sm, one c2s. The owner is stopped
// (SIGSTOP) for longer than the lease's TTL, so the other takes the service
// over and the occupants rejoin there; NATS meanwhile hands the paused process
// the same envelopes, since it is still subscribed. When it wakes (SIGCONT),
// it serves none of them: its lease is not fresh, the renewal finds it taken,
// and it is fenced (detached, its rooms forgotten) and answers what it held
// with service-unavailable. Then every message is delivered exactly once.
// Last, a SIGTERM of the owner: a clean handover (332, the lease deleted).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type NatsServer } from '@switchboard/testkit';
import { RawClient, waitFor } from './helpers.ts';
import { account, addUsers, ids, kill, serves, startRole, type ClusterOptions, type RoleProcess } from './cluster-kit.ts';

const MUC = 'http://jabber.org/protocol/muc';
const SERVICE = 'conference.localhost';
const ROOM = `team@${SERVICE}`;
const ADDRESS = `component/${SERVICE}`;

describe('a MUC owner paused past its lease is fenced and serves nothing twice; one stopped hands over at once', { timeout: 120_000 }, () => {
  let nats: NatsServer;
  let dir: string;
  const mucs: RoleProcess[] = [];
  const all: RoleProcess[] = [];
  let alice: RawClient;
  let bob: RawClient;

  before(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-muc-fence-'));
    const o: ClusterOptions = { dir, natsUrl: nats.url, prefix: `sbmf${randomBytes(4).toString('hex')}`, config: { services: 'own-process' } };
    addUsers(o, ['alice', 'bob']);
    const [sm, mucA, mucB, c2s] = await Promise.all([startRole(o, 'sm'), startRole(o, 'muc'), startRole(o, 'muc'), startRole(o, 'c2s')]);
    mucs.push(mucA, mucB);
    all.push(sm, mucA, mucB, c2s);
    await waitFor(() => mucs.filter((p) => serves(p, ADDRESS)).length === 1, 15_000, 'one MUC process serving');
    alice = await RawClient.connect(c2s.port!);
    bob = await RawClient.connect(c2s.port!);
    await alice.login('alice', 'pw', 'a');
    await bob.login('bob', 'pw', 'b');
    alice.send('<presence/>');
    bob.send('<presence/>');
  });

  after(async () => {
    alice?.close();
    bob?.close();
    for (const p of all) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGCONT');
      await kill(p, 'SIGKILL');
    }
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function enter(c: RawClient, nick: string): Promise<void> {
    c.send(`<presence to='${ROOM}/${nick}'><x xmlns='${MUC}'/></presence>`);
    await c.expect(new RegExp(`<presence[^>]*from="${ROOM}/${nick}"[^>]*>(?:(?!</presence>).)*<status code="110"/>`), 10_000);
  }

  async function burst(tag: string, n: number): Promise<void> {
    for (let i = 1; i <= n; i++) alice.send(`<message to='${ROOM}' type='groupchat' id='${tag}${i}'><body>${i}</body></message>`);
    await waitFor(() => ids(bob.received, tag).length >= n, 15_000, `${tag} burst`);
    await new Promise((r) => setTimeout(r, 500)); // a second copy would come right behind
    assert.deepEqual(account(n, [ids(bob.received, tag)]), { lost: [], duplicated: [] });
  }

  it('SIGSTOP past the TTL: the other serves; on SIGCONT the paused owner is fenced, answers what it held, and serves nothing twice', async () => {
    await enter(alice, 'Alice');
    alice.send(`<iq type='set' id='cfg' to='${ROOM}'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#roomconfig</value></field><field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query></iq>`);
    await alice.expect(/<iq(?=[^>]*id="cfg")[^>]*type="result"/);
    await enter(bob, 'Bob');
    await burst('a', 10);

    const paused = mucs.find((p) => serves(p, ADDRESS))!;
    const other = mucs.find((p) => p !== paused)!;
    paused.child.kill('SIGSTOP');
    await waitFor(() => serves(other, ADDRESS), 15_000, 'the other MUC process serving');
    // The new owner has no occupants: self-ping says so, and both rejoin there. The paused process, still
    // subscribed, is handed the same stanzas and holds them unread.
    alice.received = '';
    bob.received = '';
    alice.send(`<iq type='get' id='sp' to='${ROOM}/Alice'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await alice.expect(/<iq(?=[^>]*id="sp")[^>]*type="error"[^>]*>.*?<not-acceptable/, 10_000);
    await enter(alice, 'Alice');
    await enter(bob, 'Bob');

    alice.received = '';
    bob.received = '';
    paused.child.kill('SIGCONT');
    await waitFor(() => paused.log.includes(`lost ${ADDRESS} `), 15_000, 'the paused owner fenced');
    assert.equal(paused.child.exitCode, null, 'a fenced MUC process stays up, as a standby');
    assert.ok(!serves(paused, ADDRESS));
    assert.ok(serves(other, ADDRESS));
    await new Promise((r) => setTimeout(r, 1000));
    // What it held (the ping, the rejoins) was answered, not served: no second self-presence from an old room.
    assert.match(paused.log, /could not be renewed after a pause; \d+ stanza\(s\) answered, not served/);
    assert.doesNotMatch(alice.received, /<status code="110"\/>/);
    assert.doesNotMatch(bob.received, /<status code="110"\/>/);
    await burst('b', 10);
  });

  it('SIGTERM of the owner: its occupants are told 332 and the standby (the fenced process) serves at once, without waiting for the TTL', async () => {
    const owner = mucs.find((p) => serves(p, ADDRESS))!;
    const standby = mucs.find((p) => p !== owner)!;
    alice.received = '';
    bob.received = '';
    const t0 = Date.now();
    assert.equal(await kill(owner, 'SIGTERM'), 0);
    // XEP-0045 §15.6: the room's occupants hear it is shutting down, before the lease goes.
    await alice.expect(new RegExp(`<presence[^>]*from="${ROOM}/Alice"[^>]*type="unavailable"[^>]*>(?:(?!</presence>).)*<status code="332"/>`));
    await bob.expect(new RegExp(`<presence[^>]*from="${ROOM}/Bob"[^>]*type="unavailable"[^>]*>(?:(?!</presence>).)*<status code="332"/>`));
    await waitFor(() => serves(standby, ADDRESS), 15_000, 'the standby serving');
    console.log(`# SIGTERM of the MUC owner → the standby serves in ${Date.now() - t0} ms (the lease deleted; TTL 2000 ms)`);
    await enter(alice, 'Alice');
    await enter(bob, 'Bob');
    await burst('c', 10);
  });
});
