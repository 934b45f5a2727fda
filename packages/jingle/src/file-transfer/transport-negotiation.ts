// The data path of one XEP-0234 session: which transport its content offers
// or takes (a WebRTC data channel over XEP-0176 ICE-UDP + XEP-0343, XEP-0260
// SOCKS5, or XEP-0261 IBB), the transport-info each one needs, and the
// fallback from SOCKS5 to IBB through transport-replace (XEP-0260 §3). It
// ends in an open ByteStream; what goes over it, the file out or in, is the
// session's business (file-transfer-session.ts).

import { xml, type Element } from '@switchboard/xml';
import { stanzaError } from '@switchboard/protocol';
import type { BytestreamOutcome, ConnectionState, Done, Session } from '../session.ts';
import { randomId } from '../ids.ts';
import { parseIbb } from '../protocol/xep0047.ts';
import { jingleError, type Content, type Jingle } from '../protocol/xep0166.ts';
import type { IbbTransport } from '../protocol/xep0261.ts';
import type { S5bTransport } from '../protocol/xep0260.ts';
import type { IceUdpTransport } from '../protocol/xep0176.ts';
import type { Group } from '../protocol/xep0338.ts';
import { IbbReceiver, IbbSender } from './ibb.ts';
import { S5bNegotiation, type S5bOptions } from './s5b.ts';
import type { ByteStream } from './bytestream.ts';
import { DataChannelNegotiation, dataChannelAvailable, type DataChannelOptions } from './datachannel.ts';

export type Method = 'datachannel' | 's5b' | 'ibb';
export type OfferedTransport = IbbTransport | S5bTransport | IceUdpTransport;

export interface TransportOptions {
  /** Enables WebRTC data channels (ICE-UDP + XEP-0343): offered first, and taken from StanzaJS and browsers. */
  readonly datachannel?: DataChannelOptions;
  /** Enables XEP-0260 (a Socks5Port and the addresses to offer); without it only IBB is used. */
  readonly socks5?: S5bOptions;
  /** IBB block-size we offer, and the largest we accept (default 4096; XEP-0047 allows up to 65535). */
  readonly blockSize?: number;
  /** IBB data iqs in flight at once (default 4). */
  readonly ibbWindow?: number;
  /** Bytes per write on a SOCKS5 stream (default 64 KiB). */
  readonly chunkSize?: number;
}

/** The public side of the session the negotiation signals through. */
export type SessionView = Pick<Session, 'role' | 'isInitiator' | 'selfID' | 'peerID' | 'ended' | 'send' | 'request' | 'end'>;

/** The session's side of the data path: its connection state, and what it does with an open stream. */
export interface DataPath {
  setConnectionState(to: ConnectionState): void;
  /** True on the side that offered the file and sends it. */
  sending(): boolean;
  send(stream: ByteStream, method: Method, chunkSize: number): Promise<void>;
  receive(stream: ByteStream, method: Method): void;
}

const CONTENT = 'file';

export class TransportNegotiation {
  private creator: Content['creator'] = 'initiator';
  private name = CONTENT;
  /** Initiator: the transport we offered. Responder: the peer's, when we can use it. */
  private offered: OfferedTransport | undefined;
  private offeredGroups: readonly Group[] | undefined;
  private s5b: S5bNegotiation | undefined;
  private dc: DataChannelNegotiation | undefined;
  private ibbSid: string | undefined;
  private receiver: IbbReceiver | undefined;
  private stream: ByteStream | undefined;

  constructor(private readonly session: SessionView, private readonly options: TransportOptions, private readonly path: DataPath) {}

  get contentCreator(): Content['creator'] {
    return this.creator;
  }

  get contentName(): string {
    return this.name;
  }

  get hasTransport(): boolean {
    return this.offered !== undefined;
  }

  private get blockSize(): number {
    return this.options.blockSize ?? 4096;
  }

  // ---- Initiator ------------------------------------------------------

  /** Our transport for session-initiate. */
  async offer(method: Method): Promise<OfferedTransport> {
    if (method === 'datachannel') {
      // The content is named by its SDP mid, which the peer's SDP must match.
      const { content } = await this.dataChannel().offer();
      this.name = content.name;
      this.offered = content.transport as IceUdpTransport;
    } else {
      this.offered = method === 's5b' ? await this.prepareS5b(randomId()) : { kind: 'ibb', sid: randomId(), blockSize: this.blockSize };
    }
    return this.offered;
  }

