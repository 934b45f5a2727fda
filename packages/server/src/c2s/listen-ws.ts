import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { channels } from '../diagnostics.ts';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { C2s } from './c2s.ts';
import { WebSocketTransport } from './ws-transport.ts';
import { forwardedPeer, trustedProxies } from './forwarded.ts';

/** RFC 7395 listener: an HTTP(S) server whose one path upgrades to WebSocket with the `xmpp` subprotocol. */
export async function listenWebSocket(
  c2s: C2s,
  options: {
    host: string;
    port: number;
    path: string;
    tls: { cert: string; key: string } | undefined;
    idleMs: number;
    maxMessage: number;
    /** Proxies whose Forwarded / X-Forwarded-* headers are believed (forwarded.ts); none: headers are ignored. */
    trustedProxies?: readonly string[];
  },
): Promise<Server> {
  const proxies = options.trustedProxies?.length ? trustedProxies(options.trustedProxies) : undefined;
  const http = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
  http.on('tlsClientError', (err: Error, socket: { remoteAddress?: string }) => {
    channels.tlsFailed.publish({ remote: socket.remoteAddress ?? '', transport: 'websocket', detail: err.message });
  });
  http.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('XMPP over WebSocket: connect with the xmpp subprotocol\n');
  });
  const wss = new WebSocketServer({
    server: http,
    path: options.path,
    maxPayload: options.maxMessage,
    // RFC 7395 §3.1: the client must ask for `xmpp`; refuse the upgrade otherwise.
    handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
  });
  // ws re-emits the HTTP server's errors (EADDRINUSE at listen) on itself: the listen promise reports them.
  wss.on('error', () => {});
  wss.on('connection', (ws, req: IncomingMessage) => {
    if (ws.protocol !== 'xmpp') {
      ws.close(1002, 'the xmpp subprotocol is required');
      return;
    }
    const tlsSocket = options.tls ? (req.socket as TLSSocket) : undefined;
    // Behind a TLS-terminating proxy the client's TLS is the proxy's word, and only a trusted proxy's.
    const peer = forwardedPeer(req.socket.remoteAddress ?? '', req.headers, proxies);
    c2s.accept(new WebSocketTransport(ws, peer.remoteAddress, tlsSocket, options.idleMs, peer.secure));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen({ host: options.host, port: options.port }, () => resolve());
  });
  http.on('close', () => wss.close());
  return http;
}
