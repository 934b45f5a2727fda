// XEP-0280 Message Carbons and the RFC 6121 §8.5.2.1.1 delivery policy,
// across three resources of one account: byte-level clients for the exact
// copies, then our client library, StanzaJS and slixmpp as the three
// resources of one account.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as Stanza from 'stanza';
import { Client, type IncomingMessage } from '@switchboard/client';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';
import { SlixmppPeer } from './peers/slixmpp.ts';

const CARBONS = 'urn:xmpp:carbons:2';

/** The server writes attributes in double quotes and a stanza passed through keeps the client's: match either. */
const q = (re: RegExp): RegExp => new RegExp(re.source.replace(/'/g, `["']`), re.flags);

async function online(server: TestServer, user: string, resource: string, priority: number, carbons: boolean): Promise<RawClient> {
  const c = await RawClient.connect(server.c2sPort);
  await c.login(user, `${user}-pw`, resource);
  c.send(`<presence><priority>${priority}</priority></presence>`);
  await waitFor(() => server.sm.sessions.full(`${user}@localhost/${resource}`)?.available === true);
  if (carbons) {
    c.send(`<iq type='set' id='carbons-on'><enable xmlns='${CARBONS}'/></iq>`);
    await c.expect(q(/<iq[^>]*id='carbons-on'[^>]*type='result'|<iq[^>]*type='result'[^>]*id='carbons-on'/));
  }
  c.received = '';
  return c;
}

/** Everything a client got, as one string, once `marker` arrived (what came before it came in order). */
async function upTo(c: RawClient, marker: string): Promise<string> {
  await c.expect(new RegExp(`<body>${marker}</body>`));
  const all = c.received;
  c.received = '';
  return all;
}

describe('XEP-0280 message carbons', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    for (const u of ['alice', 'bob', 'carol', 'mallory']) await server.addUser(u, `${u}-pw`);
  });
  after(() => server.stop());

  it('three resources: most available gets the bare-JID chat, enabled ones get received and sent copies, the rules of §6.1 hold', async () => {
    const phone = await online(server, 'alice', 'phone', 5, true);
    const laptop = await online(server, 'alice', 'laptop', 1, true);
    const tab = await online(server, 'alice', 'tab', 0, false);
    const bob = await online(server, 'bob', 'desk', 0, false);
    try {
      // §2: the server advertises carbons where clients look, its own disco#info.
      phone.send(`<iq type='get' id='disco' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      await phone.expect(q(new RegExp(`<feature var='${CARBONS}' ?/>`)));
      phone.received = '';

      // RFC 6121 §8.5.2.1.1 (default policy): only the highest priority gets it; the enabled laptop a received carbon; the tab nothing.
      bob.send(`<message to='alice@localhost' type='chat' id='m1'><body>to-bare</body></message>`);
      // The archive's XEP-0359 id (sm/modules/mam) is on the delivered message and on its carbon.
      await phone.expect(q(/<message[^>]*><body>to-bare<\/body>(?:<stanza-id[^>]*\/>)?<\/message>/));
      const copy = await laptop.expect(q(/<message from='alice@localhost' to='alice@localhost\/laptop' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message ([^>]*)><body>to-bare<\/body>(?:<stanza-id[^>]*\/>)?<\/message><\/forwarded><\/received><\/message>/));
      assert.match(copy[1]!, q(/from='bob@localhost\/desk'/));
      assert.match(copy[1]!, q(/xmlns='jabber:client'/), 'XEP-0297: the forwarded stanza is in jabber:client');
      assert.match(copy[1]!, q(/to='alice@localhost'/));

      // To a full JID: that resource gets it, every other enabled one a received carbon.
      bob.send(`<message to='alice@localhost/tab' type='chat'><body>to-tab</body></message>`);
      await tab.expect(q(/<body>to-tab<\/body>/));
      await phone.expect(q(/<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message[^>]*to='alice@localhost\/tab'[^>]*><body>to-tab<\/body>/));
      await laptop.expect(q(/<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message[^>]*><body>to-tab<\/body>/));
      // bob's messages arrive in order: by now the bare-JID one would have reached the tab, had it been sent there.
      assert.doesNotMatch(tab.received, /to-bare/, 'a lower-priority resource without carbons does not get the bare-JID chat');
      assert.doesNotMatch(phone.received, /<received[^>]*><forwarded[^>]*><message[^>]*><body>to-bare/, 'the resource that got the message gets no copy of it');

      // §7: what the phone sends reaches the laptop as a sent carbon (not the tab, not the phone itself).
      phone.send(`<message to='bob@localhost/desk' type='chat' id='s1'><body>from-phone</body></message>`);
      await bob.expect(q(/<body>from-phone<\/body>/));
      const sent = await laptop.expect(q(/<message from='alice@localhost' to='alice@localhost\/laptop' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message ([^>]*)><body>from-phone<\/body>/));
      assert.match(sent[1]!, q(/from='alice@localhost\/phone'/));

      // §7.1 private, XEP-0334 no-copy, a normal message without body, a headline: not copied. Markers after each prove it.
      phone.send(`<message to='bob@localhost/desk' type='chat'><body>private</body><private xmlns='${CARBONS}'/></message>`);
      phone.send(`<message to='bob@localhost/desk' type='chat'><body>marker1</body></message>`);
      bob.send(`<message to='alice@localhost/tab' type='chat'><body>nocopy</body><no-copy xmlns='urn:xmpp:hints'/></message>`);
      bob.send(`<message to='alice@localhost/tab'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`);
      bob.send(`<message to='alice@localhost/tab' type='headline'><body>headline</body></message>`);
      bob.send(`<message to='alice@localhost/tab'><body>normal-with-body</body></message>`);
      bob.send(`<message to='alice@localhost/tab' type='chat'><body>marker2</body></message>`);
      await laptop.expect(/<body>marker1<\/body>/);
      const later = await upTo(laptop, 'marker2');
      assert.doesNotMatch(later, q(/private|nocopy|headline|chatstates/), 'private, no-copy, body-less normal and headline are not copied');
      assert.match(later, q(/<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message[^>]*><body>normal-with-body<\/body>/));
      await tab.expect(q(/nocopy[\s\S]*headline[\s\S]*marker2/));
      await bob.expect(q(/private/));

      // §6.1: an error answering an eligible message is copied; an error answering nothing we know is not.
      phone.send(`<message to='bob@localhost/desk' type='chat' id='ask1'><body>question</body></message>`);
      await bob.expect(q(/<body>question<\/body>/));
      bob.send(`<message to='alice@localhost/phone' type='error' id='ask1'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
      bob.send(`<message to='alice@localhost/phone' type='error' id='unknown'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
      bob.send(`<message to='alice@localhost/phone' type='chat'><body>marker3</body></message>`);
      const errors = await upTo(laptop, 'marker3');
      assert.match(errors, q(/<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message[^>]*id='ask1'/));
      assert.doesNotMatch(errors, q(/id='unknown'/));

      // §5: disable stops the copies.
      laptop.send(`<iq type='set' id='off'><disable xmlns='${CARBONS}'/></iq>`);
      await laptop.expect(q(/id='off'/));
      bob.send(`<message to='alice@localhost/tab' type='chat'><body>after-disable</body></message>`);
      bob.send(`<message to='alice@localhost/phone' type='chat'><body>marker4</body></message>`);
      await tab.expect(q(/after-disable/));
      await phone.expect(q(/after-disable[\s\S]*marker4/));
      await new Promise((r) => setTimeout(r, 200));
      assert.doesNotMatch(laptop.received, q(/after-disable|marker4/));
    } finally {
      for (const c of [phone, laptop, tab, bob]) c.close();
    }
  });

  it('carbons enable from a stream that has not bound a resource is refused', async () => {
    const c = await RawClient.connect(server.c2sPort);
    try {
      const header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
      c.send(header);
      await c.expect(q(/<\/stream:features>/));
      c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0carol\0carol-pw').toString('base64')}</auth>`);
      await c.expect(q(/<success/));
      c.send(header);
      await c.expect(q(/<bind xmlns/));
      c.send(`<iq type='set' id='early'><enable xmlns='${CARBONS}'/></iq>`);
      await c.expect(q(/<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams' ?\/>/));
      await c.waitClosed();
      assert.equal(server.sm.sessions.bare('carol@localhost').length, 0);
    } finally {
      c.close();
    }
  });

  it('our client, StanzaJS and slixmpp as three resources of one account; a forged carbon is dropped by our client', { timeout: 40_000 }, async () => {
    const lib = new Client({ domain: 'localhost', username: 'carol', password: 'carol-pw', resource: 'lib', transport: { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort }, requireTls: false, allowPlainWithoutTls: true });
    const libSeen: IncomingMessage[] = [];
    lib.on('message', (m) => libSeen.push(m));
    const agent = Stanza.createClient({ jid: 'carol@localhost', password: 'carol-pw', resource: 'stanzajs', transports: { websocket: `wss://localhost:${server.wsPort}/xmpp-websocket`, bosh: false } });
    agent.sasl.disable('SCRAM-SHA-256-PLUS');
    agent.sasl.disable('SCRAM-SHA-1-PLUS');
    const stanzaReceived: string[] = [];
    const stanzaSent: string[] = [];
    agent.on('carbon:received', (m) => stanzaReceived.push(m.carbon!.forward.message!.body ?? ''));
    agent.on('carbon:sent', (m) => stanzaSent.push(m.carbon!.forward.message!.body ?? ''));
    const slix = new SlixmppPeer('carol@localhost/slixmpp', 'carol-pw', server.c2sPort);
    const bob = await online(server, 'bob', 'desk2', 0, false);
    const mallory = await online(server, 'mallory', 'evil', 0, false);
    try {
      // SASL2 + Bind 2: the server makes lib's resource from its tag.
      const libJid = await lib.connect();
      assert.match(libJid, /^carol@localhost\/lib\//);
      await lib.setCarbons(true);
      const started = new Promise((resolve) => agent.once('session:started', resolve));
      agent.connect();
      await started;
      agent.sendPresence();
      await agent.enableCarbons();
      await slix.expect((e) => e.ev === 'online', 'online');
      slix.command({ cmd: 'carbons', enable: true });
      await slix.expect((e) => e.ev === 'carbons', 'carbons enabled');

      // Received: bob writes to one resource, the other two get carbons.
      bob.send(`<message to='${libJid}' type='chat'><body>hi-lib</body></message>`);
      await waitFor(() => libSeen.some((m) => m.kind === 'message' && m.stanza.getChildText('body') === 'hi-lib'), 5000, 'lib gets the message');
      await waitFor(() => stanzaReceived.includes('hi-lib'), 5000, 'StanzaJS received carbon');
      await slix.expect((e) => e.ev === 'carbon_received' && e.body === 'hi-lib', 'slixmpp received carbon');

      // Sent: from StanzaJS, then from slixmpp.
      agent.sendMessage({ to: 'bob@localhost/desk2', type: 'chat', body: 'from-stanzajs' });
      await bob.expect(q(/from-stanzajs/));
      await waitFor(() => libSeen.some((m) => m.kind === 'sent-carbon' && m.stanza.getChildText('body') === 'from-stanzajs'), 5000, 'lib sent carbon');
      await slix.expect((e) => e.ev === 'carbon_sent' && e.body === 'from-stanzajs', 'slixmpp sent carbon');
      slix.command({ cmd: 'send', to: 'bob@localhost/desk2', body: 'from-slixmpp' });
      await bob.expect(q(/from-slixmpp/));
      await waitFor(() => libSeen.some((m) => m.kind === 'sent-carbon' && m.stanza.getChildText('body') === 'from-slixmpp'), 5000, 'lib sent carbon from slixmpp');
      await waitFor(() => stanzaSent.includes('from-slixmpp'), 5000, 'StanzaJS sent carbon from slixmpp');

      // §11: mallory wraps a message "from bob" in a received carbon; the server delivers it as mallory's message, our client drops it.
      mallory.send(`<message to='${libJid}' type='chat'><received xmlns='${CARBONS}'><forwarded xmlns='urn:xmpp:forward:0'><message from='bob@localhost/desk2' to='${libJid}' type='chat'><body>forged</body></message></forwarded></received></message>`);
      bob.send(`<message to='${libJid}' type='chat'><body>after-forged</body></message>`);
      await waitFor(() => libSeen.some((m) => m.stanza.getChildText('body') === 'after-forged'), 5000, 'the next real message');
      assert.ok(!libSeen.some((m) => m.stanza.getChildText('body') === 'forged'), 'the forged carbon never reached the application');
      // The server does not carbon-copy a carbon either: the others never see it.
      assert.ok(!stanzaReceived.includes('forged'));
      assert.ok(!slix.events.some((e) => e.body === 'forged'));
    } finally {
      await slix.stop();
      agent.disconnect();
      await lib.disconnect();
      bob.close();
      mallory.close();
    }
  });

  it('chatToAllResources: true keeps delivering a bare-JID chat to every non-negative resource', async () => {
    const legacy = await startTestServer({ allowPlaintextOnLoopback: true, chatToAllResources: true });
    try {
      for (const u of ['alice', 'bob']) await legacy.addUser(u, `${u}-pw`);
      const high = await online(legacy, 'alice', 'high', 5, false);
      const low = await online(legacy, 'alice', 'low', 0, false);
      const bob = await online(legacy, 'bob', 'b', 0, false);
      bob.send(`<message to='alice@localhost' type='chat'><body>everyone</body></message>`);
      await high.expect(q(/everyone/));
      await low.expect(q(/everyone/));
      for (const c of [high, low, bob]) c.close();
    } finally {
      await legacy.stop();
    }
  });
});
