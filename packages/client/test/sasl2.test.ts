// The client's XEP-0388 SASL2 + XEP-0386 Bind 2 path against our server
// (with `sasl2` on): login in one exchange with the resource made from the
// tag, XEP-0198 enabled inline, inline resumption after a cut connection,
// a wrong password, and carbons and the inactive state asked for inline
// (XEP-0386 §3.2); and against the same server with SASL2 off, the RFC 6120
// fallback (an iq for carbons and <inactive/> after binding).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { startServer, type RunningServer } from '@switchboard/server';
import { startProxy, type CuttableProxy } from '@switchboard/testkit';
import { Client, message, xml, type ClientError, type ClientOptions, type Element } from '../src/index.ts';
import { createTransport } from '../src/transport/create.ts';
import { NODE_PLATFORM } from '../src/transport/node-platform.ts';

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

for (const sasl2 of [true, false]) {
  describe(`client SASL2 path, server sasl2=${sasl2}`, { timeout: 60_000 }, () => {
    let server: RunningServer;
    let dataDir: string;
    const clients: Client[] = [];
    const proxies: CuttableProxy[] = [];
    const mechanisms: string[] = [];
    const listener = (m: unknown): void => void mechanisms.push((m as { mechanism: string }).mechanism);
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'switchboard-sasl2-'));
      server = await startServer({ domain: 'localhost', c2sPort: 0, c2sDirectTlsPort: 0, wsPort: 0, dataDir, sasl2, tlsCert: process.env.SWITCHBOARD_TEST_TLS_CERT, tlsKey: process.env.SWITCHBOARD_TEST_TLS_KEY });
      await server.addUser('alice', 'alice-pw');
      await server.addUser('bob', 'bob-pw');
      subscribe('switchboard:c2s:authenticated', listener);
    });
    after(async () => {
      unsubscribe('switchboard:c2s:authenticated', listener);
      for (const c of clients) await c.disconnect();
      for (const p of proxies) await p.close();
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const make = (extra: Partial<ClientOptions> = {}): Client => {
      const client = new Client({ domain: 'localhost', username: 'alice', password: 'alice-pw', transport: { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort }, retry: { delayMs: 200 }, timeoutMs: 5000, ...extra });
      clients.push(client);
      return client;
    };

    it('logs in (Bind 2 makes the resource from the tag when SASL2 is on) and exchanges messages', async () => {
      const alice = make({ resource: 'phone' });
      const jid = await alice.connect();
      if (sasl2) assert.match(jid, /^alice@localhost\/phone\/[A-Za-z0-9_-]+$/);
      else assert.equal(jid, 'alice@localhost/phone');
      const bob = make({ username: 'bob', password: 'bob-pw', resource: 'desk' });
      const bobJid = await bob.connect();
      const got = new Promise<Element>((resolve) => bob.on('stanza', (el) => el.name === 'message' && resolve(el)));
      alice.send(message({ to: bobJid, type: 'chat', body: 'hi' }));
      assert.equal((await got).attrs.from, jid);
      await alice.disconnect();
      await bob.disconnect();
    });

    it('resumes after a cut connection (inline in SASL2 when on): resumed, same JID, nothing lost', async () => {
      const proxy = await startProxy(server.c2sPort);
      proxies.push(proxy);
      const alice = make({ resource: 'roamer', transport: { kind: 'tcp', host: '127.0.0.1', port: proxy.port } });
      const bob = make({ username: 'bob', password: 'bob-pw', resource: 'sender' });
      const jid = await alice.connect();
      await bob.connect();
      const events: string[] = [];
      alice.on('resumed', () => events.push('resumed'));
      alice.on('online', () => events.push('online'));
      const bodies: string[] = [];
      alice.on('stanza', (el) => el.name === 'message' && bodies.push(el.getChildText('body') ?? ''));
      const before = mechanisms.length;
      proxy.cutAll();
      await until(() => alice.state === 'Retrying', 5000, 'Retrying');
      bob.send(message({ to: jid, type: 'chat', body: 'while away' }));
      await until(() => alice.state === 'Binded', 8000, 'Binded again');
      assert.deepEqual(events, ['resumed']);
      assert.equal(alice.jid, jid);
      await until(() => bodies.includes('while away'), 5000, 'the held message');
      // With SASL2 the resumption was inside the authentication: one more login, no separate <resume/>.
      assert.equal(mechanisms.length, before + 1);
      await alice.disconnect();
      await bob.disconnect();
    });

    it(`carbons: true and active: false hold from the session's start (${sasl2 ? 'inline in Bind 2' : 'iq and <inactive/> after binding'})`, async () => {
      const written: string[] = [];
      const transportFactory: ClientOptions['transportFactory'] = (o) => {
        const t = createTransport(o, NODE_PLATFORM);
        const send = t.send.bind(t);
        t.send = (text: string) => {
          written.push(text);
          send(text);
        };
        return t;
      };
      const pocket = make({ resource: 'pocket', carbons: true, active: false, transportFactory });
      const pocketSeen: { kind: string; body: string | undefined }[] = [];
      const pocketStanzas: Element[] = [];
      pocket.on('message', (m) => pocketSeen.push({ kind: m.kind, body: m.stanza.getChildText('body') }));
      pocket.on('stanza', (el) => pocketStanzas.push(el));
      const pocketJid = await pocket.connect();
      const desk = make({ resource: 'desk' });
      const deskJid = await desk.connect();
      const bob = make({ username: 'bob', password: 'bob-pw', resource: 'b' });
      await bob.connect();
      const wire = written.join('');
      const inBind = /<bind xmlns=["']urn:xmpp:bind:0["']>[\s\S]*<\/bind>/.exec(wire)?.[0] ?? '';
      if (sasl2) {
        assert.match(inBind, /<enable xmlns=["']urn:xmpp:carbons:2["']\/>/);
        assert.match(inBind, /<inactive xmlns=["']urn:xmpp:csi:0["']\/>/);
        assert.doesNotMatch(wire, /<iq[^>]*>\s*<enable xmlns=["']urn:xmpp:carbons:2/, 'no iq: carbons went inline');
      } else {
        assert.match(wire, /<iq[^>]*><enable xmlns=["']urn:xmpp:carbons:2["']\/><\/iq>/);
        assert.match(wire, /<inactive xmlns=["']urn:xmpp:csi:0["']\/>/);
      }
      // Inactive: a chat state waits on the server...
      bob.send(message({ to: pocketJid, type: 'chat' }).append(xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })));
      await bob.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(pocketStanzas.filter((el) => el.getChild('composing') !== undefined).length, 0, 'held while inactive');
      // ...and carbons are on: what bob sends the desk reaches the pocket as a received carbon, the chat state before it.
      bob.send(message({ to: deskJid, type: 'chat', body: 'to the desk' }));
      await until(() => pocketSeen.some((m) => m.kind === 'received-carbon' && m.body === 'to the desk'), 5000, 'the carbon');
      assert.ok(pocketStanzas.findIndex((el) => el.getChild('composing') !== undefined) >= 0, 'the held chat state came with it');
      await Promise.all([pocket.disconnect(), desk.disconnect(), bob.disconnect()]);
    });

    it('a wrong password stops in Disconnected with SB_ERR_AUTH not-authorized', async () => {
      const client = make({ password: 'wrong' });
      const offline = new Promise<ClientError | undefined>((resolve) => client.once('offline', ({ error }) => resolve(error)));
      await client.connect().catch(() => {});
      const error = await offline;
      assert.equal(error?.code, 'SB_ERR_AUTH');
      assert.equal(error?.detail.saslCondition, 'not-authorized');
    });
  });
}
