// The browser's side of a MediaSession (media-session.ts): the
// RTCPeerConnection's descriptions as Jingle and back (sdp/jingle-sdp.ts),
// who sends on each content as last agreed, and trickle ICE both ways
// (XEP-0176 §4). Candidates are all it signals; the Jingle actions, and when
// the session ends, belong to the session.

import type { Content, Jingle, Senders } from '../protocol/xep0166.ts';
import type { IceUdpTransport } from '../protocol/xep0176.ts';
import { iceCandidateToJingle, jingleCandidateToIce, jingleToSdp, sdpToJingle, sendersToDirection, type JingleMedia, type Role } from '../sdp/jingle-sdp.ts';

export class MediaNegotiation {
  /** What we sent (offer or answer) and what the peer sent, as Jingle. */
  private local: JingleMedia | undefined;
  private remote: JingleMedia | undefined;
  /** Who sends on each content, as last agreed. */
  private readonly senders = new Map<string, Senders>();
  /** Our candidates wait here until our offer or answer is out (XEP-0176 §4); undefined once it is. */
  private localCandidates: RTCIceCandidate[] | undefined = [];
  /** The peer's wait here until the browser has its description; undefined once it has. */
  private remoteCandidates: RTCIceCandidateInit[] | undefined = [];
  private readonly sentCandidates = new Set<string>();
  private readonly sdpSession = String(Math.floor(Math.random() * 2 ** 31));
  private sdpVersion = 2;

  constructor(
    private readonly pc: RTCPeerConnection,
    private readonly role: Role,
    /** Sends one of our candidates in a transport-info. */
    private readonly sendTransportInfo: (content: Content) => void,
  ) {}

  private get peerRole(): Role {
    return this.role === 'initiator' ? 'responder' : 'initiator';
  }

  /** The content names of this session (the SDP mids). */
  get contentNames(): string[] {
    return (this.remote ?? this.local)?.contents.map((c) => c.name) ?? [];
  }

  sendersOf(name: string): Senders | undefined {
    return this.senders.get(name);
  }

  contentOf(name: string): Content | undefined {
    return (this.remote ?? this.local)?.contents.find((c) => c.name === name);
  }

  knows(name: string): boolean {
    return [this.local, this.remote].some((m) => m?.contents.some((c) => c.name === name));
  }

  // ---- Descriptions ---------------------------------------------------

  /** The local description just set, as Jingle; undefined when the browser has none. */
  readLocal(): JingleMedia | undefined {
    if (!this.pc.localDescription) return undefined;
    const media = sdpToJingle(this.pc.localDescription.sdp, this.role);
    this.local = media;
    return media;
  }

  /** Our offer or answer is about to go out: its senders are agreed on our side, and its candidates will not trickle again. */
  sendingDescription(media: JingleMedia): void {
    this.takeSenders(media.contents);
    for (const c of media.contents) for (const cand of transportOf(c)?.candidates ?? []) if (cand.id) this.sentCandidates.add(cand.id);
  }

  /** The peer's offer or answer, as its session-initiate or session-accept carried it. */
  takeRemote(data: Jingle): void {
    this.remote = { contents: data.contents, groups: data.groups };
    this.takeSenders(data.contents);
  }

  /** The peer's Jingle, with the senders agreed since, as the browser's remote description. */
  async applyRemote(type: 'offer' | 'answer'): Promise<void> {
    const remote = this.remote!;
    const contents = remote.contents.map((c) => ({ ...c, senders: this.senders.get(c.name) ?? c.senders }));
    const sdp = jingleToSdp({ contents, groups: remote.groups }, this.peerRole, { sessionId: this.sdpSession, sessionVersion: this.sdpVersion++ });
    await this.pc.setRemoteDescription({ type, sdp });
    const waiting = this.remoteCandidates ?? [];
    this.remoteCandidates = undefined;
    for (const c of waiting) await this.addRemoteCandidate(c);
  }

  private takeSenders(contents: readonly Content[]): void {
    for (const c of contents) this.senders.set(c.name, c.senders ?? 'both');
  }

  /**
   * XEP-0166 §7.2.3 content-modify, once agreed: both browsers renegotiate
   * locally from the descriptions they already hold (same ICE and DTLS, new
   * directions). Throws what the browser throws.
   */
  async renegotiate(name: string, senders: Senders): Promise<void> {
    this.senders.set(name, senders);
    for (const t of this.pc.getTransceivers()) {
      const agreed = t.mid === null ? undefined : this.senders.get(t.mid);
      if (agreed && t.currentDirection !== 'stopped') t.direction = sendersToDirection(agreed, this.role);
    }
    if (this.role === 'initiator') {
      await this.pc.setLocalDescription(await this.pc.createOffer());
      await this.applyRemote('answer');
    } else {
      await this.applyRemote('offer');
      await this.pc.setLocalDescription(await this.pc.createAnswer());
    }
  }

  // ---- Trickle ICE (XEP-0176 §4) --------------------------------------

  /** Our offer or answer is out: the candidates gathered meanwhile follow it. */
  startTrickle(): void {
    const waiting = this.localCandidates ?? [];
    this.localCandidates = undefined;
    for (const c of waiting) this.sendCandidate(c);
  }

  /** A candidate the browser gathered: held until our description is out, then sent. */
  gathered(candidate: RTCIceCandidate): void {
    if (this.localCandidates) this.localCandidates.push(candidate);
    else this.sendCandidate(candidate);
  }

  private sendCandidate(c: RTCIceCandidate): void {
    const candidate = iceCandidateToJingle(c.candidate);
    const contents = this.local?.contents ?? [];
    const content = contents.find((x) => x.name === c.sdpMid) ?? (c.sdpMLineIndex !== null ? contents[c.sdpMLineIndex] : undefined);
    if (!candidate?.id || !content || this.sentCandidates.has(candidate.id)) return;
    this.sentCandidates.add(candidate.id);
    const own = transportOf(content);
    const transport: IceUdpTransport = { kind: 'ice-udp', ufrag: own?.ufrag, pwd: own?.pwd, candidates: [candidate] };
    this.sendTransportInfo({ creator: content.creator, name: content.name, transport });
  }

  /** The peer's transport-info contents, all of them known: their candidates go to the browser. */
  async addRemoteCandidates(contents: readonly Content[]): Promise<void> {
    for (const c of contents) {
      const t = transportOf(c);
      const ufrag = t?.ufrag ?? transportOf(this.remote?.contents.find((x) => x.name === c.name))?.ufrag;
      for (const candidate of t?.candidates ?? []) await this.addRemoteCandidate({ candidate: jingleCandidateToIce(candidate, ufrag), sdpMid: c.name });
    }
  }

  private async addRemoteCandidate(init: RTCIceCandidateInit): Promise<void> {
    if (this.remoteCandidates) {
      this.remoteCandidates.push(init);
      return;
    }
    try {
      await this.pc.addIceCandidate(init);
    } catch {
      // A candidate the browser cannot use (another address family, a stale ufrag) is not fatal: ICE goes on with the others.
    }
  }
}

export function transportOf(c: Content | undefined): IceUdpTransport | undefined {
  return c?.transport?.kind === 'ice-udp' ? c.transport : undefined;
}
