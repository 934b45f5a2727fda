// Issue #3: XEP-0163 PEP with auto-create and +notify filtering, as avatars
// (XEP-0084) and bookmarks (XEP-0402) use it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';
import { capsVerification } from '../src/caps.ts';

const CAPS = "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://client.example' ver='VER'/>";

const IDENTITY = { category: 'client', type: 'pc', name: 'test' };

/**
 * Logs in and sends presence with the caps of `features` (a true XEP-0115
 * hash); when the server does not know that hash yet (`asked`), answers its
 * disco#info query.
 */
async function withCaps(server: TestServer, user: string, resource: string, features: string[], asked = true): Promise<RawClient> {
  const ver = capsVerification([IDENTITY], features);
  const c = await RawClient.connect(server.c2sPort);
  await c.login(user, 'pw', resource);
  c.send(`<presence>${CAPS.replace('VER', ver)}</presence>`);
  if (asked) {
    const q = await c.expect(/<iq type="get" id="([^"]+)" from="localhost"[^>]*><query xmlns="http:\/\/jabber.org\/protocol\/disco#info" node="https:\/\/client.example#([^"]+)"\/>/);
    assert.equal(q[2], ver);
    c.send(`<iq type='result' id='${q[1]}' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc' name='test'/>${features.map((f) => `<feature var='${f}'/>`).join('')}</query></iq>`);
  }
  return c;
}

async function befriend(server: TestServer, a: string, b: string): Promise<void> {
  const x = await RawClient.connect(server.c2sPort);
  const y = await RawClient.connect(server.c2sPort);
  await x.login(a, 'pw', 'setup');
  await y.login(b, 'pw', 'setup');
  x.send(`<presence to='${b}@localhost' type='subscribe'/>`);
  y.send(`<presence to='${a}@localhost' type='subscribe'/>`);
  await new Promise((r) => setTimeout(r, 100));
  x.send(`<presence to='${b}@localhost' type='subscribed'/>`);
  y.send(`<presence to='${a}@localhost' type='subscribed'/>`);
  await waitFor(async () => (await server.sm.rosters.load(a)).items.get(`${b}@localhost`)?.subscription === 'both');
  x.close();
  y.close();
}

