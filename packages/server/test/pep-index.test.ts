// Issue #18: PEP reads items by id. A publish to a large node, and a read of
// its last items, must touch the rows they need, not the whole node (which
// made each publish cost grow with the node: bench/pep-publish.ts measures
// it). The store's calls are counted on the real store the server uses.
// A node stored before the index is read in publish order and indexed once.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, type TestServer } from './helpers.ts';
import type { UserDataStore } from '../src/storage/ports.ts';

const MAX = "<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#max_items'><value>max</value></field></x></publish-options>";
const publish = (id: string, node: string, item: string): string =>
  `<iq type='set' id='${id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${node}'><item id='${item}'><p xmlns='urn:test'>${item}</p></item></publish>${MAX}</pubsub></iq>`;

/** Counts the store's reads of one kind while `during` runs. */
async function countReads(store: UserDataStore, kind: string, during: () => Promise<void>): Promise<{ list: number; get: number }> {
  const counts = { list: 0, get: 0 };
  const { list, get } = store;
  store.list = (u, h, k) => ((k === kind && counts.list++), list.call(store, u, h, k));
  store.get = (u, h, k, key) => ((k === kind && counts.get++), get.call(store, u, h, k, key));
  try {
    await during();
  } finally {
    store.list = list;
    store.get = get;
  }
  return counts;
}

describe('PEP items are read by id', { timeout: 60_000 }, () => {
  let server: TestServer;
  let alice: RawClient;
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    await server.addUser('alice', 'pw');
    alice = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'pw', 'pep');
    for (let i = 0; i < 60; i++) {
      alice.send(publish(`p${i}`, 'urn:big', `i${i}`));
      await alice.expect(new RegExp(`<iq type="result" id="p${i}"`));
    }
  });
  after(async () => {
    alice.close();
    await server.stop();
  });

  it('a publish to a 60-item node reads none of its items', async () => {
    const reads = await countReads(server.storage.userData, 'pep:urn:big', async () => {
      alice.send(publish('more', 'urn:big', 'i60'));
      await alice.expect(/<iq type="result" id="more"/);
    });
    assert.deepEqual(reads, { list: 0, get: 0 });
  });

  it('the last items and items by id are read one row each, in publish order', async () => {
    alice.received = '';
    const reads = await countReads(server.storage.userData, 'pep:urn:big', async () => {
      alice.send("<iq type='get' id='last'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:big' max_items='2'/></pubsub></iq>");
      await alice.expect(/id="last".*?<\/iq>/);
    });
    assert.deepEqual(reads, { list: 0, get: 2 });
    assert.match(alice.received, /<item id="i59">.*<item id="i60">/);
    const byId = await countReads(server.storage.userData, 'pep:urn:big', async () => {
      alice.send("<iq type='get' id='ids'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:big'><item id='i3'/><item id='i7'/></items></pubsub></iq>");
      await alice.expect(/id="ids".*?<\/iq>/);
    });
    assert.deepEqual(byId, { list: 0, get: 2 });
  });

  it('a node stored before the index keeps its items, in publish order', async () => {
    const store = server.storage.userData;
    await store.set('alice', 'localhost', 'pepnode', 'urn:old', JSON.stringify({ maxItems: 10, access: 'presence' }));
    // Keys in an order unlike publish order: the seq decides.
    await store.set('alice', 'localhost', 'pep:urn:old', 'b', JSON.stringify({ seq: 1, xml: "<item id='b'><p xmlns='urn:test'>first</p></item>" }));
    await store.set('alice', 'localhost', 'pep:urn:old', 'a', JSON.stringify({ seq: 2, xml: "<item id='a'><p xmlns='urn:test'>second</p></item>" }));
    alice.received = '';
    alice.send("<iq type='get' id='old'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:old' max_items='1'/></pubsub></iq>");
    await alice.expect(/id="old".*?<\/iq>/);
    assert.match(alice.received, /<item id="a"><p xmlns="urn:test">second<\/p><\/item>/);
    assert.doesNotMatch(alice.received, /first/);
    alice.send(publish('old2', 'urn:old', 'c').replace(MAX, ''));
    await alice.expect(/<iq type="result" id="old2"/);
    alice.received = '';
    alice.send("<iq type='get' id='old3'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:old'/></pubsub></iq>");
    await alice.expect(/id="old3".*?<\/iq>/);
    assert.match(alice.received, /<item id="b">.*<item id="a">.*<item id="c">/);
  });
});

describe('large PEP reads are paged', { timeout: 60_000 }, () => {
  it('a whole-node read stops at the byte budget with an RSM set; RSM pages by max, after, before and index', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true });
    try {
      await server.addUser('dora', 'pw');
      const c = await RawClient.connect(server.c2sPort);
      await c.login('dora', 'pw', 'pep');
      const big = 'b'.repeat(200_000); // 8 of these make 1.6 MB; a page holds 1 MiB
      for (let i = 0; i < 8; i++) {
        c.send(publish(`p${i}`, 'urn:large', `i${i}`).replace(`>i${i}</p>`, `>${big}</p>`));
        await c.expect(new RegExp(`<iq type="result" id="p${i}"`));
      }
      const get = async (id: string, rsm = ''): Promise<string> => {
        c.received = '';
        c.send(`<iq type='get' id='${id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:large'/>${rsm}</pubsub></iq>`);
        return (await c.expect(new RegExp(`<iq [^>]*id="${id}".*?</iq>`)))[0];
      };
      const ids = (s: string): string[] => [...s.matchAll(/<item id="(i\d)">/g)].map((m) => m[1]!);
      const whole = await get('all');
      assert.deepEqual(ids(whole), ['i3', 'i4', 'i5', 'i6', 'i7'], 'the newest that fit in 1 MiB');
      assert.match(whole, /<set xmlns="http:\/\/jabber.org\/protocol\/rsm"><first index="3">i3<\/first><last>i7<\/last><count>8<\/count><\/set>/);
      const first = await get('r1', "<set xmlns='http://jabber.org/protocol/rsm'><max>2</max></set>");
      assert.deepEqual(ids(first), ['i0', 'i1']);
      assert.match(first, /<first index="0">i0<\/first><last>i1<\/last><count>8<\/count>/);
      assert.deepEqual(ids(await get('r2', "<set xmlns='http://jabber.org/protocol/rsm'><max>2</max><after>i1</after></set>")), ['i2', 'i3']);
      assert.deepEqual(ids(await get('r3', "<set xmlns='http://jabber.org/protocol/rsm'><max>2</max><before/></set>")), ['i6', 'i7']);
      assert.deepEqual(ids(await get('r4', "<set xmlns='http://jabber.org/protocol/rsm'><max>3</max><index>4</index></set>")), ['i4', 'i5', 'i6']);
      assert.match(await get('r5', "<set xmlns='http://jabber.org/protocol/rsm'><max>2</max><after>nope</after></set>"), /type="error".*<item-not-found/);
      c.close();
    } finally {
      await server.stop();
    }
  });
});
