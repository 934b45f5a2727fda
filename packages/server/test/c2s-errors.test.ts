// Issue #2: bad input gets the RFC's stream error and the server keeps
// serving everyone else. Raw sockets, because no client library sends garbage.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, type TestServer } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

describe('c2s stream errors', () => {
  let server: TestServer;
  let bystander: RawClient;
  let witness: RawClient;

  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { maxStanzaSize: 10_000 } });
    await server.addUser('alice', 'pw-alice');
    await server.addUser('bob', 'pw-bob');
    bystander = await RawClient.connect(server.c2sPort);
    await bystander.login('bob', 'pw-bob', 'bystander');
    bystander.send('<presence/>');
    witness = await RawClient.connect(server.c2sPort);
    await witness.login('alice', 'pw-alice', 'witness');
  });

  after(async () => {
    bystander.close();
    witness.close();
    await server.stop();
  });

  /** After each bad client, the others still exchange messages. */
  async function othersStillWork(tag: string): Promise<void> {
    witness.send(`<message to='bob@localhost/bystander' type='chat' id='${tag}'><body>${tag}</body></message>`);
    await bystander.expect(new RegExp(`<body>${tag}</body>`));
  }

  async function expectStreamError(data: string[], condition: string, loggedIn = false): Promise<void> {
    const c = await RawClient.connect(server.c2sPort);
    if (loggedIn) await c.login('alice', 'pw-alice', `bad-${condition}`);
    else c.send(HEADER);
    for (const chunk of data) c.send(chunk);
    await c.expect(new RegExp(`<stream:error><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>`));
    await c.expect(/<\/stream:stream>/);
    await c.waitClosed();
  }

  it('malformed XML: not-well-formed, others unaffected', async () => {
    await expectStreamError(['<message><body>x</bod></message>'], 'not-well-formed', true);
    await othersStillWork('after-malformed');
  });

  it('oversized stanza: policy-violation, others unaffected', async () => {
    await expectStreamError([`<message to='bob@localhost'><body>${'x'.repeat(20_000)}</body></message>`], 'policy-violation', true);
    await othersStillWork('after-oversized');
  });

  it('oversized stanza dribbled in small chunks is caught too', async () => {
    const chunks = ["<message to='bob@localhost'><body>"];
    for (let i = 0; i < 30; i++) chunks.push('y'.repeat(500));
    await expectStreamError(chunks, 'policy-violation', true);
  });

  it('too deep: policy-violation', async () => {
    await expectStreamError(['<message>' + '<a>'.repeat(40) + '</a>'.repeat(40) + '</message>'], 'policy-violation', true);
  });

  it('DOCTYPE, comments, processing instructions and entities: restricted-xml', async () => {
    await expectStreamError(['<!-- hello -->'], 'restricted-xml');
    await expectStreamError(['<?foo bar?>'], 'restricted-xml');
    await expectStreamError(['<message><body>&custom;</body></message>'], 'restricted-xml', true);
    await othersStillWork('after-restricted');
  });

  it('wrong stream namespace: invalid-namespace; unknown host: host-unknown', async () => {
    const c = await RawClient.connect(server.c2sPort);
    c.send("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
    await c.expect(/<invalid-namespace xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
    const d = await RawClient.connect(server.c2sPort);
    d.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='elsewhere.example' version='1.0'>");
    await d.expect(/<host-unknown xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await d.waitClosed();
  });

  it('a stanza before authentication: not-authorized', async () => {
    await expectStreamError(["<message to='bob@localhost'><body>sneaky</body></message>"], 'not-authorized');
    await othersStillWork('after-unauth');
  });

  it('an unknown top-level element: unsupported-stanza-type', async () => {
    await expectStreamError(['<foo/>'], 'unsupported-stanza-type', true);
  });

  it('overwrites a spoofed from', async () => {
    witness.send("<message to='bob@localhost/bystander' from='mallory@localhost/evil' type='chat'><body>spoof</body></message>");
    const m = await bystander.expect(/<message[^>]*from="([^"]+)"[^>]*><body>spoof<\/body>/);
    assert.equal(m[1], 'alice@localhost/witness');
  });

  it('answers an iq to an unknown namespace with service-unavailable', async () => {
    witness.send("<iq type='get' id='u1' to='localhost'><query xmlns='urn:example:nothing'/></iq>");
    await witness.expect(/<iq[^>]*id="u1"[^>]*type="error"[^>]*>.*<service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/);
  });

  it('a message to a full JID without session falls back to the bare JID (RFC 6121 §8.5.3.2.1)', async () => {
    witness.send("<message to='bob@localhost/nosuch' type='chat'><body>fallback</body></message>");
    await bystander.expect(/<body>fallback<\/body>/);
  });

  it('an iq to a missing user gets service-unavailable; a message to a malformed JID gets jid-malformed', async () => {
    witness.send("<iq type='get' id='m1' to='nobody@localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    await witness.expect(/id="m1"[^>]*type="error".*?<service-unavailable/);
    witness.send("<message to='a@b@@c' id='m2'><body>x</body></message>");
    await witness.expect(/id="m2"[^>]*type="error".*?<jid-malformed/);
  });

  it('closes cleanly on </stream:stream> and the sm ends the session', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.login('alice', 'pw-alice', 'closer');
    assert.ok(server.sm.sessions.full('alice@localhost/closer'));
    c.send('</stream:stream>');
    await c.expect(/<\/stream:stream>/);
    await c.waitClosed();
    assert.equal(server.sm.sessions.full('alice@localhost/closer'), undefined);
  });

  it('a dropped socket ends the session at once', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.login('alice', 'pw-alice', 'dropper');
    assert.ok(server.sm.sessions.full('alice@localhost/dropper'));
    c.close();
    const start = Date.now();
    while (server.sm.sessions.full('alice@localhost/dropper') && Date.now() - start < 2000) await new Promise((r) => setTimeout(r, 5));
    assert.equal(server.sm.sessions.full('alice@localhost/dropper'), undefined);
  });

  it('wrong password gets not-authorized, then after the attempt limit the stream is closed', async () => {
    const c = await RawClient.connect(server.c2sPort);
    c.send(HEADER);
    await c.expect(/<\/stream:features>/);
    const bad = Buffer.from('\0alice\0nope').toString('base64');
    for (let i = 0; i < 3; i++) {
      c.received = '';
      c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${bad}</auth>`);
      await c.expect(/<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized\/>/);
    }
    await c.expect(/<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
  });

  it('removing an account ends its sessions with not-authorized', async () => {
    await server.addUser('carol', 'pw-carol');
    const c = await RawClient.connect(server.c2sPort);
    await c.login('carol', 'pw-carol', 'doomed');
    assert.equal(await server.removeUser('carol'), true);
    await c.expect(/<not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
    assert.equal(await server.storage.accounts.accountExists('carol', 'localhost'), false);
  });
});
