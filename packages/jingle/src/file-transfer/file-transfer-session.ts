// XEP-0234 v0.19 Jingle File Transfer: the sender offers a file (metadata and
// its XEP-0300 hash) in session-initiate, the receiver accepts, the bytes go
// over a WebRTC data channel (XEP-0176 ICE-UDP + XEP-0343, as StanzaJS and
// browsers do), over XEP-0260 SOCKS5 (falling back to XEP-0261 IBB through
// transport-replace, XEP-0260 §3) or straight over IBB, and the receiver
// checks the hash and ends the session: success, or media-error on a
// mismatch. This stack sends files it offers ("push"); the initiator sends.

import { xml, type Element } from '@switchboard/xml';
import { stanzaError } from '@switchboard/protocol';
import { Session, type BytestreamOutcome, type Done, type SessionEvents, type SessionInit } from '../session.ts';
import { randomId } from '../ids.ts';
import { parseIbb } from '../protocol/xep0047.ts';
import { bytesToBase64 } from '../protocol/base64.ts';
import type { Hash, HashAlgorithm } from '../protocol/xep0300.ts';
import { jingleError, type Content, type Jingle, type JingleAction, type Reason } from '../protocol/xep0166.ts';
import type { FileInfo } from '../protocol/xep0234.ts';
import type { IbbTransport } from '../protocol/xep0261.ts';
import type { S5bTransport } from '../protocol/xep0260.ts';
import type { IceUdpTransport } from '../protocol/xep0176.ts';
import type { Group } from '../protocol/xep0338.ts';
import { checkHashes, webCryptoHasher, type HasherFactory } from './hash.ts';
import { IbbReceiver, IbbSender } from './ibb.ts';
import { S5bNegotiation, type S5bOptions } from './s5b.ts';
import type { ByteStream } from './bytestream.ts';
import { DataChannelNegotiation, dataChannelAvailable, type DataChannelOptions } from './datachannel.ts';

export type Method = 'datachannel' | 's5b' | 'ibb';
type OfferedTransport = IbbTransport | S5bTransport | IceUdpTransport;

export interface FileTransferOptions {
  /** Enables WebRTC data channels (ICE-UDP + XEP-0343): offered first, and taken from StanzaJS and browsers. */
  readonly datachannel?: DataChannelOptions;
  /** Enables XEP-0260 (a Socks5Port and the addresses to offer); without it only IBB is used. */
  readonly socks5?: S5bOptions;
  readonly hasher?: HasherFactory;
  /** The hash the sender computes and announces (default sha-256). */
  readonly hashAlgorithm?: HashAlgorithm;
  /** IBB block-size we offer, and the largest we accept (default 4096; XEP-0047 allows up to 65535). */
  readonly blockSize?: number;
  /** IBB data iqs in flight at once (default 4). */
  readonly ibbWindow?: number;
  /** Bytes per write on a SOCKS5 stream (default 64 KiB). */
  readonly chunkSize?: number;
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

const CONTENT = 'file';

export class FileTransferSession extends Session<FileTransferEvents> {
  file: FileInfo | undefined;
  method: Method | undefined;
  private payload: Uint8Array | undefined;
  private contentCreator: Content['creator'] = 'initiator';
  private contentName = CONTENT;
  private offeredTransport: OfferedTransport | undefined;
  private offeredGroups: readonly Group[] | undefined;
  private s5b: S5bNegotiation | undefined;
  private dc: DataChannelNegotiation | undefined;
  private ibbSid: string | undefined;
  private receiver: IbbReceiver | undefined;
  private stream: ByteStream | undefined;
  private readonly chunks: Uint8Array[] = [];
  private received = 0;
  private complete = false;
  private expected: Hash[] = [];
  private result: Uint8Array | undefined;
  private readonly hasher: HasherFactory;

  constructor(init: SessionInit, private readonly options: FileTransferOptions = {}) {
    super(init);
    this.hasher = options.hasher ?? webCryptoHasher;
  }

  private get blockSize(): number {
    return this.options.blockSize ?? 4096;
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
    if (method === 'datachannel') {
      // The content is named by its SDP mid, which the peer's SDP must match.
      const { content } = await this.dataChannel().offer();
      this.contentName = content.name;
      this.offeredTransport = content.transport as IceUdpTransport;
    } else {
      this.offeredTransport = method === 's5b' ? await this.prepareS5b(randomId()) : { kind: 'ibb', sid: randomId(), blockSize: this.blockSize };
    }
    await this.start([{ creator: 'initiator', name: this.contentName, senders: 'initiator', description: { kind: 'file-transfer', file: this.file }, transport: this.offeredTransport }]);
    this.dc?.startTrickle();
  }

