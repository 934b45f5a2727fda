// XEP-0167 v1.2.2 Jingle RTP sessions over XEP-0176 ICE-UDP with XEP-0320
// DTLS-SRTP fingerprints, driven by a browser's RTCPeerConnection, which the
// application injects (so this file needs no browser global and no Node
// built-in). The browser's offer becomes session-initiate and its answer
// session-accept (sdp/jingle-sdp.ts); candidates trickle as transport-info
// both ways (XEP-0176 §4); the §7 informational messages go out and come in
// as session-info; content-modify changes who sends (XEP-0166 §7.2.3).
//
// Reasons the session ends with: success on hang-up; media-error when the
// browser cannot make or take a description; connectivity-error when ICE or
// DTLS fails (XEP-0166 §7.4: "unable to establish connectivity for the
// transport method"). COMPAT: StanzaJS uses failed-application and
// failed-transport for these; both read ours.
//
// The browser's side (descriptions as Jingle, senders agreed, trickle ICE) is
// media-negotiation.ts; this file holds the Jingle actions and the call's life.

import { Session, type Done, type Response, type SessionEvents, type SessionInit } from '../session.ts';
import { CONNECTION_TRANSITIONS, type ConnectionState } from '../session-states.ts';
import { NS_JINGLE_RTP } from '../namespaces.ts';
import { jingleError, type Content, type Jingle, type Reason, type Senders } from '../protocol/xep0166.ts';
import type { RtpInfo, RtpInfoType } from '../protocol/xep0167.ts';
import type { JingleMedia } from '../sdp/jingle-sdp.ts';
import { MediaNegotiation, transportOf } from './media-negotiation.ts';
import { Silence } from './silence.ts';

export interface MediaSessionOptions {
  /** The session owns it from now on: it closes it when the session ends. */
  readonly peerConnection: RTCPeerConnection;
}

export interface MediaSessionEvents extends SessionEvents {
  /** XEP-0167 §7: the peer's informational message (ringing, mute, unmute, hold, unhold, active). */
  info: RtpInfo;
  /** A content-modify took effect on both sides (XEP-0166 §7.2.3). */
  senders: { name: string; senders: Senders; by: 'local' | 'peer' };
}

export class MediaSession extends Session<MediaSessionEvents> {
  readonly pc: RTCPeerConnection;
  private readonly negotiation: MediaNegotiation;
  private readonly silence: Silence;
  private readonly detach: (() => void)[] = [];

  constructor(init: SessionInit, options: MediaSessionOptions) {
    super(init);
    this.pc = options.peerConnection;
    this.negotiation = new MediaNegotiation(this.pc, this.role, (content) => void this.send('transport-info', { contents: [content] }));
    this.silence = new Silence(this.pc);
    this.listen('icecandidate', (e) => this.onLocalCandidate(e.candidate));
    this.listen('connectionstatechange', () => this.onConnectionChange());
  }

  private listen<K extends keyof RTCPeerConnectionEventMap>(type: K, fn: (e: RTCPeerConnectionEventMap[K]) => void): void {
    this.pc.addEventListener(type, fn);
    this.detach.push(() => this.pc.removeEventListener(type, fn));
  }

  /** The content names of this session (the SDP mids). */
  get contentNames(): string[] {
    return this.negotiation.contentNames;
  }

  sendersOf(name: string): Senders | undefined {
    return this.negotiation.sendersOf(name);
  }

  // ---- Offer and answer -----------------------------------------------

  /** Initiator: the browser's offer (tracks added to `pc` before) goes out as session-initiate. */
  override start(): Promise<void> {
    return this.runLocal(async () => {
      if (!this.starting) return;
      const described = await this.describe(() => this.pc.createOffer());
      if (!described) return;
      this.pendingDescriptionTypes = [NS_JINGLE_RTP];
      this.setState('pending');
      this.signal('session-initiate', described);
    });
  }

  /** Responder: adds the stream's tracks (if any) and answers with session-accept. */
  override accept(stream?: MediaStream): Promise<void> {
    return this.runLocal(async () => {
      if (!this.pending || this.isInitiator) return;
      for (const track of stream?.getTracks() ?? []) this.pc.addTrack(track, stream!);
      const described = await this.describe(() => this.pc.createAnswer());
      if (!described) return;
      this.setState('active');
      this.signal('session-accept', described);
    });
  }

  /** Hangs up: session-terminate with success. */
  hangUp(): void {
    this.end('success');
  }

  /** Makes and sets our local description; undefined (and the session ended) when the browser refuses. */
  private async describe(make: () => Promise<RTCSessionDescriptionInit>): Promise<JingleMedia | undefined> {
    try {
      await this.pc.setLocalDescription(await make());
    } catch (err) {
      this.fail(err);
      return undefined;
    }
    if (this.ended) return undefined;
    return this.negotiation.readLocal();
  }

  /** Sends our offer or answer, then the candidates gathered meanwhile that it does not already carry. */
  private signal(action: 'session-initiate' | 'session-accept', media: JingleMedia): void {
    this.negotiation.sendingDescription(media);
    void this.send(action, { contents: media.contents, groups: media.groups });
    this.negotiation.startTrickle();
  }

  protected override async onSessionInitiate(data: Jingle, done: Done): Promise<void> {
    this.setState('pending');
    const refusal = refuseOffer(data.contents);
    if (refusal) {
      done();
      return this.end(refusal);
    }
    this.negotiation.takeRemote(data);
    try {
      await this.negotiation.applyRemote('offer');
    } catch (err) {
      // §6.3.1 by analogy: acknowledge, then say why not.
      done();
      return this.fail(err);
    }
    done();
  }