  /** Our session-initiate is out: data channel candidates may follow it. */
  startTrickle(): void {
    this.dc?.startTrickle();
  }

  /** The responder's session-accept: connect over the transport both sides named. */
  accepted(data: Jingle): void {
    const transport = data.contents[0]?.transport;
    if (transport?.kind === 'ibb' && this.offered?.kind === 'ibb') {
      void this.sendOverIbb(this.offered.sid, Math.min(transport.blockSize ?? this.blockSize, this.blockSize));
    } else if (transport?.kind === 's5b' && this.offered?.kind === 's5b') {
      void this.negotiateS5b(transport);
    } else if (transport?.kind === 'ice-udp' && this.offered?.kind === 'ice-udp' && this.dc) {
      const content = data.contents.find((c) => c.name === this.name) ?? data.contents[0]!;
      void this.connectDataChannel(this.dc.accepted({ content, groups: data.groups }));
    } else {
      this.session.end('unsupported-transports');
    }
  }

  private dataChannel(): DataChannelNegotiation {
    this.dc ??= new DataChannelNegotiation(this.options.datachannel ?? {}, this.session.role, (t) => void this.session.send('transport-info', { contents: [this.content(t)] }));
    return this.dc;
  }

  /** Waits for the description step, then for the channel to open, then sends or receives over it. */
  private async connectDataChannel(negotiated: Promise<unknown>): Promise<void> {
    try {
      await negotiated;
    } catch (err) {
      if (!this.session.ended) this.session.end({ condition: 'failed-transport', text: err instanceof Error ? err.message : String(err) });
      return;
    }
    const outcome = await this.dc!.opened;
    if (this.session.ended) return;
    // XEP-0166 §7.4: connectivity-error, no candidate pair worked (or DTLS did not come up).
    if ('failed' in outcome) return this.session.end({ condition: 'connectivity-error', text: outcome.failed });
    this.useStream(outcome, 'datachannel');
  }

  private async prepareS5b(sid: string): Promise<S5bTransport> {
    const self = this.session.selfID;
    if (!self) throw new Error('SOCKS5 bytestreams need our full JID (manager selfID)');
    if (!this.options.socks5) return { kind: 's5b', sid };
    this.s5b = new S5bNegotiation(this.options.socks5, self, this.session.peerID, this.session.isInitiator, sid);
    return this.s5b.offer();
  }

  private async sendOverIbb(sid: string, blockSize: number): Promise<void> {
    const sender = new IbbSender(sid, blockSize, (payload) => this.session.request(xmlIq(payload)), this.options.ibbWindow);
    this.stream = sender;
    const refused = await sender.open();
    if (this.session.ended) return;
    if (refused) return this.session.end({ condition: 'failed-transport', text: `IBB open refused: ${refused.condition}` });
    await this.path.send(sender, 'ibb', blockSize);
  }

  // ---- SOCKS5 (both sides) ------------------------------------------------

  /** §2.3/§2.4 of XEP-0260: connect to the peer's candidates, report, and use or fall back. */
  private async negotiateS5b(remote: S5bTransport): Promise<void> {
    if (!this.s5b) {
      // No SOCKS5 here: report failure at once so the initiator falls back (XEP-0260 §3).
      void this.session.send('transport-info', { contents: [this.content({ kind: 's5b', sid: remote.sid, candidateError: true })] });
      return;
    }
    const report = await this.s5b.connect(remote);
    if (this.session.ended) return;
    void this.session.send('transport-info', { contents: [this.content(report)] });
    const selected = await this.s5b.selection;
    if (this.session.ended) return;
    if (selected) return this.useStream(selected.stream, 's5b');
    this.path.setConnectionState('interrupted');
    if (this.session.isInitiator) {
      this.ibbSid = randomId();
      void this.session.send('transport-replace', { contents: [this.content({ kind: 'ibb', sid: this.ibbSid, blockSize: this.blockSize })] });
    }
  }

  private useStream(stream: ByteStream, method: Method): void {
    this.stream = stream;
    if (this.path.sending()) void this.path.send(stream, method, this.options.chunkSize ?? 65536);
    else this.path.receive(stream, method);
  }

