// Issue #3: XEP-0114 external components: handshake with the configured
// secret, bound to their domain, stanzas both ways with local users.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RawClient, startTestServer, type TestServer } from './helpers.ts';

const componentHeader = (domain: string): string =>
  `<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}'>`;

async function connectComponent(server: TestServer, domain: string, secret: string): Promise<RawClient> {
  const c = await RawClient.connect(server.componentPort!);
  c.send(componentHeader(domain));
  const id = (await c.expect(/<stream:stream[^>]*id="([^"]+)"/))[1]!;
  c.send(`<handshake>${createHash('sha1').update(id + secret).digest('hex')}</handshake>`);
  return c;
}

describe('XEP-0114 components', { timeout: 30_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true, components: [{ domain: 'bot.localhost', secret: 's3cret' }], componentPort: 0 });
    await server.addUser('alice', 'pw');
  });
  after(() => server.stop());

  it('the server lists its components as disco#items', async () => {
    const alice = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'pw', 'disco');
    alice.send("<iq type='get' id='items' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
    await alice.expect(/id="items".*?<item jid="bot.localhost"\/>/);
    alice.close();
  });

  it('a wrong secret gets not-authorized; an unknown domain host-unknown', async () => {
    const bad = await connectComponent(server, 'bot.localhost', 'wrong');
    await bad.expect(/<not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await bad.waitClosed();
    const unknown = await RawClient.connect(server.componentPort!);
    unknown.send(componentHeader('nope.localhost'));
    await unknown.expect(/<host-unknown xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
  });

  it('exchanges stanzas with local users both ways; from outside its domain is invalid-from', async () => {
    const bot = await connectComponent(server, 'bot.localhost', 's3cret');
    await bot.expect(/<handshake\/>/);
    const alice = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'pw', 'a');
    alice.send('<presence/>');
    alice.send("<message to='echo@bot.localhost' type='chat' id='m1'><body>hello bot</body></message>");
    const m = await bot.expect(/<message[^>]*to="echo@bot.localhost"[^>]*>.*?<body>hello bot<\/body>/);
    assert.match(m[0], /from="alice@localhost\/a"/);
    bot.send("<message from='echo@bot.localhost' to='alice@localhost' type='chat'><body>hello human</body></message>");
    await alice.expect(/<message[^>]*from="echo@bot.localhost"[^>]*>.*?<body>hello human<\/body>/);
    // An iq from a user to the component, answered by the component.
    alice.send("<iq type='get' id='q1' to='bot.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    await bot.expect(/<iq[^>]*id="q1"/);
    bot.send("<iq type='result' id='q1' from='bot.localhost' to='alice@localhost/a'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='component' type='generic'/></query></iq>");
    await alice.expect(/<iq[^>]*id="q1"[^>]*>.*?category="component"/);
    bot.send("<message from='mallory@localhost' to='alice@localhost'><body>spoof</body></message>");
    await bot.expect(/<invalid-from xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await bot.waitClosed();
    // Once it is gone, its domain answers service-unavailable.
    alice.send("<message to='echo@bot.localhost' id='m2'><body>anyone?</body></message>");
    await alice.expect(/id="m2"[^>]*type="error".*?<service-unavailable/);
    alice.close();
  });
});
