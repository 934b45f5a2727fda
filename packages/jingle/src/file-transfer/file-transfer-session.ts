// XEP-0234 v0.19 Jingle File Transfer: the sender offers a file (metadata and
// its XEP-0300 hash) in session-initiate, the receiver accepts, the bytes go
// over a WebRTC data channel (XEP-0176 ICE-UDP + XEP-0343, as StanzaJS and
// browsers do), over XEP-0260 SOCKS5 (falling back to XEP-0261 IBB through
// transport-replace, XEP-0260 §3) or straight over IBB, and the receiver
// checks the hash and ends the session: success, or media-error on a
// mismatch. This stack sends files it offers ("push"); the initiator sends.
//
// Choosing the transport and falling back live in transport-negotiation.ts;
// this file describes the file, sends it over the stream that yields, or
// takes it in and checks its hash.

import type { Element } from '@switchboard/xml';
import { Session, type BytestreamOutcome, type Done, type SessionEvents, type SessionInit } from '../session.ts';
import { bytesToBase64 } from '../protocol/base64.ts';
import type { Hash, HashAlgorithm } from '../protocol/xep0300.ts';
import type { Jingle, JingleAction, Reason } from '../protocol/xep0166.ts';
import type { FileInfo } from '../protocol/xep0234.ts';
import { checkHashes, webCryptoHasher, type HasherFactory } from './hash.ts';
import type { ByteStream } from './bytestream.ts';
import { TransportNegotiation, type Method, type TransportOptions } from './transport-negotiation.ts';

export type { Method };

export interface FileTransferOptions extends TransportOptions {
  readonly hasher?: HasherFactory;
  /** The hash the sender computes and announces (default sha-256). */
  readonly hashAlgorithm?: HashAlgorithm;
}

export interface FileOffer {
  readonly name: string;
  readonly data: Uint8Array;
  readonly mediaType?: string;
  readonly date?: string;
  readonly desc?: string;
}

export interface FileTransferEvents extends SessionEvents {
  progress: { transferred: number; total: number | undefined };
  /** The data path in use: s5b, or ibb (first choice or fallback). */
  transport: { method: Method };
  /** Sender: every byte is written. */
  sent: { file: FileInfo };
  /** Receiver: the whole file; `verified` is the hash it matched, if the sender gave one. */
  received: { file: FileInfo; data: Uint8Array; verified: Hash | undefined };
}

export class FileTransferSession extends Session<FileTransferEvents> {
  file: FileInfo | undefined;
  method: Method | undefined;
  private payload: Uint8Array | undefined;
  private readonly transports: TransportNegotiation;
  private readonly chunks: Uint8Array[] = [];
  private received = 0;
  private complete = false;
  private expected: Hash[] = [];
  private result: Uint8Array | undefined;
  private readonly hasher: HasherFactory;

  constructor(init: SessionInit, private readonly options: FileTransferOptions = {}) {
    super(init);
    this.hasher = options.hasher ?? webCryptoHasher;
    this.transports = new TransportNegotiation(this, options, {
      setConnectionState: (to) => this.setConnectionState(to),
      sending: () => this.payload !== undefined,
      send: (stream, method, chunkSize) => this.pump(stream, method, chunkSize),
      receive: (stream, method) => this.receiveFrom(stream, method),
    });
  }

  // ---- Sender ---------------------------------------------------------

  /** Offers a file: hashes it, prepares the transport and sends session-initiate. */
  async offer(file: FileOffer, method: Method = this.options.datachannel ? 'datachannel' : this.options.socks5 ? 's5b' : 'ibb'): Promise<void> {
    const algo = this.options.hashAlgorithm ?? 'sha-256';
    const h = this.hasher(algo);
    h.update(file.data);
    const hash: Hash = { algo, value: bytesToBase64(await h.digest()) };
    this.payload = file.data;
    this.file = { mediaType: file.mediaType, name: file.name, date: file.date, size: file.data.length, desc: file.desc, hashes: [hash] };
    for (const k of Object.keys(this.file) as (keyof FileInfo)[]) if (this.file[k] === undefined) delete (this.file as Record<string, unknown>)[k];
    const transport = await this.transports.offer(method);
    await this.start([{ creator: 'initiator', name: this.transports.contentName, senders: 'initiator', description: { kind: 'file-transfer', file: this.file }, transport }]);
    this.transports.startTrickle();
  }

  protected override onSessionAccept(data: Jingle, done: Done): void {
    super.onSessionAccept(data, done);
    this.setConnectionState('connecting');
    this.transports.accepted(data);
  }

  private async pump(stream: ByteStream, method: Method, chunkSize: number): Promise<void> {
    const data = this.payload!;
    this.method = method;
    this.setConnectionState('connected');
    this.emit('transport', { method });
    stream.on('error', (why) => this.end({ condition: 'failed-transport', text: why }));
    try {
      for (let at = 0; at < data.length && !this.ended; at += chunkSize) {
        const chunk = data.subarray(at, Math.min(data.length, at + chunkSize));
        await stream.write(chunk);
        this.emit('progress', { transferred: at + chunk.length, total: data.length });
      }
      if (this.ended) return;
      await stream.end();
      this.emit('sent', { file: this.file! });
    } catch (err) {
      if (!this.ended) this.end({ condition: 'failed-transport', text: err instanceof Error ? err.message : String(err) });
    }
  }

