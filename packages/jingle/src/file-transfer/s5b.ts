// XEP-0260 v1.0.3 candidate negotiation for one content, independent of how
// sockets are made (the Socks5Port: node-socks5.ts in Node).
//   §2.1 we offer one direct candidate per listening address, priority
//        2^16 × 126 + local preference;
//   §2.2 DST.ADDR = SHA-1(sid + offerer + other party) — each side's own
//        candidates hash its own full JID first;
//   §2.3 we try the peer's candidates highest priority first and report
//        candidate-used or candidate-error;
//   §2.4 once both reports are in, the used candidate with the higher
//        priority wins, the initiator's choice on a tie; both error: fail.
// Mediated (proxy) candidates need XEP-0065 activation through the proxy's
// JID; we neither offer nor use them, so a peer's proxy is skipped.

import { dstAddr } from '../protocol/xep0065.ts';
import { candidatePriority, type S5bCandidate, type S5bTransport } from '../protocol/xep0260.ts';
import { randomId } from '../ids.ts';
import type { ByteStream } from './bytestream.ts';

export interface Socks5Listener {
  readonly host: string;
  readonly port: number;
  /** Streams that completed the SOCKS5 handshake for our DST.ADDR, oldest first (paused until resumed). */
  readonly accepted: readonly ByteStream[];
  close(): void;
}

export interface Socks5Port {
  /** XEP-0065 §5.3.2 as StreamHost: accepts CONNECTs to `dstaddr`, refuses any other. */
  listen(host: string, dstaddr: string): Promise<Socks5Listener>;
  /** As Target: connects and CONNECTs to `dstaddr`. */
  connect(host: string, port: number, dstaddr: string, timeoutMs: number): Promise<ByteStream>;
}

export interface S5bOptions {
  readonly port: Socks5Port;
  /** Addresses to listen on and offer (one candidate each). */
  readonly hosts: readonly string[];
  readonly connectTimeoutMs?: number;
}

export interface Selected {
  readonly stream: ByteStream;
  readonly candidate: S5bCandidate;
  /** True when the winning candidate is one we offered (the peer connected to us). */
  readonly ours: boolean;
}

type Report = { kind: 'used'; cid: string } | { kind: 'error' };

export class S5bNegotiation {
  readonly sid: string;
  private readonly offered = new Map<string, { candidate: S5bCandidate; listener: Socks5Listener }>();
  private local: (Report & { stream?: ByteStream; candidate?: S5bCandidate }) | undefined;
  private remote: Report | undefined;
  private remoteCandidates: readonly S5bCandidate[] = [];
  private closed = false;
  private settle!: (s: Selected | undefined) => void;
  /** The outcome of §2.4, once both parties have reported. */
  readonly selection: Promise<Selected | undefined>;

  constructor(
    private readonly options: S5bOptions,
    private readonly self: string,
    private readonly peer: string,
    private readonly isInitiator: boolean,
    sid?: string,
  ) {
    this.sid = sid ?? randomId();
    this.selection = new Promise((resolve) => (this.settle = resolve));
  }

  /** Opens our listeners and describes them for session-initiate / session-accept. */
  async offer(): Promise<S5bTransport> {
    const dstaddr = await dstAddr(this.sid, this.self, this.peer);
    const candidates: S5bCandidate[] = [];
    let preference = 65535;
    for (const host of this.options.hosts) {
      const listener = await this.options.port.listen(host, dstaddr);
      const candidate: S5bCandidate = { cid: randomId(), host, jid: this.self, port: listener.port, priority: candidatePriority('direct', preference--), type: 'direct' };
      this.offered.set(candidate.cid, { candidate, listener });
      candidates.push(candidate);
    }
    return { kind: 's5b', sid: this.sid, dstaddr, mode: 'tcp', candidates };
  }

  /** §2.3: tries the peer's candidates, best first, and returns the report to send in transport-info. */
  async connect(remote: S5bTransport): Promise<S5bTransport> {
    this.remoteCandidates = remote.candidates ?? [];
    const dstaddr = await dstAddr(this.sid, this.peer, this.self);
    const usable = [...this.remoteCandidates].filter((c) => (c.type ?? 'direct') !== 'proxy' && c.port !== undefined).sort((a, b) => b.priority - a.priority);
    for (const candidate of usable) {
      if (this.closed) break;
      try {
        const stream = await this.options.port.connect(candidate.host, candidate.port!, dstaddr, this.options.connectTimeoutMs ?? 5000);
        this.local = { kind: 'used', cid: candidate.cid, stream, candidate };
        this.decide();
        return { kind: 's5b', sid: this.sid, candidateUsed: candidate.cid };
      } catch {
        // Next candidate.
      }
    }
    this.local = { kind: 'error' };
    this.decide();
    return { kind: 's5b', sid: this.sid, candidateError: true };
  }

  /** The peer's transport-info: candidate-used, candidate-error, or proxy-error. */
  remoteReport(t: S5bTransport): void {
    if (this.remote) return;
    if (t.candidateUsed !== undefined) this.remote = { kind: 'used', cid: t.candidateUsed };
    else if (t.candidateError || t.proxyError) this.remote = { kind: 'error' };
    else return;
    this.decide();
  }

  private decide(): void {
    if (!this.local || !this.remote || this.closed) return;
    const mine = this.local.kind === 'used' ? this.local : undefined;
    const theirs = this.remote.kind === 'used' ? this.offered.get(this.remote.cid) : undefined;
    let pick: 'local' | 'remote' | undefined;
    if (mine && theirs) {
      const byPriority = mine.candidate!.priority - theirs.candidate.priority;
      // A tie goes to the candidate the initiator connected to.
      pick = byPriority > 0 || (byPriority === 0 && this.isInitiator) ? 'local' : 'remote';
    } else if (mine) pick = 'local';
    else if (theirs) pick = 'remote';
    let selected: Selected | undefined;
    if (pick === 'local') selected = { stream: mine!.stream!, candidate: mine!.candidate!, ours: false };
    else if (pick === 'remote') {
      const stream = theirs!.listener.accepted[0];
      if (stream) selected = { stream, candidate: theirs!.candidate, ours: true };
    }
    this.release(selected?.stream);
    this.settle(selected);
  }

  /** Closes every listener and every stream but the one kept. */
  private release(keep?: ByteStream): void {
    for (const { listener } of this.offered.values()) {
      for (const s of listener.accepted) if (s !== keep) s.destroy();
      listener.close();
    }
    if (this.local?.stream && this.local.stream !== keep) this.local.stream.destroy();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    this.settle(undefined);
  }
}
