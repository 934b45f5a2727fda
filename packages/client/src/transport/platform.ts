// What a platform gives the client beyond what every browser has. The entry
// point decides: index.ts (Node, the package's `import` condition) passes
// node-platform.ts; browser.ts (the `browser` condition) passes nothing, so a
// browser bundle never sees node:net, node:tls or the ws package, and needs no
// bundler configuration to leave them out.

import type { ClientTransport, TcpOptions } from './transport.ts';

/** The constructor shape of a WebSocket, the browser's or the `ws` package's. */
export type WebSocketClass = new (url: string, protocol: string, options?: unknown) => unknown;

export interface Platform {
  /** RFC 6120 over TCP with STARTTLS or direct TLS (Node only). */
  tcp?(domain: string, options: TcpOptions): ClientTransport;
  /** A WebSocket class where there is no global one or Node TLS options are given (Node: the ws package). */
  webSocket?(): Promise<WebSocketClass>;
}

/** A browser's: WebSocket only, the global one. */
export const BROWSER_PLATFORM: Platform = {};
