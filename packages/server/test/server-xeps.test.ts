// Issue #3: the server XEPs every client expects, each with its own case.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';

describe('server XEPs', { timeout: 60_000 }, () => {
  let server: TestServer;
  let alice: RawClient;
  let bob: RawClient;

  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    for (const u of ['alice', 'bob', 'mallory']) await server.addUser(u, 'pw');
    alice = await RawClient.connect(server.c2sPort);
    bob = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'pw', 'a');
    await bob.login('bob', 'pw', 'b');
    alice.send('<presence/>');
    bob.send('<presence/>');
  });

  after(async () => {
    alice.close();
    bob.close();
    await server.stop();
  });

  it('XEP-0092 software version of the server', async () => {
    alice.send("<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>");
    await alice.expect(/id="v1".*?<name>Switchboard<\/name><version>[0-9.]+<\/version>/);
  });

  it('XEP-0030 disco#info of the server lists what it serves', async () => {
    alice.send("<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    const m = await alice.expect(/id="d1".*?<\/iq>/);
    for (const f of ['jabber:iq:version', 'jabber:iq:last', 'urn:xmpp:ping', 'urn:xmpp:features:rosterver']) assert.match(m[0], new RegExp(`var="${f}"`));
    assert.match(m[0], /<identity category="server" type="im"/);
  });

  it('XEP-0115: the stream features carry the caps of exactly the disco#info the server answers with', async () => {
    const { capsVerification } = await import('../src/caps.ts');
    const c = await RawClient.connect(server.c2sPort);
    await c.login('mallory', 'pw', 'caps');
    const fresh = await RawClient.connect(server.c2sPort);
    fresh.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
    await fresh.expect(/<\/stream:features>/);
    fresh.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0mallory\0pw').toString('base64')}</auth>`);
    await fresh.expect(/<success/);
    fresh.received = '';
    fresh.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
    const ver = (await fresh.expect(/<c xmlns="http:\/\/jabber.org\/protocol\/caps" hash="sha-1" node="[^"]+" ver="([^"]+)"\/>/))[1];
    c.send("<iq type='get' id='ci' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    const info = (await c.expect(/id="ci".*?<\/iq>/))[0];
    const features = [...info.matchAll(/var="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(ver, capsVerification([{ category: 'server', type: 'im', name: 'Switchboard' }], features));
    c.close();
    fresh.close();
  });

  it('XEP-0054 vcard-temp: set your own, anyone reads it, nobody else writes it', async () => {
    alice.send("<iq type='set' id='vc1'><vCard xmlns='vcard-temp'><FN>Alice &amp; co</FN></vCard></iq>");
    await alice.expect(/<iq type="result" id="vc1"/);
    bob.send("<iq type='get' id='vc2' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>");
    await bob.expect(/id="vc2".*?<FN>Alice &amp; co<\/FN>/);
    bob.send("<iq type='set' id='vc3' to='alice@localhost'><vCard xmlns='vcard-temp'><FN>hacked</FN></vCard></iq>");
    await bob.expect(/id="vc3"[^>]*type="error".*?<forbidden/);
    bob.send("<iq type='get' id='vc4' to='mallory@localhost'><vCard xmlns='vcard-temp'/></iq>");
    await bob.expect(/id="vc4".*?<vCard xmlns="vcard-temp"\/>/);
  });

  it('XEP-0049 private XML storage: per namespace, own account only, jabber: namespaces refused', async () => {
    alice.send("<iq type='set' id='p1'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'><theme>dark</theme></prefs></query></iq>");
    await alice.expect(/<iq type="result" id="p1"/);
    alice.send("<iq type='get' id='p2'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>");
    await alice.expect(/id="p2".*?<theme>dark<\/theme>/);
    alice.send("<iq type='get' id='p3'><query xmlns='jabber:iq:private'><x xmlns='jabber:iq:roster'/></query></iq>");
    await alice.expect(/id="p3"[^>]*type="error".*?<not-acceptable/);
    bob.send("<iq type='get' id='p4' to='alice@localhost'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>");
    await bob.expect(/id="p4"[^>]*type="error".*?<forbidden/);
  });

  it('XEP-0012 last activity: server uptime; for an account only to its subscribers', async () => {
    alice.send("<iq type='get' id='l1' to='localhost'><query xmlns='jabber:iq:last'/></iq>");
    await alice.expect(/id="l1".*?<query xmlns="jabber:iq:last" seconds="\d+"/);
    bob.send("<iq type='get' id='l2' to='alice@localhost'><query xmlns='jabber:iq:last'/></iq>");
    await bob.expect(/id="l2"[^>]*type="error".*?<forbidden/);
    alice.send("<iq type='get' id='l3' to='alice@localhost'><query xmlns='jabber:iq:last'/></iq>");
    await alice.expect(/id="l3".*?seconds="0"/);
  });

  it('XEP-0191 blocking: the blocked contact gets nothing delivered, the blocker cannot write to them, unblock restores', async () => {
    alice.send("<iq type='get' id='b0'><blocklist xmlns='urn:xmpp:blocking'/></iq>");
    await alice.expect(/id="b0".*?<blocklist xmlns="urn:xmpp:blocking"\/>/);
    alice.send("<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block></iq>");
    await alice.expect(/<iq type="set"[^>]*><block xmlns="urn:xmpp:blocking"><item jid="bob@localhost"\/><\/block>/); // the push
    await alice.expect(/<iq type="result" id="b1"/);
    alice.received = '';
    bob.send("<message to='alice@localhost/a' type='chat' id='bm1'><body>let me in</body></message>");
    await bob.expect(/id="bm1"[^>]*type="error".*?<service-unavailable/);
    bob.send("<presence to='alice@localhost/a'/>");
    bob.send("<iq type='get' id='bq' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>");
    await bob.expect(/id="bq"[^>]*type="error".*?<service-unavailable/);
    await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(alice.received, /let me in|from="bob@localhost\/b"/);
    alice.send("<message to='bob@localhost' type='chat' id='am1'><body>x</body></message>");
    await alice.expect(/id="am1"[^>]*type="error".*?<not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/><blocked xmlns="urn:xmpp:blocking:errors"\/>/);
    alice.send("<iq type='set' id='b2'><unblock xmlns='urn:xmpp:blocking'/></iq>");
    await alice.expect(/<iq type="result" id="b2"/);
    bob.send("<message to='alice@localhost/a' type='chat'><body>hello again</body></message>");
    await alice.expect(/<body>hello again<\/body>/);
  });

  it('XEP-0191: a block survives reconnecting and applies while the user is offline too', async () => {
    const m = await RawClient.connect(server.c2sPort);
    await m.login('mallory', 'pw', 'm');
    alice.send("<iq type='set' id='b3'><block xmlns='urn:xmpp:blocking'><item jid='mallory@localhost'/></block></iq>");
    await alice.expect(/<iq type="result" id="b3"/);
    alice.close();
    await waitFor(() => server.sm.sessions.bare('alice@localhost').length === 0);
    m.send("<message to='alice@localhost' type='chat' id='mm'><body>offline spam</body></message>");
    await m.expect(/id="mm"[^>]*type="error".*?<service-unavailable/);
    assert.equal(await server.storage.offline.count('alice', 'localhost'), 0, 'not stored for later either');
    alice = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'pw', 'a');
    alice.send("<iq type='get' id='b4'><blocklist xmlns='urn:xmpp:blocking'/></iq>");
    await alice.expect(/id="b4".*?<item jid="mallory@localhost"\/>/);
    m.close();
  });
});
