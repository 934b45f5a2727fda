// XEP-0352 Client State Indication against the real server: what an
// inactive client is spared, what still reaches it at once, the order it
// gets the rest in, the bound on what is held, and held stanzas surviving a
// lost connection through XEP-0198 resumption.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
const CHATSTATE = "xmlns='http://jabber.org/protocol/chatstates'";
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

async function online(server: TestServer, user: string, resource: string): Promise<RawClient> {
  const c = await RawClient.connect(server.c2sPort);
  await c.login(user, `${user}-pw`, resource);
  c.send('<presence/>');
  await waitFor(() => server.sm.sessions.full(`${user}@localhost/${resource}`)?.available === true);
  await c.expect(/<presence/);
  c.received = '';
  return c;
}

describe('XEP-0352 client state indication', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { csiQueueSize: 5 } });
    for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, `${u}-pw`);
  });
  after(() => server.stop());

  it('is advertised in the stream features after authentication', async () => {
    const c = await RawClient.connect(server.c2sPort);
    try {
      c.send(HEADER);
      await c.expect(/<\/stream:features>/);
      c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0alice-pw').toString('base64')}</auth>`);
      await c.expect(/<success/);
      c.received = '';
      c.send(HEADER);
      const features = await c.expect(/<stream:features[\s\S]*<\/stream:features>/);
      assert.match(features[0], /<csi xmlns="urn:xmpp:csi:0" ?\/>/);
    } finally {
      c.close();
    }
  });

  it('inactive: presence (newest per sender) and chat states wait, a body brings them in order, active flushes the rest', async () => {
    const alice = await online(server, 'alice', 'phone');
    const bob = await online(server, 'bob', 'desk');
    try {
      alice.send("<inactive xmlns='urn:xmpp:csi:0'/>");
      await settle();
      bob.send("<presence to='alice@localhost/phone'><show>away</show></presence>");
      bob.send(`<message to='alice@localhost/phone' type='chat'><composing ${CHATSTATE}/></message>`);
      bob.send("<presence to='alice@localhost/phone'><show>dnd</show></presence>");
      bob.send("<iq type='get' id='ping1' to='alice@localhost/phone'><ping xmlns='urn:xmpp:ping'/></iq>");
      await alice.expect(/id='ping1'/);
      await settle();
      assert.doesNotMatch(alice.received, /<presence|composing/, 'an iq goes at once; presence and chat states wait');
      alice.received = '';

      bob.send("<message to='alice@localhost/phone' type='chat'><body>hello</body></message>");
      await alice.expect(/<body>hello<\/body>/);
      const got = alice.received;
      assert.doesNotMatch(got, /away/, 'only the newest presence of a sender is kept');
      assert.match(got, /composing[\s\S]*<show>dnd<\/show>[\s\S]*<body>hello<\/body>/, 'held stanzas first, in their order, then the message');
      alice.received = '';

      bob.send("<presence to='alice@localhost/phone'><show>xa</show></presence>");
      await settle();
      assert.doesNotMatch(alice.received, /xa/);
      alice.send("<active xmlns='urn:xmpp:csi:0'/>");
      await alice.expect(/<show>xa<\/show>/);
      alice.received = '';
      bob.send(`<message to='alice@localhost/phone' type='chat'><paused ${CHATSTATE}/></message>`);
      await alice.expect(/paused/);
    } finally {
      alice.close();
      bob.close();
    }
  });

  it('the queue is bounded: at csiQueueSize everything held goes out', async () => {
    const alice = await online(server, 'alice', 'bounded');
    const bob = await online(server, 'bob', 'bounded');
    try {
      alice.send("<inactive xmlns='urn:xmpp:csi:0'/>");
      await settle();
      for (let i = 1; i <= 4; i++) bob.send(`<message to='alice@localhost/bounded' type='chat' id='cs${i}'><composing ${CHATSTATE}/></message>`);
      await settle();
      assert.doesNotMatch(alice.received, /composing/);
      bob.send(`<message to='alice@localhost/bounded' type='chat' id='cs5'><composing ${CHATSTATE}/></message>`);
      await alice.expect(/cs1[\s\S]*cs2[\s\S]*cs3[\s\S]*cs4[\s\S]*cs5/);
    } finally {
      alice.close();
      bob.close();
    }
  });

  it('held stanzas are not lost when the connection drops: XEP-0198 resumption brings them', async () => {
    const first = await RawClient.connect(server.c2sPort);
    await first.login('carol', 'carol-pw', 'mobile');
    first.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    const enabled = await first.expect(/<enabled[^>]*id=["']([^"']+)["']/);
    first.send('<presence/>');
    await waitFor(() => server.sm.sessions.full('carol@localhost/mobile')?.available === true);
    first.send("<inactive xmlns='urn:xmpp:csi:0'/>");
    const bob = await online(server, 'bob', 'resume');
    try {
      await settle();
      bob.send("<presence to='carol@localhost/mobile'><show>chat</show></presence>");
      bob.send(`<message to='carol@localhost/mobile' type='chat' id='held-state'><composing ${CHATSTATE}/></message>`);
      await settle();
      assert.doesNotMatch(first.received, /held-state|<show>chat/);
      first.close();
      await waitFor(() => first.closed);
      await settle();

      const second = await RawClient.connect(server.c2sPort);
      try {
        second.send(HEADER);
        await second.expect(/<\/stream:features>/);
        second.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0carol\0carol-pw').toString('base64')}</auth>`);
        await second.expect(/<success/);
        second.send(HEADER);
        await second.expect(/<sm xmlns/);
        second.send(`<resume xmlns='urn:xmpp:sm:3' previd='${enabled[1]}' h='0'/>`);
        await second.expect(/<resumed/);
        await second.expect(/<show>chat<\/show>[\s\S]*held-state/);
      } finally {
        second.close();
      }
    } finally {
      bob.close();
    }
  });
});
