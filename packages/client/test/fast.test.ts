// The client's XEP-0484 FAST against our server, on SQLite and on
// PostgreSQL: a password login that asks for a token, a reconnect with the
// token in one message (Bind 2, inline resumption), and the refusals — a
// token stolen to another user agent, an expired one, one revoked by a
// password change, a replayed count — each answered by falling back to the
// password, or by SB_ERR_AUTH when the app keeps no password.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import pg from 'pg';
import { startServer, type RunningServer } from '@switchboard/server';
import { startProxy } from '@switchboard/testkit';
import { Client, type ClientError, type ClientOptions, type FastToken, type FastTokenStorage } from '../src/index.ts';
import { createTransport } from '../src/transport/create.ts';
import { NODE_PLATFORM } from '../src/transport/node-platform.ts';

const PG_URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** What the app would keep in localStorage or a keychain. */
class MemoryTokens implements FastTokenStorage {
  token: FastToken | undefined;
  saves = 0;
  async load(): Promise<FastToken | undefined> {
    return this.token && { ...this.token };
  }
  async save(token: FastToken | undefined): Promise<void> {
    this.saves++;
    this.token = token && { ...token };
  }
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`client FAST (XEP-0484) against our server on ${store}`, { timeout: 90_000 }, () => {
    let server: RunningServer;
    let dataDir: string;
    const schema = `sb_fast_${randomBytes(4).toString('hex')}`;
    const mechanisms: string[] = [];
    const listener = (m: unknown): void => void mechanisms.push((m as { mechanism: string }).mechanism);
    const clients: Client[] = [];

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'switchboard-fast-'));
      server = await startServer({
        domain: 'localhost', c2sPort: 0, c2sDirectTlsPort: 0, wsPort: 0, dataDir, sasl2: true, fastTokenSeconds: 3,
        tlsCert: process.env.SWITCHBOARD_TEST_TLS_CERT, tlsKey: process.env.SWITCHBOARD_TEST_TLS_KEY,
        ...(store === 'postgres' ? { storage: { kind: 'postgres' as const, url: PG_URL, schema } } : {}),
      });
      await server.addUser('alice', 'alice-pw');
      subscribe('switchboard:c2s:authenticated', listener);
    });
    after(async () => {
      unsubscribe('switchboard:c2s:authenticated', listener);
      for (const c of clients) await c.disconnect();
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
      if (store === 'postgres') {
        const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      }
    });

    /** A client whose every write is recorded, to count what a login sends. */
    const make = (tokens: FastTokenStorage, extra: Partial<ClientOptions> = {}): { client: Client; sent: string[] } => {
      const sent: string[] = [];
      const client = new Client({
        domain: 'localhost', username: 'alice', password: 'alice-pw', resource: 'phone',
        transport: { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort }, retry: { delayMs: 100 }, timeoutMs: 5000,
        userAgent: { id: UA, software: 'fast.test' }, fast: tokens,
        transportFactory: (options) => {
          const inner = createTransport(options, NODE_PLATFORM);
          const send = inner.send.bind(inner);
          inner.send = (text: string) => (sent.push(text), send(text));
          return inner;
        },
        ...extra,
      });
      clients.push(client);
      return { client, sent };
    };
    const UA = randomUUID();
    const offlineError = (client: Client): Promise<ClientError | undefined> => new Promise((resolve) => client.once('offline', ({ error }) => resolve(error)));

    it('a password login asks for a token; the next connection logs in with it in one message, bound inline', async () => {
      const tokens = new MemoryTokens();
      const first = make(tokens);
      const before = mechanisms.length;
      await first.client.connect();
      assert.match(mechanisms[before]!, /^SCRAM-SHA-256-PLUS$/);
      assert.equal(tokens.token?.mechanism, 'HT-SHA-256-EXPR', 'bound to the channel: TLS 1.3 gives tls-exporter');
      assert.equal(tokens.token?.count, 0);
      await first.client.disconnect();
      const second = make(tokens);
      const jid = await second.client.connect();
      assert.match(jid, /^alice@localhost\/phone\//);
      assert.equal(mechanisms.at(-1), 'HT-SHA-256-EXPR');
      // One round trip: a single <authenticate/> (with the bind request inside), no SASL <response/>, no bind iq.
      const login = second.sent.filter((t) => /<authenticate|<response|<iq|<enable/.test(t));
      assert.equal(login.length, 1, login.join('\n'));
      for (const part of ['mechanism="HT-SHA-256-EXPR"', '<fast xmlns="urn:xmpp:fast:0" count="1"/>', '<bind xmlns="urn:xmpp:bind:0">', '<enable xmlns="urn:xmpp:sm:3" resume="true"/>']) assert.ok(login[0]!.includes(part), `${part} in ${login[0]}`);
      assert.equal(tokens.token?.count, 1);
      await second.client.disconnect();
    });

    it('resumes inline with the token after a cut link', async () => {
      const tokens = new MemoryTokens();
      const proxy = await startProxy(server.c2sPort);
      const { client } = make(tokens, { transport: { kind: 'tcp', host: '127.0.0.1', port: proxy.port } });
      const jid = await client.connect();
      const events: string[] = [];
      client.on('resumed', () => events.push('resumed'));
      client.on('online', () => events.push('online'));
      proxy.cutAll();
      await new Promise<void>((resolve) => client.once('resumed', () => resolve()));
      assert.deepEqual(events, ['resumed']);
      assert.equal(client.jid, jid);
      assert.match(mechanisms.at(-1)!, /^HT-SHA-256-/);
      await client.disconnect();
      await proxy.close();
    });

    it("refuses a token stolen to another user agent (SB_ERR_AUTH without a password; the password otherwise)", async () => {
      const tokens = new MemoryTokens();
      await make(tokens).client.connect();
      const stolen = new MemoryTokens();
      // The thief holds the token itself, so its -EXPR proof over its own connection is right: only the agent id differs.
      stolen.token = { ...tokens.token! };
      const thief = make(stolen, { password: '', userAgent: { id: randomUUID() } });
      const err = offlineError(thief.client);
      await thief.client.connect().catch(() => {});
      assert.equal((await err)?.detail.saslCondition, 'not-authorized');
      assert.equal(stolen.token, undefined, 'the refused token is forgotten');
      const expr = new MemoryTokens();
      expr.token = { ...tokens.token! };
      const other = make(expr, { userAgent: { id: randomUUID() } });
      await other.client.connect();
      assert.equal(mechanisms.at(-1), 'SCRAM-SHA-256-PLUS', 'another agent with the password logs in with it');
      assert.notEqual(expr.token?.token, tokens.token?.token, 'and gets a token of its own');
    });

    it('refuses a replayed count', async () => {
      const tokens = new MemoryTokens();
      const { client } = make(tokens);
      await client.connect();
      await client.disconnect();
      await make(tokens).client.connect();
      assert.equal(tokens.token?.count, 1);
      tokens.token!.count = 0; // the same count once more, as a replay of the last <authenticate/> would send
      const replay = make(tokens, { password: '' });
      const err = offlineError(replay.client);
      await replay.client.connect().catch(() => {});
      assert.equal((await err)?.detail.saslCondition, 'not-authorized');
    });

    it('refuses a token revoked by a password change, and one that expired; the password takes over', async () => {
      const tokens = new MemoryTokens();
      await make(tokens).client.connect();
      // A password change (to the same password here) ends every token.
      const account = await server.storage.accounts.getAccount('alice', 'localhost');
      await server.storage.accounts.setCredentials('alice', 'localhost', account!.credentials);
      const revoked = new MemoryTokens();
      revoked.token = { ...tokens.token! };
      const again = make(revoked);
      await again.client.connect();
      assert.equal(mechanisms.at(-1), 'SCRAM-SHA-256-PLUS', 'the revoked token was refused; the password logged in');
      assert.ok(revoked.token && revoked.token.token !== tokens.token!.token, 'with a new token');
      // Expired on the server (3 s here); the app's clock thinks otherwise.
      await new Promise((r) => setTimeout(r, 3100));
      const expired = new MemoryTokens();
      expired.token = { ...revoked.token, expiry: new Date(Date.now() + 86_400_000).toISOString() };
      const late = make(expired, { password: '' });
      const err = offlineError(late.client);
      await late.client.connect().catch(() => {});
      assert.equal((await err)?.detail.saslCondition, 'credentials-expired');
    });
  });
}