  protected override async onSessionAccept(data: Jingle, done: Done): Promise<void> {
    this.negotiation.takeRemote(data);
    try {
      await this.negotiation.applyRemote('answer');
    } catch (err) {
      done();
      return this.fail(err);
    }
    this.setState('active');
    done();
  }

  private fail(err: unknown): void {
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    // Nothing went out yet: there is no session at the peer to terminate.
    this.end({ condition: 'media-error', text }, this.starting);
  }

  // ---- Trickle ICE (XEP-0176 §4) --------------------------------------

  private onLocalCandidate(candidate: RTCIceCandidate | null): void {
    // null and '' mark the end of gathering, which XEP-0176 has no element for.
    if (!candidate?.candidate || this.ended) return;
    this.negotiation.gathered(candidate);
  }

  protected override async onTransportInfo(data: Jingle, done: Done): Promise<void> {
    if (data.contents.some((c) => !this.negotiation.knows(c.name))) return done(jingleError('unknown-content'));
    await this.negotiation.addRemoteCandidates(data.contents);
    done();
  }

  // ---- Connection state -----------------------------------------------

  private onConnectionChange(): void {
    if (this.ended) return;
    switch (this.pc.connectionState) {
      case 'connecting': return this.moveTo('connecting');
      case 'connected': return this.moveTo('connected');
      case 'disconnected': return this.moveTo('interrupted');
      case 'failed': return this.end({ condition: 'connectivity-error', text: 'ICE or DTLS failed' });
      default: return;
    }
  }

  /** The browser may skip states ours has (new → connected); ours moves only along its table. */
  private moveTo(to: ConnectionState): void {
    if (CONNECTION_TRANSITIONS[this.connectionState].includes(to)) this.setConnectionState(to);
  }

  protected override onEnded(_reason: Reason): void {
    for (const off of this.detach.splice(0)) off();
    this.pc.close();
  }

  // ---- Informational messages (XEP-0167 §7) ---------------------------

  /** Responder: the callee is being alerted. */
  ringing(): Promise<Response> {
    return this.sendInfo('ringing');
  }

  /** Stops sending on one content (or all) and tells the peer; the track is kept to be put back by unmute(). */
  async mute(name?: string): Promise<Response> {
    await this.silence.mute(name === undefined ? this.contentNames : [name]);
    return this.sendInfo('mute', name);
  }

  async unmute(name?: string): Promise<Response> {
    await this.silence.unmute(name === undefined ? undefined : [name]);
    return this.sendInfo('unmute', name);
  }

  /** Stops sending everything while on hold. */
  async hold(): Promise<Response> {
    await this.silence.hold(true);
    return this.sendInfo('hold');
  }

  async unhold(): Promise<Response> {
    await this.silence.hold(false);
    return this.sendInfo('unhold');
  }

  private sendInfo(type: RtpInfoType, name?: string): Promise<Response> {
    if (this.ended) return Promise.resolve({ ok: false, error: jingleError('unknown-session', 'the session has ended') });
    const creator = name === undefined ? undefined : this.negotiation.contentOf(name)?.creator;
    return this.send('session-info', { info: { kind: 'rtp-info', type, creator, name } });
  }

  protected override onSessionInfo(data: Jingle, done: Done): void {
    const info = data.info;
    if (info?.kind !== 'rtp-info') return super.onSessionInfo(data, done);
    if (info.name !== undefined && !this.negotiation.knows(info.name)) return done(jingleError('unknown-content'));
    this.emit('info', info);
    done();
  }

  // ---- Senders (XEP-0166 §7.2.3 content-modify) -----------------------

  /**
   * Asks the peer to change who sends on a content; once acknowledged both
   * browsers renegotiate locally (MediaNegotiation.renegotiate), so no SDP
   * crosses the wire again. Resolves false when the peer refuses (or wins a
   * tie-break).
   */
  async setSenders(name: string, senders: Senders): Promise<boolean> {
    const content = this.negotiation.contentOf(name);
    if (!content || !this.active) throw new Error(`jingle session ${this.sid}: no active content ${name}`);
    const answer = await this.send('content-modify', { contents: [{ creator: content.creator, name, senders }] });
    if (!answer.ok || this.ended) return false;
    await this.runLocal(() => this.changeSenders(name, senders, 'local'));
    return !this.ended;
  }

  protected override async onContentModify(data: Jingle, done: Done): Promise<void> {
    if (!this.active) return done(jingleError('out-of-order'));
    if (data.contents.some((c) => !this.negotiation.knows(c.name) || c.senders === undefined)) return done(jingleError('unknown-content'));
    for (const c of data.contents) await this.changeSenders(c.name, c.senders!, 'peer');
    done();
  }

  private async changeSenders(name: string, senders: Senders, by: 'local' | 'peer'): Promise<void> {
    if (this.ended) return;
    try {
      await this.negotiation.renegotiate(name, senders);
    } catch (err) {
      return this.fail(err);
    }
    this.emit('senders', { name, senders, by });
  }
}

/** What an offer needs before a browser sees it: ICE-UDP everywhere, RTP or a data channel in each content. */
function refuseOffer(contents: readonly Content[]): Reason | undefined {
  if (contents.some((c) => c.transport?.kind !== 'ice-udp')) return { condition: 'unsupported-transports', text: 'ICE-UDP only' };
  const usable = (c: Content) => c.description?.kind === 'rtp' || (c.description === undefined && transportOf(c)?.sctp !== undefined);
  if (!contents.every(usable)) return { condition: 'unsupported-applications', text: 'RTP and data channels only' };
  return undefined;
}
