// XEP-0234 over a WebRTC data channel, the way StanzaJS (and browsers)
// transfer files: the content's transport is XEP-0176 ICE-UDP carrying
// XEP-0320 DTLS fingerprints and an XEP-0343 <sctpmap/>; candidates trickle
// in transport-info and end with <gathering-complete/> (XEP-0371 / StanzaJS);
// the file goes as binary messages over one ordered RTCDataChannel, and its
// end is simply the last byte of the size announced in the offer.
//
// This module holds the RTCPeerConnection (injected; the browser's global by
// default) and the SDP ↔ Jingle step (../sdp/jingle-sdp.ts). The session
// (file-transfer-session.ts) only hands it Jingle contents and takes a
// ByteStream back.

import { compact } from '../protocol/xml-util.ts';
import type { Content } from '../protocol/xep0166.ts';
import type { IceUdpTransport } from '../protocol/xep0176.ts';
import type { Group } from '../protocol/xep0338.ts';
import { iceCandidateToJingle, jingleCandidateToIce, jingleToSdp, sdpToJingle, type Role } from '../sdp/jingle-sdp.ts';
import { ByteStream } from './bytestream.ts';

export type PeerConnectionConstructor = new (configuration?: RTCConfiguration) => RTCPeerConnection;

export interface DataChannelOptions {
  /** Default: `globalThis.RTCPeerConnection` (browsers; in Node inject an implementation). */
  readonly RTCPeerConnection?: PeerConnectionConstructor;
  /** STUN/TURN servers (XEP-0215 would find them); none means host candidates only. */
  readonly iceServers?: readonly RTCIceServer[];
  /** How long ICE, DTLS and SCTP may take until the channel is open (default 30 s). */
  readonly connectTimeoutMs?: number;
}

/** The data channel content of a session-initiate or session-accept, and its BUNDLE group. */
export interface DataChannelOffer {
  readonly content: Content;
  readonly groups?: readonly Group[];
}

/**
 * Bytes per message. Without `a=max-message-size` (Jingle has no element for
 * it) a peer assumes 64 KiB (RFC 8841 §6); 16 KiB is what StanzaJS sends and
 * what every implementation has always taken.
 */
const MESSAGE_SIZE = 16 * 1024;
/** Flow control: write() waits while more than this is queued in the channel, until it drains to the low mark. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

export function dataChannelAvailable(options: DataChannelOptions): boolean {
  return (options.RTCPeerConnection ?? globalThis.RTCPeerConnection) !== undefined;
}

/** A ByteStream over an open, ordered RTCDataChannel (reliable by default: RFC 8831 §6.1). */
export class DataChannelStream extends ByteStream {
  private resumed = false;
  private ended = false;
  private readonly buffered: Uint8Array[] = [];
  private readonly wakers = new Set<() => void>();

  constructor(private readonly channel: RTCDataChannel) {
    super();
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    channel.addEventListener('message', (e: MessageEvent<unknown>) => {
      if (!(e.data instanceof ArrayBuffer)) return this.emit('error', 'a text message on a file transfer channel');
      const bytes = new Uint8Array(e.data);
      if (this.resumed) this.emit('data', bytes);
      else this.buffered.push(bytes);
    });
    channel.addEventListener('bufferedamountlow', () => this.wake());
    channel.addEventListener('close', () => {
      this.wake();
      if (this.resumed) this.emitEnd();
    });
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
  }

  private waitForEvent(): Promise<void> {
    return new Promise((resolve) => {
      const w = (): void => {
        this.wakers.delete(w);
        resolve();
      };
      this.wakers.add(w);
    });
  }

  private emitEnd(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end', undefined);
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.length; at += MESSAGE_SIZE) {
      while (this.channel.readyState === 'open' && this.channel.bufferedAmount > HIGH_WATER) await this.waitForEvent();
      if (this.channel.readyState !== 'open') throw new Error(`data channel ${this.channel.readyState}`);
      // A copy: send() takes ArrayBuffer-backed views only, and the caller may reuse its buffer.
      this.channel.send(chunk.slice(at, Math.min(chunk.length, at + MESSAGE_SIZE)));
    }
  }

  /**
   * Resolves once everything written has left the channel's buffer. The
   * channel stays open: the receiver ends the session when it has the last
   * byte (XEP-0234 §6.2), and closing first could lose the tail (StanzaJS
   * closes its peer connection at once when it ends).
   */
  async end(): Promise<void> {
    this.channel.bufferedAmountLowThreshold = 0;
    while (this.channel.readyState === 'open' && this.channel.bufferedAmount > 0) await this.waitForEvent();
    if (this.channel.bufferedAmount > 0) throw new Error(`data channel ${this.channel.readyState} with ${this.channel.bufferedAmount} bytes unsent`);
  }

  destroy(): void {
    this.ended = true;
    this.channel.close();
  }

  resume(): void {
    if (this.resumed) return;
    this.resumed = true;
    for (const chunk of this.buffered.splice(0)) this.emit('data', chunk);
    if (this.channel.readyState === 'closed' || this.channel.readyState === 'closing') this.emitEnd();
  }
}

/**
 * One side's RTCPeerConnection for one file transfer content. Our own
 * candidates are held until start of trickle (after our session-initiate or
 * session-accept is out, so the peer knows the session); the peer's are held
 * until its description is set.
 */
export class DataChannelNegotiation {
  /** The open channel as a stream, or why there will be none. */
  readonly opened: Promise<DataChannelStream | { failed: string }>;
  private pc: RTCPeerConnection | undefined;
  private settle!: (outcome: DataChannelStream | { failed: string }) => void;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Our candidates: held until our offer/answer is out, then trickled, and none once the channel is open or closed. */
  private trickle: 'held' | 'sending' | 'done' = 'held';
  private readonly localHeld: IceUdpTransport[] = [];
  /** The peer's candidates until its description is set; undefined after. */
  private remoteHeld: RTCIceCandidateInit[] | undefined = [];
  private local: { ufrag?: string; pwd?: string } = {};

