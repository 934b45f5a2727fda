// A relay in the middle for the downgrade tests (XEP-0474, XEP-0515): it
// passes bytes both ways and rewrites what the server says, as an attacker
// able to read the stream would. With `tls` it ends TLS itself, with the
// test certificate the client trusts (the XEPs' attacker holding a stolen
// key), and speaks TLS to the server's direct-TLS port: each side at a TLS
// version of the relay's choosing, which is XEP-0515's attack.

import { readFileSync } from 'node:fs';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type SecureVersion, type TLSSocket } from 'node:tls';

export type Rewrite = (text: string) => string;

export interface RelayOptions {
  /** The server's port: its direct-TLS port when `tls` is set, its plain c2s port otherwise. */
  target: number;
  /**
   * Rewrites of the server's text, in order: each holds what the server sends until `until` has arrived,
   * rewrites all of it, and lets it through; then the next one. After the last, bytes pass untouched.
   */
  rewrites?: { until: string; rewrite: Rewrite }[];
  /** End TLS in the relay; `client` and `server` cap the version spoken to each (default: the best both ends can). */
  tls?: { client?: SecureVersion; server?: SecureVersion };
}

export interface Relay {
  port: number;
  /** Per relayed connection: the TLS versions spoken to the client and to the server, all the client sent, and whether it is over. */
  readonly connections: { client: string | null; server: string | null; fromClient: string; closed: boolean }[];
  close(): Promise<void>;
}

export async function startRelay(options: RelayOptions): Promise<Relay> {
  const sockets = new Set<Socket>();
  const connections: Relay['connections'] = [];
  const onClient = (client: Socket): void => {
    const seen = { client: (client as TLSSocket).getProtocol?.() ?? null, server: null as string | null, fromClient: '', closed: false };
    connections.push(seen);
    const tls = options.tls;
    const upstream = tls
      ? tlsConnect({ host: '127.0.0.1', port: options.target, servername: 'localhost', ...(tls.server ? { maxVersion: tls.server } : {}) }, () => {
          seen.server = (upstream as TLSSocket).getProtocol();
        })
      : netConnect({ host: '127.0.0.1', port: options.target });
    sockets.add(client).add(upstream);
    const rewrites = [...(options.rewrites ?? [])];
    let pending = '';
    upstream.setEncoding('utf8').on('data', (text: string) => {
      pending += text;
      for (;;) {
        const next = rewrites[0];
        if (!next) {
          if (pending.length > 0) client.write(pending);
          pending = '';
          return;
        }
        const end = pending.indexOf(next.until);
        if (end < 0) return;
        rewrites.shift();
        const whole = end + next.until.length;
        client.write(next.rewrite(pending.slice(0, whole)));
        pending = pending.slice(whole);
      }
    });
    client.on('data', (chunk: Buffer) => {
      seen.fromClient += chunk.toString();
      upstream.write(chunk);
    });
    const end = (): void => {
      seen.closed = true;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  };
  const tls = options.tls;
  const server: Server = tls
    ? createTlsServer(
        { cert: readFileSync(process.env.SWITCHBOARD_TEST_TLS_CERT!), key: readFileSync(process.env.SWITCHBOARD_TEST_TLS_KEY!), ...(tls.client ? { maxVersion: tls.client } : {}) },
        onClient,
      )
    : createServer(onClient);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    connections,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
