// XEP-0474 (SSDP) against a relay in the middle that rewrites the server's
// stream features, as an attacker able to read the stream would: it strips
// SCRAM-SHA-256 from the mechanism lists (of SASL and of SASL2) so the
// client would settle for SCRAM-SHA-1, or, terminating TLS with a
// certificate the client trusts (the test CA: the XEP's "stolen key"
// attacker), strips the XEP-0440 channel-binding list so the client would
// not bind. The server's hash of what it advertised (h= in server-first)
// does not match what reached the client, which stops with SB_ERR_DOWNGRADE
// before it sends its proof. The same relay leaving the lists alone is
// harmless: the client logs in.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { startServer, type RunningServer } from '@switchboard/server';
import { Client, type ClientError, type ClientOptions } from '../src/index.ts';
import { startRelay, type Rewrite } from './rewriting-relay.ts';

const stripStartTls: Rewrite = (f) => f.replace(/<starttls[^>]*\/>|<starttls[\s\S]*?<\/starttls>/, '');
const stripSha256: Rewrite = (f) => stripStartTls(f).replaceAll('<mechanism>SCRAM-SHA-256</mechanism>', '');
const stripBindingList: Rewrite = (f) => f.replace(/<sasl-channel-binding[\s\S]*?<\/sasl-channel-binding>/, '');

for (const sasl2 of [false, true]) {
  describe(`SSDP (XEP-0474) through a rewriting relay, ${sasl2 ? 'SASL2' : 'RFC 6120 SASL'}`, { timeout: 60_000 }, () => {
    let server: RunningServer;
    let dataDir: string;
    const relays: { close(): Promise<void> }[] = [];
    const mechanisms: string[] = [];
    const listener = (m: unknown): void => void mechanisms.push((m as { mechanism: string }).mechanism);
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'switchboard-ssdp-'));
      server = await startServer({
        domain: 'localhost', c2sPort: 0, c2sDirectTlsPort: 0, wsPort: 0, dataDir, sasl2, allowPlaintextOnLoopback: true,
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

    const login = async (rewrite: Rewrite, tls: boolean): Promise<{ jid?: string; error?: ClientError }> => {
      const relay = await startRelay({ target: tls ? server.c2sDirectTlsPort! : server.c2sPort, rewrites: [{ until: '</stream:features>', rewrite }], ...(tls ? { tls: {} } : {}) });
      relays.push(relay);
      const options: ClientOptions = {
        domain: 'localhost', username: 'alice', password: 'alice-pw', requireTls: false, timeoutMs: 5000, retry: { maxAttempts: 1 },
        transport: { kind: 'tcp', host: '127.0.0.1', port: relay.port, ...(tls ? { tls: 'direct' as const } : {}) },
      };
      const client = new Client(options);
      const offline = new Promise<ClientError | undefined>((resolve) => client.once('offline', ({ error }) => resolve(error)));
      try {
        const jid = await client.connect();
        await client.disconnect();
        return { jid };
      } catch {
        return { error: await offline };
      }
    };

    it('a relay that leaves the mechanisms alone changes nothing: SCRAM-SHA-256 logs in', async () => {
      const { jid, error } = await login(stripStartTls, false);
      assert.equal(error, undefined, error?.message);
      assert.match(jid!, /^alice@localhost\//);
      assert.equal(mechanisms.at(-1), 'SCRAM-SHA-256');
    });

    it('SCRAM-SHA-256 stripped from the list: the client detects it at server-first and stops with SB_ERR_DOWNGRADE', async () => {
      const before = mechanisms.length;
      const { error } = await login(stripSha256, false);
      assert.equal(error?.code, 'SB_ERR_DOWNGRADE', error?.message);
      assert.equal(error?.fatal, true);
      assert.equal(mechanisms.length, before, 'no login happened');
    });

    it('TLS terminated in the middle with a trusted certificate and the XEP-0440 list stripped: SB_ERR_DOWNGRADE', async () => {
      const { error } = await login(stripBindingList, true);
      assert.equal(error?.code, 'SB_ERR_DOWNGRADE', error?.message);
    });
  });
}
