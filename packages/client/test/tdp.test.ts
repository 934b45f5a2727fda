// XEP-0515 (TDP) between our client and our server, and through a relay in
// the middle that ends TLS with a certificate the client trusts (the test
// CA: the XEP's attacker with a stolen key) and speaks another TLS version
// on each side, as §1.1 describes, leaving every list as the server sent it:
//
// - client side TLS 1.2, server side TLS 1.3: the server offers -PLUS with
//   tls-exporter, which the client cannot use under TLS 1.2; it settles for
//   SCRAM-SHA-256 without binding, and XEP-0474's hash matches (no list was
//   touched). Only t=0304 against its own 0303 shows the relay.
// - client side TLS 1.3, server side TLS 1.2: the server offers no -PLUS at
//   all; the client's gs2 'y' is right for what it saw. t=0303 against 0304.
//
// Each stops with SB_ERR_DOWNGRADE (detail.downgrade says which versions),
// fatal: before its proof, with <abort/>, no other mechanism tried and no
// second connection. Without the check both logged in through the relay.
// A relay that also rewrites t= to the client's version gets past the
// client's check and is refused by the server, since t= is under the proof.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { startServer, type RunningServer } from '@switchboard/server';
import { Client, type ClientError, type ClientOptions } from '../src/index.ts';
import { TcpTransport } from '../src/transport/tcp.ts';
import { WebSocketTransport } from '../src/transport/websocket.ts';
import { NODE_PLATFORM } from '../src/transport/node-platform.ts';
import { startRelay, type Relay, type Rewrite } from './rewriting-relay.ts';

/** The relay rewrites the server-first message (base64 in <challenge/>) as `edit` says. */
const editServerFirst = (edit: (serverFirst: string) => string): Rewrite => (text) =>
  text.replace(/(<challenge[^>]*>)([^<]+)(<\/challenge>)/, (_, open: string, body: string, close: string) => open + Buffer.from(edit(Buffer.from(body, 'base64').toString())).toString('base64') + close);