  // ---- Transport actions (transport-negotiation.ts) ------------------

  protected override onTransportInfo(data: Jingle, done: Done): void {
    this.transports.onTransportInfo(data, done);
  }

  protected override onTransportReplace(data: Jingle, done: Done): void {
    if (!this.transports.onTransportReplace(data, done)) super.onTransportReplace(data, done);
  }

  protected override onTransportAccept(data: Jingle, done: Done): void {
    if (!this.transports.onTransportAccept(data, done)) super.onTransportAccept(data, done);
  }

  protected override onTransportReject(_data: Jingle, done: Done): void {
    done();
    this.end('failed-transport');
  }

  protected override onTieBreakLost(action: JingleAction): void {
    if (action === 'transport-replace') this.transports.replaceLost();
  }

  // ---- Receiver -------------------------------------------------------

  protected override onSessionInitiate(data: Jingle, done: Done): void {
    const content = data.contents.find((c) => c.description?.kind === 'file-transfer');
    if (content?.description?.kind === 'file-transfer') {
      this.file = content.description.file;
      this.expected = [...(this.file.hashes ?? [])];
      this.transports.takeOffer(content, data.groups);
    }
    // §6.3.1: acknowledge first, then refuse what we cannot do.
    super.onSessionInitiate(data, done);
    if (!this.file) this.end('unsupported-applications');
    else if (!this.transports.hasTransport) this.end('unsupported-transports');
  }

  /** Accepts the offered file: session-accept with our side of the transport, then receive. */
  override accept(): Promise<void> {
    return this.runLocal(async () => {
      if (!this.transports.hasTransport || this.ended) return;
      const answer = await this.transports.answer();
      if (!answer) return;
      this.setState('active');
      this.setConnectionState('connecting');
      void this.send('session-accept', {
        contents: [{ creator: this.transports.contentCreator, name: this.transports.contentName, senders: 'initiator', description: { kind: 'file-transfer', file: this.file ?? {} }, transport: answer.transport }],
        groups: answer.groups,
      });
      this.transports.answered();
    });
  }

  override handleBytestream(iq: Element): BytestreamOutcome {
    return this.transports.handleBytestream(iq);
  }

  private receiveFrom(stream: ByteStream, method: Method): void {
    let announced = false;
    stream.on('data', (chunk) => {
      if (this.ended || this.complete) return;
      if (!announced) {
        announced = true;
        this.method = method;
        this.setConnectionState('connected');
        this.emit('transport', { method });
      }
      this.chunks.push(chunk);
      this.received += chunk.length;
      this.emit('progress', { transferred: this.received, total: this.file?.size });
      if (this.file?.size !== undefined && this.received >= this.file.size) void this.finishReceiving();
    });
    stream.on('end', () => {
      if (this.file?.size === undefined) void this.finishReceiving();
      else if (!this.complete && !this.ended) this.end({ condition: 'failed-transport', text: `stream closed after ${this.received} of ${this.file.size} bytes` });
    });
    stream.on('error', (why) => {
      if (!this.complete && !this.ended) this.end({ condition: 'failed-transport', text: why });
    });
    stream.resume();
  }

  private async finishReceiving(): Promise<void> {
    if (this.complete) return;
    this.complete = true;
    if (this.file?.size !== undefined && this.received !== this.file.size) return this.end({ condition: 'media-error', text: `received ${this.received} bytes, expected ${this.file.size}` });
    const data = new Uint8Array(this.received);
    let at = 0;
    for (const c of this.chunks.splice(0)) {
      data.set(c, at);
      at += c.length;
    }
    this.result = data;
    // XEP-0300 §3.1: with only hash-used in the offer, the value comes later in a checksum.
    if (this.expected.length === 0 && (this.file?.hashesUsed?.length ?? 0) > 0) return;
    await this.verify();
  }

  private async verify(): Promise<void> {
    const data = this.result;
    if (!data || this.ended) return;
    const outcome = await checkHashes(data, this.expected, this.hasher);
    if (this.ended) return;
    if (outcome === 'mismatch') return this.end({ condition: 'media-error', text: 'hash mismatch' });
    this.emit('received', { file: this.file ?? {}, data, verified: outcome === 'unverified' ? undefined : outcome });
    this.end('success');
  }

  /** XEP-0234 §8.1: the sender's checksum, for offers that only announced hash-used. */
  protected override onSessionInfo(data: Jingle, done: Done): void {
    const info = data.info;
    if (info?.kind === 'checksum') {
      done();
      this.expected.push(...(info.file.hashes ?? []));
      void this.verify();
      return;
    }
    if (info?.kind === 'received') return done();
    super.onSessionInfo(data, done);
  }

  protected override onEnded(_reason: Reason): void {
    this.transports.close();
  }
}
