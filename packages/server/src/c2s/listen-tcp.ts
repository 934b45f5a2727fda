import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer, type SecureContext } from 'node:tls';
import type { C2s } from './c2s.ts';
import { TcpTransport } from './tcp-transport.ts';
import { channels } from '../diagnostics.ts';

/**
 * RFC 6120 TCP listener (5222 by default); STARTTLS upgrades in place. `tls` is asked for the
 * context at each connection, so a reloaded certificate serves new connections (SIGHUP).
 */
export async function listenTcp(c2s: C2s, options: { host: string; port: number; tls: (() => SecureContext) | undefined; idleMs: number; channelBinding?: boolean }): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket) => {
    c2s.accept(new TcpTransport(socket, options.tls?.(), options.idleMs, undefined, options.channelBinding ?? true));
  });
  server.maxConnections = 100_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, backlog: 1024 }, () => resolve());
  });
  return server;
}

/** XEP-0368 direct TLS listener (5223 by default): TLS from the first byte, ALPN `xmpp-client`. */
export async function listenDirectTls(c2s: C2s, options: { host: string; port: number; tls: { cert: string; key: string }; idleMs: number; channelBinding?: boolean }): Promise<Server> {
  // The certificate itself, not an SNICallback: a client that connects by address sends no server name.
  const server = createTlsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2', ALPNProtocols: ['xmpp-client'] }, (socket) => {
    c2s.accept(new TcpTransport(socket, undefined, options.idleMs, undefined, options.channelBinding ?? true));
  });
  server.on('tlsClientError', (err, socket) => {
    channels.tlsFailed.publish({ remote: socket.remoteAddress ?? '', transport: 'tcp', detail: err.message });
  });
  server.maxConnections = 100_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, backlog: 1024 }, () => resolve());
  });
  return server;
}