describe('XEP-0163 PEP', { timeout: 30_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    for (const u of ['alice', 'bob', 'eve']) await server.addUser(u, 'pw');
    await befriend(server, 'alice', 'bob');
  });
  after(() => server.stop());

  it('avatar metadata: auto-created on publish, notified to +notify resources of subscribed contacts only, retrievable by them', async () => {
    const bob = await withCaps(server, 'bob', 'notify', ['urn:xmpp:avatar:metadata+notify']);
    const bobPlain = await withCaps(server, 'bob', 'plain', ['urn:xmpp:ping']);
    const eve = await withCaps(server, 'eve', 'x', ['urn:xmpp:avatar:metadata+notify'], false); // same caps as bob/notify (known), but not subscribed
    const alice = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'pw', 'pub');
    alice.send(`<iq type='set' id='pub1'><pubsub xmlns='http://jabber.org/protocol/pubsub'>
      <publish node='urn:xmpp:avatar:metadata'><item id='abc123'><metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='100' id='abc123' type='image/png'/></metadata></item></publish>
      <publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>presence</value></field></x></publish-options>
    </pubsub></iq>`);
    await alice.expect(/id="pub1".*?<publish node="urn:xmpp:avatar:metadata"><item id="abc123"\/>/);
    await bob.expect(/<message from="alice@localhost" to="bob@localhost\/notify" type="headline"><event xmlns="http:\/\/jabber.org\/protocol\/pubsub#event"><items node="urn:xmpp:avatar:metadata"><item id="abc123">/);
    await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(bobPlain.received, /pubsub#event/, 'no +notify, no event');
    assert.doesNotMatch(eve.received, /pubsub#event/, 'not subscribed, no event');
    bob.send("<iq type='get' id='get1' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:metadata'/></pubsub></iq>");
    await bob.expect(/id="get1".*?<item id="abc123"><metadata/);
    eve.send("<iq type='get' id='get2' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:metadata'/></pubsub></iq>");
    await eve.expect(/id="get2"[^>]*type="error".*?<presence-subscription-required/);
    // A resource that comes online later gets the last item as soon as its caps are known.
    const late = await withCaps(server, 'bob', 'late', ['urn:xmpp:avatar:metadata+notify'], false);
    await late.expect(/<items node="urn:xmpp:avatar:metadata"><item id="abc123">/);
    for (const c of [bob, bobPlain, eve, alice, late]) c.close();
  });

  it('initial presence gets the available contacts\' presence (probes answered by the server, RFC 6121 §4.3)', async () => {
    const bob = await RawClient.connect(server.c2sPort);
    await bob.login('bob', 'pw', 'here');
    bob.send('<presence><status>around</status></presence>');
    await waitFor(() => server.sm.sessions.full('bob@localhost/here')?.available === true);
    const alice = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'pw', 'arrive');
    alice.send('<presence/>');
    await alice.expect(/<presence from="bob@localhost\/here" to="alice@localhost\/arrive"><status>around<\/status><\/presence>/);
    // A client's own probe: answered for a subscriber, ignored for anyone else.
    alice.received = '';
    alice.send("<presence to='bob@localhost' type='probe'/>");
    await alice.expect(/<presence from="bob@localhost\/here"[^>]*><status>around<\/status>/);
    const eve = await RawClient.connect(server.c2sPort);
    await eve.login('eve', 'pw', 'probe');
    eve.send("<presence to='bob@localhost' type='probe'/>");
    await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(eve.received, /bob@localhost\/here/);
    assert.doesNotMatch(bob.received, /type="probe"/, 'probes are never delivered');
    for (const c of [alice, bob, eve]) c.close();
  });

  it('disco#items: the account lists its PEP nodes to its owner', async () => {
    const alice = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'pw', 'items');
    alice.send("<iq type='get' id='di' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
    await alice.expect(/id="di".*?<item jid="alice@localhost" node="urn:xmpp:avatar:metadata"\/>/);
    alice.send("<iq type='get' id='dinfo' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    await alice.expect(/id="dinfo".*?<identity category="pubsub" type="pep"\/>.*?var="http:\/\/jabber.org\/protocol\/pubsub#auto-create"/);
    alice.close();
  });

  it('bookmarks: many items, whitelist access, publish-options that conflict, retract with notify', async () => {
    const alice = await withCaps(server, 'alice', 'bm', ['urn:xmpp:bookmarks:1+notify']);
    const publish = (id: string, room: string, max = 'max'): string => `<iq type='set' id='${id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>
      <publish node='urn:xmpp:bookmarks:1'><item id='${room}'><conference xmlns='urn:xmpp:bookmarks:1' name='${room}' autojoin='true'/></item></publish>
      <publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>
      <field var='pubsub#max_items'><value>${max}</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options></pubsub></iq>`;
    alice.send(publish('b1', 'room1@conference.localhost'));
    await alice.expect(/<iq type="result" id="b1"/);
    alice.send(publish('b2', 'room2@conference.localhost'));
    await alice.expect(/<iq type="result" id="b2"/);
    await alice.expect(/<items node="urn:xmpp:bookmarks:1"><item id="room2@conference.localhost">/); // own resources are notified
    alice.send(publish('b3', 'room3@conference.localhost', '1'));
    await alice.expect(/id="b3"[^>]*type="error"[\s\S]*?<precondition-not-met/);
    alice.send("<iq type='get' id='all'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>");
    const all = (await alice.expect(/id="all".*?<\/iq>/))[0];
    assert.match(all, /room1@conference.localhost.*room2@conference.localhost/);
    const bob = await RawClient.connect(server.c2sPort);
    await bob.login('bob', 'pw', 'snoop');
    bob.send("<iq type='get' id='snoop' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>");
    await bob.expect(/id="snoop"[^>]*type="error"/);
    alice.send("<iq type='set' id='rt'><pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='urn:xmpp:bookmarks:1' notify='true'><item id='room1@conference.localhost'/></retract></pubsub></iq>");
    await alice.expect(/<retract id="room1@conference.localhost"\/>/);
    await alice.expect(/<iq type="result" id="rt"/);
    alice.close();
    bob.close();
  });
});
