// Issue #21: the client library's typed APIs against our server — carbons
// (message events marked received-carbon / sent-carbon, the forwarded message
// unwrapped), the archive as an async iterator that asks for a page only when
// the loop needs it, and CSI (setActive) holding chat states until active.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '@switchboard/server';
import { Client, queryArchive, xml, type Element, type IncomingMessage, type MamHost } from '../src/index.ts';

function until(predicate: () => boolean, ms = 8000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe('client: carbons, archive and CSI against Switchboard', { timeout: 60_000 }, () => {
  let server: RunningServer;
  let dataDir: string;
  const clients: Client[] = [];
  const login = async (username: string, resource: string): Promise<{ client: Client; inbox: IncomingMessage[]; stanzas: Element[] }> => {
    const client = new Client({ domain: 'localhost', username, password: 'pw', resource, transport: { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort } });
    clients.push(client);
    const inbox: IncomingMessage[] = [];
    const stanzas: Element[] = [];
    client.on('message', (m) => inbox.push(m));
    client.on('stanza', (el) => stanzas.push(el));
    await client.connect();
    return { client, inbox, stanzas };
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-client-ext-'));
    server = await startServer({ domain: 'localhost', archive: true, c2sPort: 0, c2sDirectTlsPort: -1, wsPort: -1, dataDir, tlsCert: process.env.SWITCHBOARD_TEST_TLS_CERT, tlsKey: process.env.SWITCHBOARD_TEST_TLS_KEY });
    for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, 'pw');
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.disconnect()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('carbons: copies of what another resource received and sent, unwrapped and marked', async () => {
    const phone = await login('alice', 'phone');
    const laptop = await login('alice', 'laptop');
    const bob = await login('bob', 'desk');
    const [phoneJid, bobJid] = [phone.client.jid!, bob.client.jid!];
    await phone.client.setCarbons(true);
    await laptop.client.setCarbons(true);
    bob.client.send(xml('message', { to: phoneJid, type: 'chat' }, xml('body', {}, 'to the phone')));
    await until(() => laptop.inbox.length === 1, 5000, 'received carbon');
    const received = laptop.inbox[0]!;
    assert.equal(received.kind, 'received-carbon');
    assert.equal(received.stanza.attrs.from, bobJid);
    assert.equal(received.stanza.getChildText('body'), 'to the phone');
    assert.equal(received.stanzaId, phone.inbox[0]!.stanzaId, 'the archive id, the same on the message and its carbon');
    phone.client.send(xml('message', { to: bobJid, type: 'chat' }, xml('body', {}, 'from the phone')));
    await until(() => laptop.inbox.length === 2, 5000, 'sent carbon');
    assert.equal(laptop.inbox[1]!.kind, 'sent-carbon');
    assert.equal(laptop.inbox[1]!.stanza.attrs.to, bobJid);
    assert.equal(laptop.inbox[1]!.stanza.getChildText('body'), 'from the phone');
    await laptop.client.setCarbons(false);
    bob.client.send(xml('message', { to: phoneJid, type: 'chat' }, xml('body', {}, 'no copy now')));
    await until(() => phone.inbox.length === 2, 5000, 'delivery');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(laptop.inbox.length, 2, 'carbons off: no copy');
  });

  it('the archive iterator fetches a page only when the loop has used the previous one', async () => {
    const carol = await login('carol', 'reader');
    const bob = await login('bob', 'writer');
    for (let i = 0; i < 10; i++) bob.client.send(xml('message', { to: 'carol@localhost', type: 'chat' }, xml('body', {}, `m${i}`)));
    await until(() => carol.inbox.length === 10, 5000, 'delivery');
    let queries = 0;
    const counting: MamHost = {
      get jid() {
        return carol.client.jid;
      },
      newId: () => carol.client.newId(),
      iq: (request) => (queries++, carol.client.iq(request)),
      on: (event, listener) => carol.client.on(event, listener),
    };
    const seen: string[] = [];
    for await (const m of queryArchive(counting, { with: 'bob@localhost' }, { pageSize: 3 })) {
      seen.push(m.stanza.getChildText('body')!);
      if (seen.length === 5) break;
    }
    assert.deepEqual(seen, ['m0', 'm1', 'm2', 'm3', 'm4']);
    assert.equal(queries, 2, 'two pages of three were enough for five messages');
    const newest: string[] = [];
    for await (const m of carol.client.archive({}, { pageSize: 4, direction: 'backward' })) newest.push(m.stanza.getChildText('body')!);
    assert.deepEqual(newest, ['m9', 'm8', 'm7', 'm6', 'm5', 'm4', 'm3', 'm2', 'm1', 'm0']);
    const ids = new Set(carol.inbox.map((m) => m.stanzaId));
    for await (const m of carol.client.archive()) assert.ok(ids.has(m.id), 'the archive ids are the stanza ids the messages came with');
  });

  it('CSI: while inactive, chat states wait and a message with a body brings them along; active again, nothing waits', async () => {
    const carol = await login('carol', 'pocket');
    const bob = await login('bob', 'typist');
    const carolJid = carol.client.jid!;
    assert.equal(carol.client.setActive(false), true, 'the server offers CSI');
    const ping = (c: Client) => c.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    // The stream is read in order: once a ping sent after <inactive/> is answered, the server has it.
    await ping(carol.client);
    const composing = () => xml('message', { to: carolJid, type: 'chat' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' }));
    const isComposing = (el: Element) => el.name === 'message' && el.getChild('composing') !== undefined;
    bob.client.send(composing());
    // A ping answered proves the server has had the chat state for a while (its stanzas are in order).
    await ping(bob.client);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(carol.stanzas.filter(isComposing).length, 0, 'held while inactive');
    bob.client.send(xml('message', { to: carolJid, type: 'chat' }, xml('body', {}, 'wake up')));
    await until(() => carol.inbox.some((m) => m.stanza.getChildText('body') === 'wake up'), 5000, 'the message with a body');
    const order = carol.stanzas.filter((el) => el.name === 'message').map((el) => (isComposing(el) ? 'composing' : el.getChildText('body')));
    assert.deepEqual(order.slice(-2), ['composing', 'wake up'], 'the held chat state went first, in order');
    assert.equal(carol.client.setActive(true), true);
    await ping(carol.client);
    bob.client.send(composing());
    await until(() => carol.stanzas.filter(isComposing).length === 2, 5000, 'chat state at once while active');
  });
});