  private dataChannel(): DataChannelNegotiation {
    this.dc ??= new DataChannelNegotiation(this.options.datachannel ?? {}, this.role, (t) => void this.send('transport-info', { contents: [this.content(t)] }));
    return this.dc;
  }

  /** Waits for the description step, then for the channel to open, then sends or receives over it. */
  private async connectDataChannel(negotiated: Promise<unknown>): Promise<void> {
    try {
      await negotiated;
    } catch (err) {
      if (!this.ended) this.end({ condition: 'failed-transport', text: err instanceof Error ? err.message : String(err) });
      return;
    }
    const outcome = await this.dc!.opened;
    if (this.ended) return;
    // XEP-0166 §7.4: connectivity-error, no candidate pair worked (or DTLS did not come up).
    if ('failed' in outcome) return this.end({ condition: 'connectivity-error', text: outcome.failed });
    this.useStream(outcome, 'datachannel');
  }

  private async prepareS5b(sid: string): Promise<S5bTransport> {
    const self = this.selfID;
    if (!self) throw new Error('SOCKS5 bytestreams need our full JID (manager selfID)');
    if (!this.options.socks5) return { kind: 's5b', sid };
    this.s5b = new S5bNegotiation(this.options.socks5, self, this.peerID, this.isInitiator, sid);
    return this.s5b.offer();
  }

  protected override onSessionAccept(data: Jingle, done: Done): void {
    const transport = data.contents[0]?.transport;
    super.onSessionAccept(data, done);
    this.setConnectionState('connecting');
    if (transport?.kind === 'ibb' && this.offeredTransport?.kind === 'ibb') {
      void this.sendOverIbb(this.offeredTransport.sid, Math.min(transport.blockSize ?? this.blockSize, this.blockSize));
    } else if (transport?.kind === 's5b' && this.offeredTransport?.kind === 's5b') {
      void this.negotiateS5b(transport);
    } else if (transport?.kind === 'ice-udp' && this.offeredTransport?.kind === 'ice-udp' && this.dc) {
      const content = data.contents.find((c) => c.name === this.contentName) ?? data.contents[0]!;
      void this.connectDataChannel(this.dc.accepted({ content, groups: data.groups }));
    } else {
      this.end('unsupported-transports');
    }
  }