  constructor(
    private readonly options: DataChannelOptions,
    private readonly role: Role,
    /** Sends our ICE-UDP transport-info for the content (a candidate, or gathering-complete). */
    private readonly sendInfo: (transport: IceUdpTransport) => void,
  ) {
    this.opened = new Promise((resolve) => (this.settle = resolve));
  }

  private connection(): RTCPeerConnection {
    if (this.pc) return this.pc;
    const Ctor = this.options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    if (!Ctor) throw new Error('no RTCPeerConnection: pass one in the datachannel options');
    const pc = new Ctor({ iceServers: [...(this.options.iceServers ?? [])] });
    this.pc = pc;
    pc.addEventListener('icecandidate', (e: RTCPeerConnectionIceEvent) => {
      const c = e.candidate?.candidate ? iceCandidateToJingle(e.candidate.candidate) : undefined;
      if (e.candidate && !c) return; // an empty candidate string is Chrome's per-generation end marker
      this.sendLocal(compact({ kind: 'ice-udp' as const, ufrag: this.local.ufrag, pwd: this.local.pwd, candidates: c && [c], gatheringComplete: c ? undefined : (true as const) }));
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') this.finish({ failed: 'ICE or DTLS failed' });
    });
    return pc;
  }

  private sendLocal(t: IceUdpTransport): void {
    // Once the channel is open a late candidate (or gathering-complete) helps nobody, and after a quick
    // transfer it can reach a peer that has already ended: StanzaJS answers unknown-session, which
    // would end our session as 'gone' before its session-terminate is read.
    if (this.trickle === 'sending') this.sendInfo(t);
    else if (this.trickle === 'held') this.localHeld.push(t);
  }

  /** Our session-initiate or session-accept is out: our candidates may follow it. */
  startTrickle(): void {
    if (this.trickle !== 'held') return;
    this.trickle = 'sending';
    for (const t of this.localHeld.splice(0)) this.sendInfo(t);
  }

  private watch(channel: RTCDataChannel): void {
    const open = (): void => {
      this.trickle = 'done';
      this.finish(new DataChannelStream(channel));
    };
    if (channel.readyState === 'open') open();
    else channel.addEventListener('open', open, { once: true });
  }

  private finish(outcome: DataChannelStream | { failed: string }): void {
    clearTimeout(this.timer);
    this.settle(outcome);
  }

  /** Initiator: the data channel content for session-initiate, named by its SDP mid. */
  async offer(): Promise<DataChannelOffer> {
    const pc = this.connection();
    // The label and options StanzaJS uses; the receiver takes whichever channel the sender opens.
    this.watch(pc.createDataChannel('filetransfer', { ordered: true }));
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    // The SDP from createOffer has no candidates yet: all of them trickle, none is sent twice.
    return this.describe(offer.sdp ?? '');
  }

  /** Responder: takes the initiator's content and returns ours for session-accept. */
  async answer(remote: DataChannelOffer): Promise<DataChannelOffer> {
    const pc = this.connection();
    pc.addEventListener('datachannel', (e: RTCDataChannelEvent) => this.watch(e.channel), { once: true });
    await this.setRemote('offer', remote);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    return this.describe(answer.sdp ?? '');
  }

  /** Initiator: the responder's content from session-accept. */
  async accepted(remote: DataChannelOffer): Promise<void> {
    await this.setRemote('answer', remote);
  }

  private async setRemote(type: 'offer' | 'answer', remote: DataChannelOffer): Promise<void> {
    const pc = this.connection();
    const peer: Role = this.role === 'initiator' ? 'responder' : 'initiator';
    await pc.setRemoteDescription({ type, sdp: jingleToSdp({ contents: [remote.content], groups: remote.groups }, peer) });
    // Both sides are committed from here (not from the offer: a person may take their time to accept).
    this.timer ??= setTimeout(() => this.finish({ failed: 'data channel not open in time' }), this.options.connectTimeoutMs ?? 30_000);
    const held = this.remoteHeld ?? [];
    this.remoteHeld = undefined;
    for (const c of held) await this.addCandidate(c);
  }

  private describe(sdp: string): DataChannelOffer {
    const media = sdpToJingle(sdp, this.role, 'initiator');
    const content = media.contents.find((c) => c.transport?.kind === 'ice-udp' && c.transport.sctp);
    if (!content || content.transport?.kind !== 'ice-udp') throw new Error('the browser produced no data channel m-section');
    this.local = { ufrag: content.transport.ufrag, pwd: content.transport.pwd };
    return { content, groups: media.groups };
  }

  /** The peer's trickled transport-info: its candidates (XEP-0176 §5) and gathering-complete. */
  remoteTransport(name: string, t: IceUdpTransport): void {
    const inits: RTCIceCandidateInit[] = (t.candidates ?? []).map((c) => ({ candidate: jingleCandidateToIce(c), sdpMid: name, usernameFragment: t.ufrag ?? null }));
    if (t.gatheringComplete) inits.push({ candidate: '', sdpMid: name });
    for (const init of inits) {
      if (this.remoteHeld) this.remoteHeld.push(init);
      else void this.addCandidate(init);
    }
  }

  private async addCandidate(init: RTCIceCandidateInit): Promise<void> {
    try {
      await this.pc?.addIceCandidate(init);
    } catch {
      // A candidate the browser cannot use (another address family, an mDNS name it cannot resolve): ICE tries the rest.
    }
  }

  close(): void {
    this.trickle = 'done';
    this.finish({ failed: 'closed' });
    this.pc?.close();
  }
}
