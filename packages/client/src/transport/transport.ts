// What the connection machine needs from a transport. TCP (RFC 6120, with
// STARTTLS or direct TLS per XEP-0368) and WebSocket (RFC 7395) differ only
// in framing, which framing.ts writes.

import type { Framing } from '@switchboard/xml';
import type { TlsVersionHex } from '@switchboard/protocol';

/**
 * XEP-0515: the TLS under our end of the stream, as far as the transport can tell: its version ('0304'),
 * 'none' without TLS, or undefined when it cannot say (a browser's WebSocket shows no TLS details).
 */
export type OwnTlsVersion = TlsVersionHex | 'none' | undefined;

export interface TransportEvents {
  data(text: string): void;
  /** The transport is gone: closed by the peer, failed, or closed by us. */
  close(error?: Error): void;
}

export interface ClientTransport {
  readonly framing: Framing;
  /** TLS protects the stream (direct TLS, after STARTTLS, or wss). */
  readonly secure: boolean;
  /** STARTTLS is possible on this transport (TCP without TLS yet). */
  readonly canStartTls: boolean;
  setEvents(events: TransportEvents): void;
  /** Opens the connection; rejects if it cannot. */
  connect(): Promise<void>;
  send(text: string): void;
  /** Upgrades in place after <proceed/> (RFC 6120 §5.4.3.3). */
  startTls(): Promise<void>;
  /** RFC 9266 tls-exporter data when TLS 1.3 is up, for SCRAM-*-PLUS. */
  channelBinding(): Uint8Array | undefined;
  /**
   * XEP-0515: the TLS version under the stream, which SCRAM compares with the server's t=. Optional for
   * transports an application brings (transportFactory): without it nothing is compared.
   */
  tlsVersion?(): OwnTlsVersion;
  close(): void;
}

export interface TcpOptions {
  kind: 'tcp';
  /** Host to connect to; when absent, SRV records of the domain decide (XEP-0368, RFC 6120 §3.2.1). */
  host?: string;
  port?: number;
  /** `starttls` (default) upgrades a plain connection; `direct` opens TLS at once (XEP-0368). */
  tls?: 'starttls' | 'direct';
  /** DNS servers ('ip' or 'ip:port') for the SRV lookup instead of the system's. */
  dnsServers?: string[];
  /** Extra Node TLS options (for tests: a CA; never turn verification off in production). */
  tlsOptions?: { ca?: string | string[]; rejectUnauthorized?: boolean };
}

export interface WebSocketOptions {
  kind: 'websocket';
  /** ws:// or wss:// URL of the endpoint. */
  url: string;
  /** Node only: options for the `ws` package (a CA for tests). */
  wsOptions?: { ca?: string | string[]; rejectUnauthorized?: boolean };
}

export type TransportOptions = TcpOptions | WebSocketOptions;
