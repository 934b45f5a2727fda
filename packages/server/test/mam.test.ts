// Issue #21: XEP-0313 Message Archive Management with XEP-0359 stanza ids on
// a real server, queried with our client library: both sides archived with
// one id, offline messages in the archive under the id they were delivered
// with, paging a 10,000-message archive both ways, preferences, the XEP's
// errors for bad queries, nobody reading another's archive, and a storage
// failure that holds no message up.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import Database from 'better-sqlite3';
import { Client, IqError, xml, type ArchivedMessage, type IncomingMessage } from '@switchboard/client';
import { NS_MAM, NS_MAM_EXTENDED, NS_STANZA_ID, mamQueryElement, type MamQuery } from '@switchboard/protocol';
import { Element as XmlElement, parseElement, type Element } from '@switchboard/xml';
import { sqlitePath } from '../src/config.ts';
import type { ArchiveEntry } from '../src/storage/archive.ts';
import { startTestServer, waitFor, type TestServer } from './helpers.ts';

describe('XEP-0313 message archive', { timeout: 120_000 }, () => {
  let server: TestServer;
  const clients: Client[] = [];

  const login = async (username: string, resource = 'r'): Promise<{ client: Client; inbox: IncomingMessage[] }> => {
    const client = new Client({ domain: 'localhost', username, password: 'pw', resource, transport: { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort } });
    clients.push(client);
    const inbox: IncomingMessage[] = [];
    client.on('message', (m) => inbox.push(m));
    await client.connect();
    return { client, inbox };
  };
  const all = async (it: AsyncIterable<ArchivedMessage>): Promise<ArchivedMessage[]> => {
    const out: ArchivedMessage[] = [];
    for await (const m of it) out.push(m);
    return out;
  };
  const refusal = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (err) {
      if (err instanceof IqError) return err.condition;
      throw err;
    }
    return 'result';
  };
  const query = (client: Client, q: MamQuery, to?: string): Promise<Element> => client.iq(xml('iq', { type: 'set', to }, mamQueryElement(q)));
  const chat = (to: string, body: string, ...extra: Element[]) => xml('message', { to, type: 'chat' }, xml('body', {}, body), ...extra);

  before(async () => {
    server = await startTestServer({ archive: true });
    for (const u of ['alice', 'bob', 'carol', 'dave', 'eve', 'big', 'frank']) await server.addUser(u, 'pw');
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.disconnect()));
    await server.stop();
  });

  it('advertises urn:xmpp:mam:2, #extended and stanza ids on the account', async () => {
    const { client } = await login('alice', 'disco');
    const info = await client.iq(xml('iq', { type: 'get', to: 'alice@localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    for (const f of [NS_MAM, NS_MAM_EXTENDED, NS_STANZA_ID]) assert.ok(features.includes(f), f);
  });

  it('archives both sides under one server-assigned id, which the recipient gets as <stanza-id by>', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    alice.client.send(chat('bob@localhost', 'hello bob'));
    await waitFor(() => bob.inbox.length === 1, 5000, 'delivery');
    const got = bob.inbox[0]!;
    assert.equal(got.kind, 'message');
    assert.ok(got.stanzaId, 'the delivered message carries a stanza id by bob@localhost');
    const bobs = await all(bob.client.archive({ with: 'alice@localhost' }));
    const alices = await all(alice.client.archive({ with: 'bob@localhost' }));
    assert.deepEqual(bobs.map((m) => m.id), [got.stanzaId]);
    assert.deepEqual(alices.map((m) => m.id), [got.stanzaId], "the sender's archive has the same id");
    assert.equal(bobs[0]!.stanza.getChildText('body'), 'hello bob');
    assert.equal(bobs[0]!.stanza.attrs.from, alice.client.jid);
    assert.equal(bobs[0]!.stanza.attrs.xmlns, 'jabber:client', 'XEP-0297: the forwarded message is in jabber:client');
    assert.ok(bobs[0]!.timestamp instanceof Date && Math.abs(bobs[0]!.timestamp.getTime() - Date.now()) < 60_000);
  });

  it('strips a stanza id forged in the recipient archive’s name, and archives no error, groupchat, headline or no-store message', async () => {
    const eve = await login('eve');
    const dave = await login('dave');
    eve.client.send(chat('dave@localhost', 'forged', xml('stanza-id', { xmlns: NS_STANZA_ID, by: 'dave@localhost', id: 'forged-id' })));
    eve.client.send(xml('message', { to: 'dave@localhost', type: 'headline' }, xml('body', {}, 'news')));
    eve.client.send(chat('dave@localhost', 'secret', xml('no-store', { xmlns: 'urn:xmpp:hints' })));
    eve.client.send(xml('message', { to: 'dave@localhost', type: 'chat' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })));
    await waitFor(() => dave.inbox.length === 4, 5000, 'delivery');
    assert.notEqual(dave.inbox[0]!.stanzaId, 'forged-id');
    const ids = dave.inbox[0]!.stanza.getChildren('stanza-id', NS_STANZA_ID);
    assert.equal(ids.length, 1, 'only the real id');
    assert.deepEqual(dave.inbox.slice(1).map((m) => m.stanzaId), [undefined, undefined, undefined]);
    const archived = await all(dave.client.archive({ with: 'eve@localhost' }));
    assert.deepEqual(archived.map((m) => m.stanza.getChildText('body')), ['forged']);
  });

  it('an offline message is in the archive under the id it is delivered with, so a client syncing both sees it once', async () => {
    const alice = await login('alice', 'offline-sender');
    alice.client.send(chat('carol@localhost', 'while you were away'));
    await waitFor(async () => (await server.storage.offline.count('carol', 'localhost')) === 1, 5000, 'offline storage');
    const carol = await login('carol');
    await waitFor(() => carol.inbox.length === 1, 5000, 'offline delivery');
    const archived = await all(carol.client.archive());
    assert.equal(archived.length, 1);
    assert.equal(carol.inbox[0]!.stanzaId, archived[0]!.id);
    const seen = new Set([...carol.inbox.map((m) => m.stanzaId), ...archived.map((m) => m.id)]);
    assert.equal(seen.size, 1);
  });

  describe('a 10,000-message archive, paged through the server', () => {
    const T0 = Date.UTC(2026, 0, 1);
    const contacts = ['ann@example.net', 'ben@example.net', 'cat@example.net'];
    const entries: ArchiveEntry[] = Array.from({ length: 10_000 }, (_, i) => {
      const body = `note ${i}${i % 100 === 0 ? ' centenary' : ''}`;
      const w = `${contacts[i % 3]}/x`;
      return { username: 'big', host: 'localhost', id: `b${i}`, timestamp: new Date(T0 + i * 1000), with: w, stanza: `<message xmlns="jabber:client" from="${w}" to="big@localhost" type="chat"><body>${body}</body></message>`, body };
    });
    let big: Client;
    before(async () => {
      await server.storage.archive.append(entries);
      big = (await login('big')).client;
    });

    it('every message once, in order, forwards and backwards', async () => {
      const forward = await all(big.archive({}, { pageSize: 250 }));
      assert.deepEqual(forward.map((m) => m.id), entries.map((e) => e.id));
      assert.equal(forward[1234]!.stanza.getChildText('body'), 'note 1234');
      assert.equal(forward[1234]!.timestamp?.getTime(), T0 + 1234_000);
      const backward = await all(big.archive({}, { pageSize: 200, direction: 'backward' }));
      assert.deepEqual(backward.map((m) => m.id), entries.map((e) => e.id).reverse());
    });

    it('each filter, both ways', async () => {
      const cases: [string, MamQuery, (i: number) => boolean][] = [
        ['with', { with: 'ben@example.net' }, (i) => i % 3 === 1],
        ['with a full JID', { with: 'cat@example.net/x' }, (i) => i % 3 === 2],
        ['start/end', { start: new Date(T0 + 2500_000), end: new Date(T0 + 7499_000) }, (i) => i >= 2500 && i <= 7499],
        ['after-id/before-id', { afterId: 'b8000', beforeId: 'b9500' }, (i) => i > 8000 && i < 9500],
        ['ids', { ids: ['b5', 'b7', 'b9999'] }, (i) => i === 5 || i === 7 || i === 9999],
        ['full text', { fullText: 'centenary' }, (i) => i % 100 === 0],
      ];
      for (const [label, filter, keep] of cases) {
        const expected = entries.filter((_, i) => keep(i)).map((e) => e.id);
        const forward = await all(big.archive(filter, { pageSize: 250 }));
        assert.deepEqual(forward.map((m) => m.id), expected, `${label} forward`);
        const backward = await all(big.archive(filter, { pageSize: 250, direction: 'backward' }));
        assert.deepEqual(backward.map((m) => m.id), [...expected].reverse(), `${label} backward`);
      }
    });

    it('fin carries first, last, count and complete; flip-page reverses a page; a large max is served in pages of at most 250', async () => {
      const fin = (await query(big, { max: 5, before: '' })).getChild('fin', NS_MAM)!;
      assert.equal(fin.attrs.complete, undefined);
      const set = fin.getChild('set')!;
      assert.deepEqual([set.getChildText('first'), set.getChildText('last'), set.getChildText('count')], ['b9995', 'b9999', '10000']);
      const first = (await query(big, { max: 3 })).getChild('fin', NS_MAM)!;
      assert.equal(first.getChild('set')!.getChildText('first'), 'b0');
      const lastPage = (await query(big, { max: 3, after: 'b9997' })).getChild('fin', NS_MAM)!;
      assert.equal(lastPage.attrs.complete, 'true');
      const flipped = (await query(big, { max: 3, after: 'b10', flipPage: true })).getChild('fin', NS_MAM)!.getChild('set')!;
      assert.deepEqual([flipped.getChildText('first'), flipped.getChildText('last')], ['b13', 'b11']);
      const many = (await query(big, { max: 100_000 })).getChild('fin', NS_MAM)!.getChild('set')!;
      assert.equal(many.getChildText('last'), 'b249');
    });
  });

  it('bad queries get the XEP’s errors, never an empty success', async () => {
    const { client } = await login('alice', 'errors');
    assert.equal(await refusal(query(client, { with: 'not a jid@@' })), 'bad-request');
    assert.equal(await refusal(query(client, { afterId: 'nope' })), 'item-not-found');
    assert.equal(await refusal(query(client, { after: 'nope' })), 'item-not-found');
    const parse = (text: string): Element => {
      const el = parseElement(text);
      assert.ok(el instanceof XmlElement);
      return el;
    };
    const unknownField = `<iq type="set"><query xmlns="urn:xmpp:mam:2"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field><field var="colour"><value>red</value></field></x></query></iq>`;
    const badMax = `<iq type="set"><query xmlns="urn:xmpp:mam:2"><set xmlns="http://jabber.org/protocol/rsm"><max>lots</max></set></query></iq>`;
    const index = `<iq type="set"><query xmlns="urn:xmpp:mam:2"><set xmlns="http://jabber.org/protocol/rsm"><index>4</index></set></query></iq>`;
    const badDate = `<iq type="set"><query xmlns="urn:xmpp:mam:2"><x xmlns="jabber:x:data" type="submit"><field var="start"><value>last week</value></field></x></query></iq>`;
    assert.equal(await refusal(client.iq(parse(unknownField))), 'bad-request');
    assert.equal(await refusal(client.iq(parse(badMax))), 'bad-request');
    assert.equal(await refusal(client.iq(parse(index))), 'feature-not-implemented');
    assert.equal(await refusal(client.iq(parse(badDate))), 'bad-request');
    const form2 = await client.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_MAM })));
    const vars = form2.getChild('query', NS_MAM)!.getChild('x', 'jabber:x:data')!.getChildren('field').map((f) => f.attrs.var);
    assert.deepEqual(vars, ['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids', '{urn:xmpp:fulltext:0}fulltext']);
  });

  it("nobody reads or changes another user's archive", async () => {
    const { client } = await login('eve', 'snoop');
    assert.equal(await refusal(query(client, {}, 'bob@localhost')), 'forbidden');
    assert.equal(await refusal(client.iq(xml('iq', { type: 'get', to: 'bob@localhost' }, xml('prefs', { xmlns: NS_MAM })))), 'forbidden');
  });

  it('preferences: default always, a never list keeps a contact out, roster default archives only roster contacts', async () => {
    const frank = await login('frank');
    const alice = await login('alice', 'prefs');
    assert.deepEqual(await frank.client.archivePrefs(), { default: 'always', always: [], never: [] });
    assert.deepEqual(await frank.client.archivePrefs({ default: 'always', always: [], never: ['alice@localhost/any', 'alice@localhost'] }), { default: 'always', always: [], never: ['alice@localhost'] });
    alice.client.send(chat('frank@localhost', 'not kept by frank'));
    await waitFor(() => frank.inbox.length === 1, 5000, 'delivery');
    assert.equal(frank.inbox[0]!.stanzaId, undefined, 'not archived, so no stanza id');
    assert.equal((await all(frank.client.archive({ with: 'alice@localhost' }))).length, 0);
    const alicesCopy = await all(alice.client.archive({ with: 'frank@localhost' }));
    assert.deepEqual(alicesCopy.map((m) => m.stanza.getChildText('body')), ['not kept by frank'], "the sender's own preferences rule the sender's archive");
    await frank.client.archivePrefs({ default: 'roster', always: [], never: [] });
    alice.client.send(chat('frank@localhost', 'alice is not in the roster'));
    await waitFor(() => frank.inbox.length === 2, 5000, 'delivery');
    assert.equal(frank.inbox[1]!.stanzaId, undefined);
    await frank.client.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'alice@localhost' }))));
    alice.client.send(chat('frank@localhost', 'now she is'));
    await waitFor(() => frank.inbox.length === 3, 5000, 'delivery');
    assert.ok(frank.inbox[2]!.stanzaId);
    assert.equal(await refusal(frank.client.iq(xml('iq', { type: 'set' }, xml('prefs', { xmlns: NS_MAM, default: 'sometimes' })))), 'bad-request');
  });

  it('a storage failure does not hold the message up: it is delivered with its stanza id, the failure is counted, the rest of its batch is kept, and later messages are archived', async () => {
    const alice = await login('alice', 'fail');
    const bob = await login('bob', 'fail');
    const errors: Element[] = [];
    alice.client.on('stanza', (el) => el.name === 'message' && el.attrs.type === 'error' && errors.push(el));
    const failed: number[] = [];
    const onFailed = (m: unknown) => failed.push((m as { entries: number }).entries);
    await all(bob.client.archive({ with: 'alice@localhost' })); // a query writes what earlier tests queued
    subscribe('switchboard:archive:write-failed', onFailed);
    const db = new Database(sqlitePath(server.config));
    try {
      db.exec("CREATE TRIGGER refuse_archive BEFORE INSERT ON archive WHEN new.body = 'still delivered' BEGIN SELECT RAISE(ABORT, 'a bad entry, as a test says'); END");
      // Two messages in one write-behind transaction: it fails, each is tried again on its own.
      alice.client.send(chat('bob@localhost', 'queued beside it'));
      alice.client.send(xml('message', { to: 'bob@localhost', type: 'chat', id: 'unarchived' }, xml('body', {}, 'still delivered')));
      await waitFor(() => bob.inbox.length === 2, 5000, 'delivery while the archive fails');
      assert.ok(bob.inbox.every((m) => m.stanzaId !== undefined), 'the id is chosen before the write');
      assert.equal(errors.length, 0, 'the sender gets no error: the message was delivered');
      // A query waits for the queued writes: the failed transaction has been reported when it answers.
      const seen = (await all(bob.client.archive({ with: 'alice@localhost' }))).map((m) => m.stanza.getChildText('body'));
      assert.equal(seen.filter((b) => b === 'still delivered').length, 0);
      assert.equal(seen.filter((b) => b === 'queued beside it').length, 1, 'the other message of the batch is archived');
      assert.deepEqual(failed, [2], "both sides' entries of the one message, counted once");
    } finally {
      unsubscribe('switchboard:archive:write-failed', onFailed);
      db.exec('DROP TRIGGER refuse_archive');
      db.close();
    }
    alice.client.send(chat('bob@localhost', 'and again'));
    await waitFor(() => bob.inbox.length === 3, 5000, 'delivery once the store works');
    const kept = await all(bob.client.archive({ with: 'alice@localhost' }));
    assert.deepEqual(kept.filter((m) => m.stanza.getChildText('body') === 'and again').map((m) => m.id), [bob.inbox[2]!.stanzaId]);
  });

});
