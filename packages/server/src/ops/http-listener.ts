// The operator's HTTP listener (config `http`, loopback by default): its own
// port, apart from the client listeners, so metrics never share a socket with
// the public. GET /metrics (Prometheus), /health (the process answers),
// /ready (started and not stopping), /.well-known/host-meta(.json) (XEP-0156),
// and with `http.console` the web console's page at / (ops/console.ts).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { processMetrics } from './metrics.ts';
import { CORS_HEADERS, hostMetaJson, hostMetaXrd } from './host-meta.ts';
import { serveConsoleFile, type ConsoleFiles } from './console.ts';
import type { StoreSizeSource } from './store-sizes.ts';

export interface HttpListenerOptions {
  host: string;
  port: number;
  /** The wss:// URL for host-meta; undefined: no WebSocket listener, host-meta answers 404. */
  websocketUrl: string | undefined;
  /** Whether the server is ready for clients (started, not stopping). */
  ready: () => boolean;
  /** The web console's files (http.console); none: / answers 404. */
  console?: ConsoleFiles;
  /** The store's sizes for the gauges (the process that runs the sm); none: those gauges have no sample. */
  storeSizes?: StoreSizeSource;
}

export interface HttpListener {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpListener(options: HttpListenerOptions): Promise<HttpListener> {
  const metrics = processMetrics();
  metrics.watchStoreSizes(options.storeSizes);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const isHostMeta = path === '/.well-known/host-meta' || path === '/.well-known/host-meta.json';
    if (req.method === 'OPTIONS' && isHostMeta) {
      res.writeHead(204, CORS_HEADERS).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    switch (path) {
      case '/metrics':
        metrics.text().then(
          (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
        );
        return;
      case '/health':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case '/ready': {
        const ready = options.ready();
        res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
        return;
      }
      case '/.well-known/host-meta':
      case '/.well-known/host-meta.json': {
        if (options.websocketUrl === undefined) {
          res.writeHead(404, CORS_HEADERS).end();
          return;
        }
        const json = path.endsWith('.json');
        res
          .writeHead(200, { ...CORS_HEADERS, 'content-type': json ? 'application/json' : 'application/xrd+xml' })
          .end(json ? hostMetaJson(options.websocketUrl) : hostMetaXrd(options.websocketUrl));
        return;
      }
      default:
        if (options.console && serveConsoleFile(options.console, path, res)) return;
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
