import { isUtf8 } from 'node:buffer';
import type { TLSSocket } from 'node:tls';
import type { WebSocket } from 'ws';
import type { Element } from '@switchboard/xml';
import { xml } from '@switchboard/xml';
import { NS_CLIENT, NS_FRAMING, NS_STREAMS, tlsVersionHex, type TlsVersionHex } from '@switchboard/protocol';
import { isLoopbackAddress, type C2sTransport, type TransportEvents } from './transport.ts';
import { idleSweep, type IdleMember, type IdleSweep } from './idle-sweep.ts';

/**
 * RFC 7395 framing: every WebSocket message is one complete element, the
 * stream is opened and closed with `<open/>` and `<close/>` in the framing
 * namespace, and each element carries its own namespace declarations.
 */
export class WebSocketTransport implements C2sTransport, IdleMember {
  readonly kind = 'websocket';
  readonly framing = 'websocket';
  readonly canStartTls = false;
  readonly isLoopback: boolean;
  private events: TransportEvents | undefined;
  private closed = false;
  /** Watches for silence from the peer; none when the idle period is not positive. */
  private readonly sweep: IdleSweep | undefined;
  heardInRound = 0;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
    private readonly tlsSocket: TLSSocket | undefined,
    idleMs: number,
    /** A trusted reverse proxy terminated the client's TLS (listen-ws.ts, forwarded.ts). */
    private readonly tlsAtProxy = false,
  ) {
    this.isLoopback = isLoopbackAddress(remoteAddress);
    ws.on('message', (data, isBinary) => {
      if (this.sweep) this.heardInRound = this.sweep.round;
      // RFC 7395 §3.2 asks for text frames, which ws has checked are UTF-8 (RFC 6455 §8.1);
      // a binary frame is read as UTF-8 all the same, once it is known to be UTF-8 (RFC 6120 §11.6).
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary && !isUtf8(bytes)) {
        if (this.events?.notUtf8) this.events.notUtf8();
        else ws.terminate();
        return;
      }
      this.events?.data(bytes.toString());
    });
    ws.on('close', () => {
      this.closed = true;
      this.sweep?.remove(this);
      this.events?.close();
    });
    ws.on('error', () => ws.terminate());
    this.sweep = idleSweep(idleMs);
    this.sweep?.add(this);
  }

  /** Nothing came from the peer for the idle period (the sweep has let go of us). */
  idle(): void {
    this.events?.idle();
  }

  get secure(): boolean {
    return this.tlsSocket !== undefined || this.tlsAtProxy;
  }

  channelBinding(): Buffer | undefined {
    if (!this.tlsSocket || this.tlsSocket.getProtocol() !== 'TLSv1.3') return undefined;
    return this.tlsSocket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
  }

  tlsVersion(): TlsVersionHex | undefined {
    // Behind a proxy that ends TLS (tlsAtProxy), the version the client speaks is the proxy's: say nothing.
    return this.tlsSocket ? tlsVersionHex(this.tlsSocket.getProtocol()) : undefined;
  }

  setEvents(events: TransportEvents): void {
    this.events = events;
  }

  openStream(attrs: Record<string, string>): void {
    this.write(xml('open', { xmlns: NS_FRAMING, ...attrs }).toString());
  }

  get backlog(): number {
    return this.ws.bufferedAmount;
  }

  send(el: Element): number {
    let out = el;
    if (el.name.startsWith('stream:')) {
      if (el.attrs['xmlns:stream'] === undefined) out = el.withAttrs({ 'xmlns:stream': NS_STREAMS });
    } else if (el.attrs.xmlns === undefined) {
      out = el.withAttrs({ xmlns: NS_CLIENT });
    }
    const data = out.toString();
    this.write(data);
    return data.length;
  }

  keepalive(): void {
    // RFC 7395 §3.4: no whitespace pings over WebSocket; the WebSocket ping does that job.
    if (!this.closed) this.ws.ping();
  }

  private write(data: string): void {
    if (!this.closed) this.ws.send(data);
  }

  closeStream(): void {
    if (this.closed) return;
    this.write(xml('close', { xmlns: NS_FRAMING }).toString());
    this.closed = true;
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  async startTls(): Promise<void> {
    throw new Error('STARTTLS is not available over WebSocket');
  }

  pauseFor(ms: number): void {
    this.ws.pause();
    setTimeout(() => this.ws.resume(), ms).unref();
  }

  destroy(): void {
    this.closed = true;
    this.ws.terminate();
  }
}