for (const sasl2 of [false, true]) {
  describe(`XEP-0515 (TDP), our client and our server, ${sasl2 ? 'SASL2' : 'RFC 6120 SASL'}`, { timeout: 60_000 }, () => {
    let server: RunningServer;
    let dataDir: string;
    const relays: Relay[] = [];
    const logins: string[] = [];
    const listener = (m: unknown): void => void logins.push((m as { mechanism: string }).mechanism);
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'switchboard-tdp-'));
      server = await startServer({
        domain: 'localhost', bindAddress: '127.0.0.1', c2sPort: 0, c2sDirectTlsPort: 0, wsPort: 0, dataDir, sasl2,
        tlsCert: process.env.SWITCHBOARD_TEST_TLS_CERT, tlsKey: process.env.SWITCHBOARD_TEST_TLS_KEY,
      });
      await server.addUser('alice', 'alice-pw');
      subscribe('switchboard:c2s:authenticated', listener);
    });
    after(async () => {
      unsubscribe('switchboard:c2s:authenticated', listener);
      for (const r of relays) await r.close();
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const login = async (transport: ClientOptions['transport'], maxAttempts = 1): Promise<{ jid?: string; error?: ClientError }> => {
      const client = new Client({
        domain: 'localhost', username: 'alice', password: 'alice-pw', sasl2, timeoutMs: 5000,
        retry: { maxAttempts, delayMs: 10 }, transport,
      });
      const offline = new Promise<ClientError | undefined>((resolve) => client.once('offline', ({ error }) => resolve(error)));
      try {
        const jid = await client.connect();
        await client.disconnect();
        return { jid };
      } catch {
        return { error: await offline };
      }
    };

    const throughRelay = async (tls: { client?: 'TLSv1.2' | 'TLSv1.3'; server?: 'TLSv1.2' | 'TLSv1.3' }, rewrites: { until: string; rewrite: Rewrite }[] = [], maxAttempts = 1) => {
      const relay = await startRelay({ target: server.c2sDirectTlsPort!, tls, rewrites });
      relays.push(relay);
      const result = await login({ kind: 'tcp', host: '127.0.0.1', port: relay.port, tls: 'direct' }, maxAttempts);
      // What the client sent last (its <abort/>) reaches the relay after its offline event: read once the client has hung up.
      for (let i = 0; i < 200 && relay.connections.some((c) => !c.closed); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      return { ...result, relay };
    };

    it('the transports read their own TLS version: TCP (direct TLS and STARTTLS) and wss in Node', async () => {
      const direct = new TcpTransport('localhost', { kind: 'tcp', host: '127.0.0.1', port: server.c2sDirectTlsPort!, tls: 'direct' });
      await direct.connect();
      assert.equal(direct.tlsVersion(), '0304');
      direct.close();
      const plain = new TcpTransport('localhost', { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort });
      await plain.connect();
      assert.equal(plain.tlsVersion(), 'none', 'before STARTTLS');
      plain.close();
      const ws = new WebSocketTransport({ kind: 'websocket', url: `wss://localhost:${server.wsPort!}/xmpp-websocket`, wsOptions: {} }, NODE_PLATFORM.webSocket);
      await ws.connect();
      assert.equal(ws.tlsVersion(), '0304');
      ws.close();
    });

    for (const [name, transport] of [
      ['STARTTLS', () => ({ kind: 'tcp' as const, host: '127.0.0.1', port: server.c2sPort })],
      ['direct TLS', () => ({ kind: 'tcp' as const, host: '127.0.0.1', port: server.c2sDirectTlsPort!, tls: 'direct' as const })],
      ['wss', () => ({ kind: 'websocket' as const, url: `wss://localhost:${server.wsPort!}/xmpp-websocket` })],
    ] as const) {
      it(`straight to our server over ${name} (TLS 1.3 both ends, t=0304 checked): logs in`, async () => {
        const { jid, error } = await login(transport());
        assert.equal(error, undefined, error?.message);
        assert.match(jid!, /^alice@localhost\//);
      });
    }

    it('a relay speaking TLS 1.2 to the client and TLS 1.3 to the server: SB_ERR_DOWNGRADE at server-first, no other mechanism, no second connection', async () => {
      const before = logins.length;
      const { error, relay } = await throughRelay({ client: 'TLSv1.2', server: 'TLSv1.3' }, [], 3);
      assert.deepEqual(relay.connections.map((c) => [c.client, c.server]), [['TLSv1.2', 'TLSv1.3']], 'one connection, each side its own version');
      assert.equal(error?.code, 'SB_ERR_DOWNGRADE', error?.message);
      assert.deepEqual(error?.detail.downgrade, { kind: 'tls-version', server: '0304', client: '0303' });
      assert.equal(error?.fatal, true);
      assert.match(error!.message, /TLS 1\.3 and ours is TLS 1\.2/);
      const sent = relay.connections[0]!.fromClient;
      assert.equal([...sent.matchAll(/<(auth|authenticate) /g)].length, 1, `one mechanism tried: ${sent}`);
      assert.match(sent, /mechanism="SCRAM-SHA-256"/, 'the relay left -PLUS unusable, so SCRAM-SHA-256 without binding');
      assert.match(sent, /<abort xmlns="urn:(ietf:params:xml:ns:xmpp-sasl|xmpp:sasl:2)"\/>/);
      assert.doesNotMatch(sent, /<response /, 'no proof sent');
      assert.equal(logins.length, before, 'no login happened');
    });

    it('a relay speaking TLS 1.3 to the client and TLS 1.2 to the server: SB_ERR_DOWNGRADE (t=0303 against 0304)', async () => {
      const before = logins.length;
      const { error, relay } = await throughRelay({ client: 'TLSv1.3', server: 'TLSv1.2' });
      assert.deepEqual(relay.connections.map((c) => [c.client, c.server]), [['TLSv1.3', 'TLSv1.2']]);
      assert.equal(error?.code, 'SB_ERR_DOWNGRADE', error?.message);
      assert.deepEqual(error?.detail.downgrade, { kind: 'tls-version', server: '0303', client: '0304' });
      assert.equal(logins.length, before, 'no login happened');
    });

    it('the same relay rewriting t=0304 to the client’s 0303 passes the client’s check and the server refuses the proof', async () => {
      const before = logins.length;
      const { error, relay } = await throughRelay({ client: 'TLSv1.2', server: 'TLSv1.3' }, [
        { until: '</stream:features>', rewrite: (f) => f },
        { until: '</challenge>', rewrite: editServerFirst((sf) => sf.replace(/,t=0304$/, ',t=0303')) },
      ]);
      assert.match(relay.connections[0]!.fromClient, /<response /, 'the client sent its proof');
      assert.equal(error?.code, 'SB_ERR_AUTH', error?.message);
      assert.equal(error?.detail.saslCondition, 'not-authorized');
      assert.equal(logins.length, before, 'no login happened');
    });

    it('a relay with TLS 1.2 on both sides changes no version: t=0303 matches and the login goes through (what TDP does not claim to stop)', async () => {
      const { jid, error } = await throughRelay({ client: 'TLSv1.2', server: 'TLSv1.2' });
      assert.equal(error, undefined, error?.message);
      assert.match(jid!, /^alice@localhost\//);
    });
  });
}
