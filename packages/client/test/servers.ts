// The two servers every client test runs against: ours and Prosody.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@switchboard/server';
import { startProsody } from '@switchboard/testkit';

export interface ServerUnderTest {
  name: 'switchboard' | 'prosody';
  c2sPort: number;
  /** XEP-0368 direct TLS. */
  directTlsPort: number | undefined;
  /** wss:// for ours, ws:// for Prosody (which serves WebSocket over plain HTTP here). */
  websocketUrl: string;
  /** Prosody serves WebSocket over plain HTTP on loopback here (consider_websocket_secure). */
  websocketTls: boolean;
  /** SASL mechanisms this server is expected to offer over TLS. */
  mechanisms: string[];
  /** The server process dies (every socket with it) and comes back on the same ports. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export const USERS = [
  { username: 'alice', password: 'alice-pw' },
  { username: 'bob', password: 'bob-pw' },
];

export async function startSwitchboard(): Promise<ServerUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-client-'));
  const config = {
    domain: 'localhost',
    c2sPort: 0,
    c2sDirectTlsPort: 0,
    wsPort: 0,
    dataDir,
    tlsCert: process.env.SWITCHBOARD_TEST_TLS_CERT,
    tlsKey: process.env.SWITCHBOARD_TEST_TLS_KEY,
  };
  let server = await startServer(config);
  for (const u of USERS) await server.addUser(u.username, u.password);
  const ports = { c2sPort: server.c2sPort, c2sDirectTlsPort: server.c2sDirectTlsPort!, wsPort: server.wsPort! };
  return {
    async restart() {
      // Drop every socket without a goodbye, as a crash would, then start again on the same ports and store.
      server.c2s.dropAll();
      await server.stop();
      server = await startServer({ ...config, ...ports });
    },
    name: 'switchboard',
    c2sPort: server.c2sPort,
    directTlsPort: server.c2sDirectTlsPort,
    websocketUrl: `wss://localhost:${server.wsPort}/xmpp-websocket`,
    websocketTls: true,
    mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'],
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startProsodyServer(): Promise<ServerUnderTest> {
  const prosody = await startProsody({ users: USERS });
  return {
    name: 'prosody',
    c2sPort: prosody.c2sPort,
    directTlsPort: prosody.directTlsPort,
    websocketUrl: prosody.websocketUrl,
    websocketTls: false,
    mechanisms: ['SCRAM-SHA-1', 'PLAIN'],
    restart: () => prosody.restart(),
    stop: () => prosody.stop(),
  };
}

/**
 * The JID bound for a requested resource: RFC 6120 binds it as asked (Prosody, ejabberd, our server with
 * SASL2 off); XEP-0386 Bind 2 makes it from the tag, `tag/generated` (§3.1, our server by default).
 */
export function boundFor(jid: string, bare: string, resource: string): boolean {
  return jid === `${bare}/${resource}` || (jid.startsWith(`${bare}/${resource}/`) && /^[A-Za-z0-9_-]+$/.test(jid.slice(bare.length + resource.length + 2)));
}