  private content(transport: OfferedTransport): Content {
    return { creator: this.creator, name: this.name, transport };
  }

  onTransportInfo(data: Jingle, done: Done): void {
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

  /** Responder side of the fallback: take the IBB transport the initiator proposes. False: not a fallback we take. */
  onTransportReplace(data: Jingle, done: Done): boolean {
    const t = data.contents[0]?.transport;
    if (this.path.sending() || t?.kind !== 'ibb') return false;
    this.s5b?.close();
    const blockSize = Math.min(t.blockSize ?? this.blockSize, this.blockSize);
    this.prepareIbbReceiver(t.sid, blockSize);
    done();
    void this.session.send('transport-accept', { contents: [this.content({ kind: 'ibb', sid: t.sid, blockSize })] });
    return true;
  }

  /** Initiator side of the fallback: the responder took our IBB transport. False: not the one we proposed. */
  onTransportAccept(data: Jingle, done: Done): boolean {
    const t = data.contents[0]?.transport;
    if (!this.path.sending() || t?.kind !== 'ibb' || t.sid !== this.ibbSid) return false;
    done();
    this.path.setConnectionState('connecting');
    void this.sendOverIbb(t.sid, Math.min(t.blockSize ?? this.blockSize, this.blockSize));
    return true;
  }

  /** Our transport-replace lost a tie-break: no transport-accept will answer it. */
  replaceLost(): void {
    this.ibbSid = undefined;
  }

  // ---- Responder ------------------------------------------------------

  /** The file-transfer content of a session-initiate: keeps its transport if we can use it (`hasTransport`). */
  takeOffer(content: Content, groups: readonly Group[] | undefined): void {
    this.creator = content.creator;
    this.name = content.name;
    const t = content.transport;
    if (t?.kind === 'ibb' || t?.kind === 's5b') this.offered = t;
    else if (t?.kind === 'ice-udp' && t.sctp && this.options.datachannel && dataChannelAvailable(this.options.datachannel)) {
      this.offered = t;
      this.offeredGroups = groups;
      // Created now, so candidates trickled before accept() are kept.
      this.dataChannel();
    }
  }

  /** Our side of the offered transport for session-accept; undefined when the session ended instead. */
  async answer(): Promise<{ transport: OfferedTransport; groups: readonly Group[] | undefined } | undefined> {
    const offered = this.offered!;
    if (offered.kind === 'ibb') {
      const blockSize = Math.min(offered.blockSize ?? this.blockSize, this.blockSize);
      this.prepareIbbReceiver(offered.sid, blockSize);
      return { transport: { kind: 'ibb', sid: offered.sid, blockSize }, groups: undefined };
    }
    if (offered.kind === 'ice-udp') {
      try {
        const answer = await this.dataChannel().answer({ content: this.content(offered), groups: this.offeredGroups });
        return { transport: answer.content.transport as IceUdpTransport, groups: answer.groups };
      } catch (err) {
        this.session.end({ condition: 'failed-transport', text: err instanceof Error ? err.message : String(err) });
        return undefined;
      }
    }
    return { transport: await this.prepareS5b(offered.sid), groups: undefined };
  }

  /** Our session-accept is out: connect over the transport it took. */
  answered(): void {
    const offered = this.offered!;
    if (offered.kind === 's5b') void this.negotiateS5b(offered);
    if (offered.kind === 'ice-udp') {
      this.dc!.startTrickle();
      void this.connectDataChannel(Promise.resolve());
    }
  }

  private prepareIbbReceiver(sid: string, blockSize: number): void {
    this.ibbSid = sid;
    this.receiver = new IbbReceiver(sid, blockSize);
    this.stream = this.receiver;
    this.path.receive(this.receiver, 'ibb');
  }

  /** XEP-0047 data for our IBB session, in order; anything else passes. */
  handleBytestream(iq: Element): BytestreamOutcome {
    const payload = iq.getChildren()[0];
    const p = payload && parseIbb(payload);
    if (!p || !this.receiver || p.sid !== this.ibbSid) return 'pass';
    return this.receiver.handle(p) ?? 'ok';
  }

  close(): void {
    this.s5b?.close();
    this.dc?.close();
    this.stream?.destroy();
  }
}

function xmlIq(payload: Element): Element {
  return xml('iq', { type: 'set' }, payload);
}