  private async sendOverIbb(sid: string, blockSize: number): Promise<void> {
    const sender = new IbbSender(sid, blockSize, (payload) => this.request(xmlIq(payload)), this.options.ibbWindow);
    this.stream = sender;
    const refused = await sender.open();
    if (this.ended) return;
    if (refused) return this.end({ condition: 'failed-transport', text: `IBB open refused: ${refused.condition}` });
    await this.pump(sender, 'ibb', blockSize);
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

  // ---- SOCKS5 (both sides) ------------------------------------------------

  /** §2.3/§2.4 of XEP-0260: connect to the peer's candidates, report, and use or fall back. */
  private async negotiateS5b(remote: S5bTransport): Promise<void> {
    if (!this.s5b) {
      // No SOCKS5 here: report failure at once so the initiator falls back (XEP-0260 §3).
      void this.send('transport-info', { contents: [this.content({ kind: 's5b', sid: remote.sid, candidateError: true })] });
      return;
    }
    const report = await this.s5b.connect(remote);
    if (this.ended) return;
    void this.send('transport-info', { contents: [this.content(report)] });
    const selected = await this.s5b.selection;
    if (this.ended) return;
    if (selected) return this.useStream(selected.stream, 's5b');
    this.setConnectionState('interrupted');
    if (this.isInitiator) {
      this.ibbSid = randomId();
      void this.send('transport-replace', { contents: [this.content({ kind: 'ibb', sid: this.ibbSid, blockSize: this.blockSize })] });
    }
  }

  private useStream(stream: ByteStream, method: Method): void {
    this.stream = stream;
    if (this.payload) void this.pump(stream, method, this.options.chunkSize ?? 65536);
    else this.receiveFrom(stream, method);
  }

  private content(transport: OfferedTransport): Content {
    return { creator: this.contentCreator, name: this.contentName, transport };
  }

  protected override onTransportInfo(data: Jingle, done: Done): void {
    const t = data.contents[0]?.transport;
    // XEP-0176 §6.2 trickled candidates, and gathering-complete.
    if (t?.kind === 'ice-udp' && this.dc) {
      this.dc.remoteTransport(data.contents[0]!.name, t);
      return done();
    }
    // XEP-0166 §6.8: transport information we do not understand.
    if (t?.kind !== 's5b') return done(jingleError('unsupported-info'));
    if (this.s5b) this.s5b.remoteReport(t);
    else if (t.candidateUsed !== undefined) return done(stanzaError('item-not-found', { text: 'we offered no candidates' }));
    done();
  }

  /** Responder side of the fallback: take the IBB transport the initiator proposes. */
  protected override onTransportReplace(data: Jingle, done: Done): void {
    const t = data.contents[0]?.transport;
    if (this.payload || t?.kind !== 'ibb') return super.onTransportReplace(data, done);
    this.s5b?.close();
    const blockSize = Math.min(t.blockSize ?? this.blockSize, this.blockSize);
    this.prepareIbbReceiver(t.sid, blockSize);
    done();
    void this.send('transport-accept', { contents: [this.content({ kind: 'ibb', sid: t.sid, blockSize })] });
  }

  protected override onTransportAccept(data: Jingle, done: Done): void {
    const t = data.contents[0]?.transport;
    if (!this.payload || t?.kind !== 'ibb' || t.sid !== this.ibbSid) return super.onTransportAccept(data, done);
    done();
    this.setConnectionState('connecting');
    void this.sendOverIbb(t.sid, Math.min(t.blockSize ?? this.blockSize, this.blockSize));
  }

  protected override onTransportReject(_data: Jingle, done: Done): void {
    done();
    this.end('failed-transport');
  }

  protected override onTieBreakLost(action: JingleAction): void {
    if (action === 'transport-replace') this.ibbSid = undefined;
  }

  // ---- Receiver -------------------------------------------------------

  protected override onSessionInitiate(data: Jingle, done: Done): void {
    const content = data.contents.find((c) => c.description?.kind === 'file-transfer');
    if (content?.description?.kind === 'file-transfer') {
      this.file = content.description.file;
      this.contentCreator = content.creator;
      this.contentName = content.name;
      this.expected = [...(this.file.hashes ?? [])];
      const t = content.transport;
      if (t?.kind === 'ibb' || t?.kind === 's5b') this.offeredTransport = t;
      else if (t?.kind === 'ice-udp' && t.sctp && this.options.datachannel && dataChannelAvailable(this.options.datachannel)) {
        this.offeredTransport = t;
        this.offeredGroups = data.groups;
        // Created now, so candidates trickled before accept() are kept.
        this.dataChannel();
      }
    }
    // §6.3.1: acknowledge first, then refuse what we cannot do.
    super.onSessionInitiate(data, done);
    if (!this.file) this.end('unsupported-applications');
    else if (!this.offeredTransport) this.end('unsupported-transports');
  }

  /** Accepts the offered file: session-accept with our side of the transport, then receive. */
  override accept(): Promise<void> {
    return this.runLocal(async () => {
      const offered = this.offeredTransport;
      if (!offered || this.ended) return;
      let transport: OfferedTransport;
      let groups: readonly Group[] | undefined;
      if (offered.kind === 'ibb') {
        const blockSize = Math.min(offered.blockSize ?? this.blockSize, this.blockSize);
        this.prepareIbbReceiver(offered.sid, blockSize);
        transport = { kind: 'ibb', sid: offered.sid, blockSize };
      } else if (offered.kind === 'ice-udp') {
        try {
          const answer = await this.dataChannel().answer({ content: this.content(offered), groups: this.offeredGroups });
          transport = answer.content.transport as IceUdpTransport;
          groups = answer.groups;
        } catch (err) {
          return this.end({ condition: 'failed-transport', text: err instanceof Error ? err.message : String(err) });
        }
      } else {
        transport = await this.prepareS5b(offered.sid);
      }
      this.setState('active');
      this.setConnectionState('connecting');
      void this.send('session-accept', {
        contents: [{ creator: this.contentCreator, name: this.contentName, senders: 'initiator', description: { kind: 'file-transfer', file: this.file ?? {} }, transport }],
        groups,
      });
      if (offered.kind === 's5b') void this.negotiateS5b(offered);
      if (offered.kind === 'ice-udp') {
        this.dc!.startTrickle();
        void this.connectDataChannel(Promise.resolve());
      }
    });
  }

  private prepareIbbReceiver(sid: string, blockSize: number): void {
    this.ibbSid = sid;
    this.receiver = new IbbReceiver(sid, blockSize);
    this.receiveFrom(this.receiver, 'ibb');
  }

  override handleBytestream(iq: Element): BytestreamOutcome {
    const payload = iq.getChildren()[0];
    const p = payload && parseIbb(payload);
    if (!p || !this.receiver || p.sid !== this.ibbSid) return 'pass';
    return this.receiver.handle(p) ?? 'ok';
  }

  private receiveFrom(stream: ByteStream, method: Method): void {
    this.stream = stream;
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
    this.s5b?.close();
    this.dc?.close();
    this.stream?.destroy();
  }
}

function xmlIq(payload: Element): Element {
  return xml('iq', { type: 'set' }, payload);
}
