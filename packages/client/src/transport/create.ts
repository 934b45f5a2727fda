import type { ClientOptions } from '../client.ts';
import type { ClientTransport } from './transport.ts';
import { WebSocketTransport } from './websocket.ts';
import { LazyTcpTransport } from './lazy-tcp.ts';

export function createTransport(options: ClientOptions): ClientTransport {
  const t = options.transport ?? { kind: 'tcp' };
  if (t.kind === 'websocket') return new WebSocketTransport(t);
  return new LazyTcpTransport(options.domain, t);
}
