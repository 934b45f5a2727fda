// XEP-0198 and the 510 race on the single process with SQLite (#17, #21):
// nothing a client never acknowledged is dropped when its session ends.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor } from './helpers.ts';
import type { C2sStream } from '../src/c2s/stream.ts';

const bodies = (text: string, prefix: string): string[] => [...text.matchAll(new RegExp(`<body>(${prefix}\\d+)</body>`, 'g'))].map((m) => m[1]!);

async function enableSm(client: RawClient, resume: boolean): Promise<void> {
  client.send(`<enable xmlns='urn:xmpp:sm:3'${resume ? " resume='true'" : ''}/>`);
  await client.expect(/<enabled/);
}

describe('XEP-0198 and the 510 race: what a client never took is stored or answered', { timeout: 60_000 }, () => {
  it('hibernation expiry: unacknowledged messages go to offline storage once, an unacknowledged iq is answered with an error', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, timeouts: { resumeSeconds: 1 } });
    try {
      for (const u of ['alice', 'bob']) await server.addUser(u, 'pw');
      const alice = await RawClient.connect(server.c2sPort);
      const bob = await RawClient.connect(server.c2sPort);
      await alice.login('alice', 'pw', 'a');
      await bob.login('bob', 'pw', 'b');
      await enableSm(alice, true);
      alice.send('<presence/>');
      for (let i = 1; i <= 5; i++) bob.send(`<message to='alice@localhost/a' type='chat' id='h${i}'><body>h${i}</body></message>`);
      bob.send("<iq type='get' id='v1' to='alice@localhost/a'><query xmlns='jabber:iq:version'/></iq>");
      await alice.expect(/id=["']v1["']/);
      assert.equal(bodies(alice.received, 'h').length, 5);
      // The link dies with nothing acknowledged; the session hibernates, then the wait expires.
      alice.close();
      await bob.expect(/id="v1"[^>]*type="error"|type="error"[^>]*id="v1"/, 4000);
      assert.match(bob.received, /service-unavailable/);
      const back = await RawClient.connect(server.c2sPort);
      await back.login('alice', 'pw', 'again');
      back.send('<presence/>');
      await waitFor(() => bodies(back.received, 'h').length >= 5, 4000, 'offline messages');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(bodies(back.received, 'h'), ['h1', 'h2', 'h3', 'h4', 'h5']);
      assert.match(back.received, /<delay xmlns="urn:xmpp:delay"/);
      for (const c of [bob, back]) c.close();
    } finally {
      await server.stop();
    }
  });

  it('hibernation expiry with the archive on and another resource that got carbons: an unacknowledged message is neither delivered nor stored offline a second time, and is archived once', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, archive: true, timeouts: { resumeSeconds: 1 } });
    try {
      for (const u of ['alice', 'bob']) await server.addUser(u, 'pw');
      const phone = await RawClient.connect(server.c2sPort);
      const laptop = await RawClient.connect(server.c2sPort);
      const bob = await RawClient.connect(server.c2sPort);
      await phone.login('alice', 'pw', 'phone');
      await laptop.login('alice', 'pw', 'laptop');
      await bob.login('bob', 'pw', 'b');
      laptop.send("<iq type='set' id='carbons'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
      await laptop.expect(/id="carbons"/);
      laptop.send('<presence/>');
      await enableSm(phone, true);
      phone.send('<presence/>');
      await laptop.expect(/from="alice@localhost\/phone"/);
      // To the phone's full JID (a conversation it holds): the laptop sees each as a received carbon.
      for (let i = 1; i <= 5; i++) bob.send(`<message to='alice@localhost/phone' type='chat' id='k${i}'><body>k${i}</body></message>`);
      await waitFor(() => bodies(phone.received, 'k').length === 5 && bodies(laptop.received, 'k').length === 5, 4000, 'delivery and carbons');
      assert.equal((laptop.received.match(/<received xmlns="urn:xmpp:carbons:2"/g) ?? []).length, 5);
      // The phone's link dies with nothing acknowledged; the hibernation expires and the five come back to the sm.
      phone.close();
      await laptop.expect(/from="alice@localhost\/phone"[^>]*type="unavailable"|type="unavailable"[^>]*from="alice@localhost\/phone"/, 4000);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(bodies(laptop.received, 'k'), ['k1', 'k2', 'k3', 'k4', 'k5'], 'the laptop is not given them again');
      const tablet = await RawClient.connect(server.c2sPort);
      await tablet.login('alice', 'pw', 'tablet');
      tablet.send('<presence/>');
      await tablet.expect(/from="alice@localhost\/laptop"/);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(bodies(tablet.received, 'k'), [], 'nothing in offline storage');
      // In the archive once each, under the ids they were delivered with.
      tablet.send("<iq type='set' id='mam'><query xmlns='urn:xmpp:mam:2' queryid='all'/></iq>");
      await tablet.expect(/<fin /);
      assert.deepEqual(bodies(tablet.received, 'k'), ['k1', 'k2', 'k3', 'k4', 'k5']);
      const delivered = [...phone.received.matchAll(/<stanza-id xmlns="urn:xmpp:sid:0" by="alice@localhost" id="([^"]+)"/g)].map((m) => m[1]);
      const archived = [...tablet.received.matchAll(/<result xmlns="urn:xmpp:mam:2" queryid="all" id="([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(archived, delivered);
      for (const c of [bob, laptop, tablet]) c.close();
    } finally {
      await server.stop();
    }
  });

  it('an <r/> unanswered within timeouts.ackSeconds ends the session as a dead link, and what was unacknowledged is stored', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, timeouts: { ackSeconds: 0.5 } });
    try {
      for (const u of ['alice', 'bob']) await server.addUser(u, 'pw');
      const alice = await RawClient.connect(server.c2sPort);
      const bob = await RawClient.connect(server.c2sPort);
      await alice.login('alice', 'pw', 'a');
      await bob.login('bob', 'pw', 'b');
      await enableSm(alice, false);
      alice.send('<presence/>');
      // Ten unacknowledged stanzas make the server ask; alice never answers (a link that died silently).
      for (let i = 1; i <= 10; i++) bob.send(`<message to='alice@localhost/a' type='chat' id='r${i}'><body>r${i}</body></message>`);
      await alice.expect(/<r xmlns="urn:xmpp:sm:3"\/>/);
      const asked = Date.now();
      await alice.expect(/<connection-timeout/, 3000);
      assert.ok(Date.now() - asked < 2500);
      await alice.waitClosed();
      const back = await RawClient.connect(server.c2sPort);
      await back.login('alice', 'pw', 'again');
      back.send('<presence/>');
      await waitFor(() => bodies(back.received, 'r').length >= 10, 4000, 'the unacknowledged messages from offline storage');
      assert.equal(bodies(back.received, 'r').length, 10);
      for (const c of [bob, back]) c.close();
    } finally {
      await server.stop();
    }
  });

  it('the 510 race: a message that reaches the c2s just after its stream ended goes back to the sm whole and is stored, never lost', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true });
    try {
      for (const u of ['alice', 'bob']) await server.addUser(u, 'pw');
      const alice = await RawClient.connect(server.c2sPort);
      const bob = await RawClient.connect(server.c2sPort);
      await alice.login('alice', 'pw', 'a');
      await bob.login('bob', 'pw', 'b');
      alice.send("<presence to='bob@localhost/b'/>");
      await bob.expect(/<presence[^>]*from="alice@localhost\/a"/);
      // Drive the race deliberately: the c2s forgets alice's stream before the sm hears of it, so the
      // next message for her reaches a c2s that no longer has the connection.
      const streams = (server.c2s as unknown as { streams: Map<string, C2sStream> }).streams;
      const stream = [...streams.values()].find((s) => s.fullJid === 'alice@localhost/a')!;
      streams.delete(stream.id);
      bob.send("<message to='alice@localhost/a' type='chat' id='race1'><body>race1</body></message>");
      // The returned stanza invalidated the session: contacts see alice leave; bob gets no error.
      await bob.expect(/<presence[^>]*type="unavailable"/);
      assert.equal(/id=["']race1["'][^>]*type="error"/.test(bob.received), false);
      alice.close();
      const back = await RawClient.connect(server.c2sPort);
      await back.login('alice', 'pw', 'again');
      back.send('<presence/>');
      await waitFor(() => bodies(back.received, 'race').length === 1, 4000, 'the raced message from offline storage');
      for (const c of [bob, back]) c.close();
    } finally {
      await server.stop();
    }
  });
});
