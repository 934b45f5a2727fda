// Issue #18: nothing one user sends may change what another receives. The
// server learns a resource's features by asking it (XEP-0115 disco#info)
// and filters PEP notifications by them; mallory tries to make bob miss
// alice's notifications, two ways:
//  1. answering the server's query to bob herself, with bob's query id;
//  2. announcing bob's caps hash first and answering for it with a feature
//     list that does not hash to it, so that the cache keyed by that hash
//     says bob's client wants nothing.
// Both fail: answers are taken only from the entity asked, and a caps
// entry is cached only once the answer hashes to its ver (§5.4).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, type TestServer } from './helpers.ts';
import { capsVerification } from '../src/caps.ts';
import type { RosterItem } from '../src/storage/ports.ts';

const NOTIFY = 'http://jabber.org/protocol/tune+notify';
const FEATURES = ['http://jabber.org/protocol/disco#info', NOTIFY];
const VER = capsVerification([{ category: 'client', type: 'pc', name: 'bobclient' }], FEATURES);
const DISCO_GET = /<iq type="get" id="([^"]+)" from="localhost" to="([^"]+)"><query xmlns="http:\/\/jabber.org\/protocol\/disco#info" node="https:\/\/bob.example#([^"]+)"\/><\/iq>/;

const presenceWithCaps = `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://bob.example' ver='${VER}'/></presence>`;
const truthful = (id: string): string =>
  `<iq type='result' id='${id}' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='https://bob.example#${VER}'><identity category='client' type='pc' name='bobclient'/>${FEATURES.map((f) => `<feature var='${f}'/>`).join('')}</query></iq>`;
const lying = (id: string): string =>
  `<iq type='result' id='${id}' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='https://bob.example#${VER}'><identity category='client' type='pc' name='bobclient'/><feature var='http://jabber.org/protocol/disco#info'/></query></iq>`;
const publishTune = (id: string, title: string): string =>
  `<iq type='set' id='${id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='http://jabber.org/protocol/tune'><item id='${title}'><tune xmlns='http://jabber.org/protocol/tune'><title>${title}</title></tune></item></publish></pubsub></iq>`;

function friends(_owner: string, b: string): RosterItem {
  return { jid: `${b}@localhost`, groups: [], subscription: 'both', ask: false, pendingIn: false, approved: false, visible: true };
}

async function roundTrip(c: RawClient, id: string): Promise<void> {
  c.send(`<iq type='get' id='${id}' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await c.expect(new RegExp(`<iq [^>]*id="${id}"`));
}

async function setup(): Promise<{ server: TestServer; alice: RawClient; mallory: RawClient }> {
  const server = await startTestServer({ allowPlaintextOnLoopback: true });
  for (const u of ['alice', 'bob', 'mallory']) await server.addUser(u, 'pw');
  await server.storage.rosters.putItem('alice', 'localhost', friends('alice', 'bob'));
  await server.storage.rosters.putItem('bob', 'localhost', friends('bob', 'alice'));
  const alice = await RawClient.connect(server.c2sPort);
  await alice.login('alice', 'pw', 'home');
  const mallory = await RawClient.connect(server.c2sPort);
  await mallory.login('mallory', 'pw', 'evil');
  return { server, alice, mallory };
}

describe('caps and PEP notifications cannot be poisoned by another user', { timeout: 30_000 }, () => {
  it('an answer to the server query sent to bob, from mallory with the right id, is not taken', async () => {
    const { server, alice, mallory } = await setup();
    try {
      const bob = await RawClient.connect(server.c2sPort);
      await bob.login('bob', 'pw', 'phone');
      bob.send(presenceWithCaps);
      const [, id, to] = (await bob.expect(DISCO_GET))!;
      assert.equal(to, 'bob@localhost/phone');
      assert.match(id!, /^[A-Za-z0-9_-]{16,}$/, 'not a counter');
      // Mallory has the id (here the test hands it over; ids are random, so she would have to guess).
      mallory.send(lying(id!));
      await roundTrip(mallory, 'm1');
      bob.send(truthful(id!));
      await roundTrip(bob, 'b1');
      alice.send(publishTune('p1', 'first'));
      await alice.expect(/id="p1"/);
      await bob.expect(/<message from="alice@localhost" to="bob@localhost\/phone" type="headline"><event xmlns="http:\/\/jabber.org\/protocol\/pubsub#event"><items node="http:\/\/jabber.org\/protocol\/tune"><item id="first">/);
      bob.close();
    } finally {
      alice.close();
      mallory.close();
      await server.stop();
    }
  });

  it('mallory announcing bob\'s caps hash and answering with other features does not set what bob gets', async () => {
    const { server, alice, mallory } = await setup();
    try {
      mallory.send(presenceWithCaps);
      const [, id] = (await mallory.expect(DISCO_GET))!;
      mallory.send(lying(id!));
      await roundTrip(mallory, 'm1');

      const bob = await RawClient.connect(server.c2sPort);
      await bob.login('bob', 'pw', 'phone');
      bob.send(presenceWithCaps);
      // The lie was not cached, so the server asks bob himself.
      const [, bobId] = (await bob.expect(DISCO_GET))!;
      bob.send(truthful(bobId!));
      await roundTrip(bob, 'b1');
      alice.send(publishTune('p1', 'second'));
      await alice.expect(/id="p1"/);
      await bob.expect(/<items node="http:\/\/jabber.org\/protocol\/tune"><item id="second">/);

      // And bob's truthful answer is now cached: another resource with that hash is not asked.
      const tablet = await RawClient.connect(server.c2sPort);
      await tablet.login('bob', 'pw', 'tablet');
      tablet.send(presenceWithCaps);
      await tablet.expect(/<items node="http:\/\/jabber.org\/protocol\/tune"><item id="second">/);
      assert.doesNotMatch(tablet.received, /disco#info/);
      bob.close();
      tablet.close();
    } finally {
      alice.close();
      mallory.close();
      await server.stop();
    }
  });
});
