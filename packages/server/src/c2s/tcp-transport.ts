import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Element } from '@switchboard/xml';
import { xml } from '@switchboard/xml';
import { NS_CLIENT, NS_STREAMS, tlsVersionHex, type TlsVersionHex } from '@switchboard/protocol';
import { isLoopbackAddress, type C2sTransport, type TransportEvents } from './transport.ts';
import { idleSweep, type IdleMember, type IdleSweep } from './idle-sweep.ts';
import { readText, stopReadingText, type ReadPath } from './socket-reads.ts';

/** RFC 9266 §2: the tls-exporter channel binding. */
const EXPORTER_LABEL = 'EXPORTER-Channel-Binding';

/**
 * Transports with output waiting for the end of the tick. What one tick
 * writes to a socket (a message and an XEP-0198 <r/>, a presence broadcast)
 * goes out as one string in one syscall. Writes made while a read is
 * handled are sent when the read handler returns; others by one nextTick
 * that serves them all.
 */
const queued: TcpTransport[] = [];
/** A read is being handled: what it writes is flushed when it returns, with no nextTick of its own. */
let handlingRead = false;

function flushQueued(): void {
  // A flush only writes to a socket; nothing it does can queue another transport.
  for (let i = 0; i < queued.length; i++) queued[i]!.flush();
  // Emptied by pop, which keeps the list's storage: `length = 0` frees it, and the next read's push allocates it again.
  while (queued.length > 0) queued.pop();
}

/** RFC 6120 framing over TCP, with STARTTLS. */
export class TcpTransport implements C2sTransport, IdleMember {
  readonly kind = 'tcp';
  readonly framing = 'stream';
  readonly remoteAddress: string;
  readonly isLoopback: boolean;
  private socket: Socket;
  private events: TransportEvents | undefined;
  private tls: TLSSocket | undefined;
  private closed = false;
  /** STARTTLS handshake under way: a close then is a TLS failure, reported by startTls's rejection, not as a plain close. */
  private handshaking = false;
  /** Output written this tick, sent when the tick ends. */
  private pending = '';
  /** Watches for silence from the peer; none when the idle period is not positive. */
  private readonly sweep: IdleSweep | undefined;
  heardInRound = 0;
  /** How the socket's reads arrive (socket-reads.ts). */
  readPath: ReadPath = 'stream';
  /** Ends a pause of the reads (pauseFor). */
  private resumeTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: Socket,
    private readonly tlsContext: SecureContext | undefined,
    idleMs: number,
    /** The stream's default namespace: jabber:client, or jabber:component:accept for XEP-0114. */
    private readonly namespace: string = NS_CLIENT,
    /** Offer channel binding (SCRAM-*-PLUS) on this listener (ServerConfig.channelBindingOn). */
    private readonly bindingOffered = true,
  ) {
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.isLoopback = isLoopbackAddress(socket.remoteAddress);
    // XEP-0368 direct TLS: the socket arrives already encrypted.
    if (socket instanceof TLSSocket) this.tls = socket;
    socket.setNoDelay(true);
    this.listen(socket);
    this.sweep = idleSweep(idleMs);
    this.sweep?.add(this);
  }

  /** Nothing came from the peer for the idle period (the sweep has let go of us). */
  idle(): void {
    this.events?.idle();
  }

  get secure(): boolean {
    return this.tls !== undefined;
  }

  get canStartTls(): boolean {
    return this.tls === undefined && this.tlsContext !== undefined;
  }

  channelBinding(): Buffer | undefined {
    // RFC 9266: tls-exporter is defined for TLS 1.3 only; tls-unique (RFC 5929) is not offered at all.
    if (!this.bindingOffered || !this.tls || this.tls.getProtocol() !== 'TLSv1.3') return undefined;
    return this.tls.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0));
  }

  tlsVersion(): TlsVersionHex | undefined {
    return this.tls ? tlsVersionHex(this.tls.getProtocol()) : undefined;
  }

  setEvents(events: TransportEvents): void {
    this.events = events;
  }

  private listen(socket: Socket): void {
    this.readPath = readText(socket, (text) => {
      if (this.sweep) this.heardInRound = this.sweep.round;
      handlingRead = true;
      try {
        if (text !== null) this.events?.data(text);
        else if (this.events?.notUtf8) this.events.notUtf8();
        else socket.destroy();
      } finally {
        handlingRead = false;
        if (queued.length > 0) flushQueued();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (socket !== this.socket) return;
      this.closed = true;
      clearTimeout(this.resumeTimer);
      this.sweep?.remove(this);
      if (!this.handshaking) this.events?.close();
    });
  }

  openStream(attrs: Record<string, string>): void {
    const header = xml('stream:stream', { xmlns: this.namespace, 'xmlns:stream': NS_STREAMS, ...attrs });
    this.write(`<?xml version='1.0'?>${header.openTag()}`);
  }

  send(el: Element, text?: string): number {
    const data = text ?? el.toString();
    this.write(data);
    return data.length;
  }

  get backlog(): number {
    // writableLength counts bytes, pending characters: either way a bound, not an exact figure.
    return this.pending.length + this.socket.writableLength;
  }

  keepalive(): void {
    this.write(' ');
  }

  private write(data: string): void {
    if (this.closed) return;
    // Queued with the first write of the tick. Data emptied early (closeStream, startTls) may queue it twice; the second flush finds nothing.
    if (this.pending === '' && queued.push(this) === 1 && !handlingRead) process.nextTick(flushQueued);
    this.pending += data;
  }

  /** Sends what this tick wrote. */
  flush(): void {
    const data = this.pending;
    if (data === '') return;
    this.pending = '';
    if (!this.closed) this.socket.write(data);
  }

  closeStream(): void {
    if (this.closed) return;
    const data = this.pending;
    this.pending = '';
    this.socket.end(data + '</stream:stream>');
    this.closed = true;
    // A peer that never answers our close must not hold the socket (RFC 6120 §4.4).
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  async startTls(): Promise<void> {
    if (!this.tlsContext) throw new Error('no TLS context');
    const plain = this.socket;
    // <proceed/> must be on the wire before the TLS handshake takes the socket over.
    this.flush();
    await new Promise<void>((resolve) => plain.write('', () => resolve()));
    stopReadingText(plain);
    plain.removeAllListeners('close');
    const secure = new TLSSocket(plain, { isServer: true, secureContext: this.tlsContext });
    this.socket = secure;
    this.tls = secure;
    this.handshaking = true;
    this.listen(secure);
    try {
      await new Promise<void>((resolve, reject) => {
        secure.once('secure', resolve);
        secure.once('close', () => reject(new Error('TLS handshake failed')));
      });
    } finally {
      this.handshaking = false;
    }
  }

  pauseFor(ms: number): void {
    // A socket read into the reusable buffer stops reading at once when paused, so while paused
    // nothing of its own keeps the process alive: the timer must, until the socket closes.
    this.socket.pause();
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      this.socket.resume();
    }, ms);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
