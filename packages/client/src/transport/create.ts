import type { ClientOptions } from '../client-options.ts';
import { ClientError } from '../errors.ts';
import type { Platform } from './platform.ts';
import type { ClientTransport } from './transport.ts';
import { WebSocketTransport } from './websocket.ts';

/** Why `options` cannot be served on this platform (TCP asked for in a browser), checked when the client is made. */
export function unavailableTransport(options: ClientOptions, platform: Platform): ClientError | undefined {
  if (options.transportFactory || (options.transport?.kind ?? 'tcp') !== 'tcp' || platform.tcp) return undefined;
  return new ClientError('SB_ERR_POLICY', "TCP is not available in a browser: give transport { kind: 'websocket', url: 'wss://…' }", { fatal: true });
}

export function createTransport(options: ClientOptions, platform: Platform): ClientTransport {
  const t = options.transport ?? { kind: 'tcp' };
  if (t.kind === 'websocket') return new WebSocketTransport(t, platform.webSocket);
  const unavailable = unavailableTransport(options, platform);
  if (unavailable || !platform.tcp) throw unavailable;
  return platform.tcp(options.domain, t);
}
