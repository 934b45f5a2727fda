// Node's platform: the TCP transport (loaded on first use) and the ws package
// for WebSocket (Node 20 has no global WebSocket). Only index.ts, the Node
// entry, imports this file.

import type { Platform, WebSocketClass } from './platform.ts';
import { LazyTcpTransport } from './lazy-tcp.ts';

export const NODE_PLATFORM: Platform = {
  tcp: (domain, options) => new LazyTcpTransport(domain, options),
  webSocket: async () => (await import('ws')).WebSocket as unknown as WebSocketClass,
};
