// Issue #18: per-user quotas from the configuration, each answered with the
// error its specification gives when hit, and the server serving on:
// resources (RFC 6120 §7.6.2.1 resource-constraint at bind), roster items
// (RFC 6121 §2.3.3 not-allowed), private XML and vCard bytes (not-acceptable),
// PEP item size (XEP-0060 payload-too-big) and node count
// (max-nodes-exceeded), offline storage by bytes as well as by count.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

/** Logs in and asks to bind `resource`; returns what the bind got. */
async function tryBind(port: number, user: string, resource: string): Promise<{ c: RawClient; reply: string }> {
  const c = await RawClient.connect(port);
  c.send(HEADER);
  await c.expect(/<\/stream:features>/);
  c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0pw`).toString('base64')}</auth>`);
  await c.expect(/<success/);
  c.received = '';
  c.send(HEADER);
  await c.expect(/<\/stream:features>/);
  c.send(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
  return { c, reply: (await c.expect(/<iq [^>]*id="bind".*?<\/iq>/))[0] };
}

async function ask(c: RawClient, id: string, stanza: string): Promise<string> {
  c.send(stanza);
  return (await c.expect(new RegExp(`<iq [^>]*id="${id}"(?:[^>]*/>|.*?</iq>)`)))[0];
}

const pepPublish = (id: string, node: string, payload: string): string =>
  `<iq type='set' id='${id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${node}'><item id='x'><p xmlns='urn:test'>${payload}</p></item></publish></pubsub></iq>`;

describe('per-user quotas', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      allowPlaintextOnLoopback: true,
      quotas: { resources: 2, rosterItems: 3, privateXmlBytes: 600, vcardBytes: 400, pepNodes: 2, pepItemBytes: 300, offlineMessages: 100, offlineBytes: 2000 },
    });
    for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, 'pw');
  });
  after(() => server.stop());

  it('resources: a bind past the limit gets resource-constraint; rebinding a bound resource and binding after one left still work', async () => {
    const one = await tryBind(server.c2sPort, 'carol', 'one');
    const two = await tryBind(server.c2sPort, 'carol', 'two');
    assert.match(one.reply + two.reply, /<jid>carol@localhost\/one<\/jid>.*<jid>carol@localhost\/two<\/jid>/s);
    const three = await tryBind(server.c2sPort, 'carol', 'three');
    assert.match(three.reply, /type="error".*<error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/);
    // The stream stays usable for another try (RFC 6120 §7.6.2.1), and the others keep working.
    assert.equal(three.c.closed, false);
    assert.match(await ask(two.c, 'ping', "<iq type='get' id='ping'><ping xmlns='urn:xmpp:ping'/></iq>"), /type="result"/);
    // Binding a resource already bound replaces it (RFC 6120 §7.7.2.2), which the limit allows.
    const again = await tryBind(server.c2sPort, 'carol', 'two');
    assert.match(again.reply, /<jid>carol@localhost\/two<\/jid>/);
    one.c.close();
    await waitFor(() => server.sm.sessions.bare('carol@localhost').length === 1);
    const four = await tryBind(server.c2sPort, 'carol', 'four');
    assert.match(four.reply, /<jid>carol@localhost\/four<\/jid>/);
    for (const c of [two.c, three.c, again.c, four.c]) c.close();
  });

  it('roster items: the item past the limit is not-allowed; changing an existing one is fine', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.login('alice', 'pw', 'roster');
    for (let i = 0; i < 3; i++) {
      assert.match(await ask(c, `r${i}`, `<iq type='set' id='r${i}'><query xmlns='jabber:iq:roster'><item jid='friend${i}@localhost'/></query></iq>`), /type="result"/);
    }
    assert.match(await ask(c, 'r3', "<iq type='set' id='r3'><query xmlns='jabber:iq:roster'><item jid='friend3@localhost'/></query></iq>"), /type="error".*<not-allowed/);
    assert.match(await ask(c, 'r4', "<iq type='set' id='r4'><query xmlns='jabber:iq:roster'><item jid='friend0@localhost' name='Zero'/></query></iq>"), /type="result"/);
    assert.equal((await server.storage.rosters.getRoster('alice', 'localhost')).items.length, 3);
    c.close();
  });

  it('private XML and vCard: bytes past the limit are not-acceptable; replacing counts the new size', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.login('alice', 'pw', 'store');
    const priv = (id: string, ns: string, n: number): string => `<iq type='set' id='${id}'><query xmlns='jabber:iq:private'><data xmlns='${ns}'>${'x'.repeat(n)}</data></query></iq>`;
    assert.match(await ask(c, 'p1', priv('p1', 'urn:a', 250)), /type="result"/);
    assert.match(await ask(c, 'p2', priv('p2', 'urn:b', 250)), /type="result"/);
    assert.match(await ask(c, 'p3', priv('p3', 'urn:c', 250)), /type="error".*<not-acceptable/);
    assert.match(await ask(c, 'p4', priv('p4', 'urn:a', 280)), /type="result"/, 'urn:a replaced: 280 + 250 + tags fit');
    assert.match(await ask(c, 'v1', `<iq type='set' id='v1'><vCard xmlns='vcard-temp'><DESC>${'y'.repeat(500)}</DESC></vCard></iq>`), /type="error".*<not-acceptable/);
    assert.match(await ask(c, 'v2', "<iq type='set' id='v2'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>"), /type="result"/);
    c.close();
  });

  it('PEP: an item past the size limit is payload-too-big, a node past the count is max-nodes-exceeded', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.login('bob', 'pw', 'pep');
    assert.match(await ask(c, 'big', pepPublish('big', 'urn:n1', 'z'.repeat(400))), /type="error".*<not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/><payload-too-big xmlns="http:\/\/jabber.org\/protocol\/pubsub#errors"\/>/);
    assert.match(await ask(c, 'n1', pepPublish('n1', 'urn:n1', 'small')), /type="result"/);
    assert.match(await ask(c, 'n2', pepPublish('n2', 'urn:n2', 'small')), /type="result"/);
    assert.match(await ask(c, 'n3', pepPublish('n3', 'urn:n3', 'small')), /type="error".*<not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>.*<max-nodes-exceeded/);
    assert.match(await ask(c, 'n4', pepPublish('n4', 'urn:n1', 'again')), /type="result"/, 'an existing node takes more items');
    c.close();
  });

  it('offline storage: past the bytes quota a message bounces with service-unavailable, well before the count quota', async () => {
    const alice = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'pw', 'sender');
    const body = 'm'.repeat(500);
    for (let i = 0; i < 5; i++) alice.send(`<message to='bob@localhost' type='chat' id='m${i}'><body>${body}</body></message>`);
    await alice.expect(/<message [^>]*id="m\d"[^>]*type="error".*?<service-unavailable/);
    const stored = await server.storage.offline.count('bob', 'localhost');
    assert.ok(stored >= 2 && stored <= 3, `${stored} stored of 5 (each ~650 bytes with its delay stamp, 2000 allowed)`);
    const bounced = alice.received.match(/type="error"/g)?.length ?? 0;
    await waitFor(() => (alice.received.match(/type="error"/g)?.length ?? 0) === 5 - stored, 5000, 'every other message bounced');
    assert.ok(bounced >= 1);
    const bob = await RawClient.connect(server.c2sPort);
    await bob.login('bob', 'pw', 'back');
    bob.send('<presence/>');
    await waitFor(() => (bob.received.match(/<body>/g)?.length ?? 0) === stored, 5000, 'stored messages delivered');
    alice.close();
    bob.close();
  });
});
