// What the stream state machine needs from a connection, whatever carries it.
// TCP (RFC 6120) and WebSocket (RFC 7395) differ only in framing: how the
// stream is opened, closed and how a stanza is written. After framing both
// feed the same StreamParser and the same C2sStream.

import type { Element } from '@switchboard/xml';
import type { Framing } from '@switchboard/xml';
import type { TlsVersionHex } from '@switchboard/protocol';

export type TransportKind = 'tcp' | 'websocket';

export interface TransportEvents {
  data(text: string): void;
  /** The socket is gone (closed by the peer, failed, or destroyed by us). */
  close(error?: Error): void;
  /** Nothing was received for the idle period. */
  idle(): void;
  /**
   * The peer sent bytes that are not UTF-8 (RFC 6120 §11.6); nothing of that read is given as
   * data. Without a handler the socket is dropped.
   */
  notUtf8?(): void;
}

export interface C2sTransport {
  readonly kind: TransportKind;
  readonly framing: Framing;
  readonly remoteAddress: string;
  /** The peer connects from this machine (loopback address). */
  readonly isLoopback: boolean;
  /** TLS is active under the stream. */
  readonly secure: boolean;
  /** STARTTLS is possible (TCP not yet under TLS). */
  readonly canStartTls: boolean;
  /** TLS 1.3 is active, so tls-exporter channel binding (RFC 9266) is available. */
  channelBinding(): Buffer | undefined;
  /**
   * XEP-0515: the version of the TLS that ends in this process ('0304' for TLS 1.3), for SCRAM's t=;
   * undefined without TLS, or when TLS ends at a proxy in front of us (its version is not ours to state).
   */
  tlsVersion(): TlsVersionHex | undefined;
  setEvents(events: TransportEvents): void;
  /** Writes our stream header: `<stream:stream …>` on TCP, `<open/>` on WebSocket. */
  openStream(attrs: Record<string, string>): void;
  /**
   * Writes one top-level element (a stanza, features, a SASL element, a stream error), and
   * returns its length in characters. `text` is the element already written for an RFC 6120
   * stream, which stream framing may send as it is.
   */
  send(el: Element, text?: string): number;
  /** Characters written and not yet taken by the peer: queued in the process, or in the socket's send buffer. */
  readonly backlog: number;
  /** Writes a whitespace keepalive where the framing has one. */
  keepalive(): void;
  /** Writes the stream close (`</stream:stream>` or `<close/>`) and ends the socket once flushed. */
  closeStream(): void;
  /** Upgrades to TLS in place (STARTTLS, RFC 6120 §5.4.3.3); resolves once the handshake is done. */
  startTls(): Promise<void>;
  /** Stops reading for `ms` (rate limiting); reading resumes by itself. */
  pauseFor(ms: number): void;
  /** Drops the socket at once. */
  destroy(): void;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export function isLoopbackAddress(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.test(address);
}
