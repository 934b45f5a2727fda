import { createServer, type Server } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { C2s } from './c2s.ts';
import { TcpTransport } from './tcp-transport.ts';

/** RFC 6120 TCP listener (5222 by default); STARTTLS upgrades in place. */
export async function listenTcp(c2s: C2s, options: { host: string; port: number; tls: SecureContext | undefined; idleMs: number }): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket) => {
    c2s.accept(new TcpTransport(socket, options.tls, options.idleMs));
  });
  server.maxConnections = 100_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, backlog: 1024 }, () => resolve());
  });
  return server;
}
