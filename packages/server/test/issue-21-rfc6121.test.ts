// Issue #21, "RFC 6121 details found missing when tried as a new user
// would": pre-approval without a roster item (§3.4), the last unavailable
// status in XEP-0012, the blocking command in the server's disco#info
// (XEP-0191 §2), and errors answering a stanza without `to` (RFC 6120
// §8.1.2.1, §10.3.3).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

async function online(server: TestServer, user: string, resource: string, presence = true): Promise<RawClient> {
  const c = await RawClient.connect(server.c2sPort);
  await c.login(user, `${user}-pw`, resource);
  c.send(`<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>`);
  await c.expect(/id=["']roster["']/);
  if (presence) {
    c.send('<presence/>');
    await waitFor(() => server.sm.sessions.full(`${user}@localhost/${resource}`)?.available === true);
  }
  await settle();
  c.received = '';
  return c;
}

describe('issue #21: RFC 6121 details', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, `${u}-pw`);
  });
  after(() => server.stop());

  it('§3.4 pre-approval without a roster item creates the item approved, and a later subscribe is answered subscribed at once', async () => {
    const alice = await online(server, 'alice', 'home');
    const bob = await online(server, 'bob', 'home');
    try {
      alice.send("<presence to='bob@localhost' type='subscribed'/>");
      const push = await alice.expect(/<item [^>]*jid="bob@localhost"[^>]*>/);
      assert.match(push[0], /approved="true"/);
      assert.match(push[0], /subscription="none"/);
      await settle();
      assert.doesNotMatch(bob.received, /type=["']subscribed["']/, 'a pre-approval is not sent to the contact');
      alice.received = '';

      bob.send("<presence to='alice@localhost' type='subscribe'/>");
      await bob.expect(/<presence[^>]*from="alice@localhost"[^>]*type="subscribed"|<presence[^>]*type="subscribed"[^>]*from="alice@localhost"/);
      // bob is subscribed now: alice's roster says from, with no approval left; bob's says to.
      await alice.expect(/<item [^>]*jid="bob@localhost"[^>]*subscription="from"/);
      await bob.expect(/<item [^>]*jid="alice@localhost"[^>]*subscription="to"/);
      // §3.1.5: the new subscriber gets alice's presence.
      await bob.expect(/<presence from="alice@localhost\/home"/);
      assert.doesNotMatch(alice.received, /type=["']subscribe["']/, 'the approved request is not shown to alice');
    } finally {
      alice.close();
      bob.close();
    }
  });

  it('§3.4.1: pre-approval is advertised as a stream feature', async () => {
    const c = await RawClient.connect(server.c2sPort);
    try {
      const header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
      c.send(header);
      await c.expect(/<\/stream:features>/);
      c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0alice-pw').toString('base64')}</auth>`);
      await c.expect(/<success/);
      c.received = '';
      c.send(header);
      const features = await c.expect(/<stream:features[\s\S]*<\/stream:features>/);
      assert.match(features[0], /<sub xmlns="urn:xmpp:features:pre-approval" ?\/>/);
    } finally {
      c.close();
    }
  });

  it('XEP-0012: the last activity of an offline account carries its last unavailable status', async () => {
    const carol = await online(server, 'carol', 'desk');
    carol.send("<presence><status>at my desk</status></presence>");
    carol.send("<presence type='unavailable'><status>gone fishing</status></presence>");
    await waitFor(() => server.sm.sessions.full('carol@localhost/desk')?.available === false);
    carol.send('</stream:stream>');
    await carol.waitClosed();
    await waitFor(() => server.sm.sessions.bare('carol@localhost').length === 0);
    await settle();
    // The account itself may ask (§4), from a resource that is not available.
    const asker = await online(server, 'carol', 'asker', false);
    try {
      asker.send("<iq type='get' id='last1' to='carol@localhost'><query xmlns='jabber:iq:last'/></iq>");
      const answer = await asker.expect(/<iq[^>]*id="last1"[\s\S]*?<\/iq>|<iq[^>]*id="last1"[^>]*\/>/);
      assert.match(answer[0], /<query xmlns="jabber:iq:last" seconds="\d+">gone fishing<\/query>/);
    } finally {
      asker.close();
    }
  });

  it('XEP-0191 §2: the blocking command (and carbons) are in the server\'s disco#info', async () => {
    const dave = await online(server, 'dave', 'disco');
    try {
      dave.send("<iq type='get' id='info' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
      const info = await dave.expect(/<iq[^>]*id="info"[\s\S]*?<\/iq>/);
      assert.match(info[0], /<feature var="urn:xmpp:blocking" ?\/>/);
      assert.match(info[0], /<feature var="urn:xmpp:carbons:2" ?\/>/);
    } finally {
      dave.close();
    }
  });

  it('RFC 6120 §8.1.2.1: an error answering a stanza without `to` comes without the domain as `from`, as the result does', async () => {
    const dave = await online(server, 'dave', 'errors');
    try {
      dave.send("<iq type='get' id='unknown1'><query xmlns='urn:example:nothing'/></iq>");
      const error = await dave.expect(/<iq [^>]*id="unknown1"[^>]*>/);
      assert.match(error[0], /type="error"/);
      assert.doesNotMatch(error[0], /from="localhost"/);
      const from = /from="([^"]*)"/.exec(error[0])?.[1];
      assert.ok(from === undefined || from === 'dave@localhost', `from is absent or the account's bare JID, not ${from}`);
      dave.send("<iq type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>");
      const result = await dave.expect(/<iq [^>]*id="ping1"[^>]*>/);
      assert.doesNotMatch(result[0], /from=/);
    } finally {
      dave.close();
    }
  });
});
