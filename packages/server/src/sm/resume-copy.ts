// XEP-0198 resumption through any c2s, the sm's half of one session
// (docs/protocol.md "Resumption through any c2s"). The c2s that holds the
// stream keeps the unacknowledged queue it writes from; this is the sm's
// copy of what it sent the session, numbered (seq), so that a client whose
// c2s died can resume through another and lose nothing.
//
// The copy is trimmed by the client's acknowledgements, which the c2s
// reports in batches (`acked`): its h, and what entered its queue since the
// last report, in the order the client counts them (seqs, `x` for a stanza
// the c2s wrote of its own, which is not here). What the c2s wrote after its
// last report is taken to be the rest of the copy in seq order: the c2s
// reports at once whenever it writes anything else (its own stanza, a gap,
// a stanza XEP-0352 held back), so the guess is the truth but for a c2s that
// died within a turn of such a write.

import type { Element } from '@switchboard/xml';

const MOD = 2 ** 32;

export interface CopyLimits {
  stanzas: number;
  bytes: number;
}

interface Kept {
  stanza: Element;
  /** Characters; 0 while unknown (the stanza came without its text and the c2s is alive). */
  size: number;
}

export type ResumeCheck =
  | { ok: true; acknowledged: number }
  | { ok: false; condition: 'handled-count-too-high'; sendCount: number; inbound: number };

export class ResumeCopy {
  private nextSeq = 1;
  /** Sent and not known to be acknowledged, by seq; a Map keeps them in ascending order. */
  private readonly kept = new Map<number, Kept>();
  private bytes = 0;
  /** Reported as entered in the c2s's queue and not yet acknowledged, in client-count order (null: the c2s's own). */
  private written: (number | null)[] = [];
  /** The highest seq reported written. */
  private writtenThrough = 0;
  /** The client's acknowledged count at the last report. */
  private ackedH = 0;
  /** The session's inbound count (the h the server reports) when counting began here. */
  private inboundBase = 0;
  /** Stanza envelopes from the session's c2s since then, and client stanzas that c2s answered itself (reported). */
  received = 0;
  private local = 0;
  /** Set while the session's c2s is gone and the sm alone holds it for its client (hibernating in the sm). */
  private hibernation: NodeJS.Timeout | undefined;

  constructor(
    /** The secret half of the XEP-0198 id the client was given. */
    readonly secret: string,
    /** Seconds the session may wait for its client without a c2s. */
    readonly maxSeconds: number,
    private readonly limits: CopyLimits,
  ) {}

  /** The c2s is gone: the sm keeps the session for its client. */
  get detached(): boolean {
    return this.hibernation !== undefined;
  }

  get count(): number {
    return this.kept.size;
  }

  /**
   * A stanza the sm sends the session: kept under the next seq, which it
   * returns; 'full' when keeping it would pass the limits (nothing is kept then).
   */
  keep(stanza: Element, text: string | undefined): number | 'full' {
    // Sizes are counted exactly once the c2s is gone; while it lives, its own bound (the same numbers) comes first.
    const size = text !== undefined ? text.length : this.detached ? stanza.toString().length : 0;
    if (this.kept.size >= this.limits.stanzas || this.bytes + size > this.limits.bytes) return 'full';
    const seq = this.nextSeq++;
    this.kept.set(seq, { stanza, size });
    this.bytes += size;
    return seq;
  }

  private forget(seq: number): void {
    const k = this.kept.get(seq);
    if (!k) return;
    this.kept.delete(seq);
    this.bytes -= k.size;
  }

  /** The c2s's batched report: what entered its queue, what it settled alone, and the client's h. */
  acked(h: number, written: readonly (number | null)[], dropped: readonly (number | null)[], local: number): void {
    for (const seq of written) {
      this.written.push(seq);
      if (seq !== null && seq > this.writtenThrough) this.writtenThrough = seq;
    }
    for (const seq of dropped) if (seq !== null) this.forget(seq);
    const n = Math.min((h - this.ackedH + MOD) % MOD, this.written.length);
    for (let i = 0; i < n; i++) {
      const seq = this.written[i];
      if (seq !== null && seq !== undefined) this.forget(seq);
    }
    this.written.splice(0, n);
    this.ackedH = (this.ackedH + n) % MOD;
    this.local = local;
  }

  /** What the server has handled from the client: the h of <resumed/> and <failed/>. */
  get inbound(): number {
    return (this.inboundBase + this.received + this.local) % MOD;
  }

  /** The client's count in the order it counts: what was reported, then the rest of the copy as the c2s would have written it. */
  private clientOrder(): (number | null)[] {
    const order = [...this.written];
    for (const seq of this.kept.keys()) if (seq > this.writtenThrough) order.push(seq);
    return order;
  }

  /** XEP-0198 §5: may the client resume with this h? Changes nothing. */
  check(h: number): ResumeCheck {
    const sent = this.clientOrder().length;
    const n = (h - this.ackedH + MOD) % MOD;
    if (!Number.isInteger(h) || h < 0 || h >= MOD || n > sent) {
      return { ok: false, condition: 'handled-count-too-high', sendCount: (this.ackedH + sent) % MOD, inbound: this.inbound };
    }
    return { ok: true, acknowledged: n };
  }

  /**
   * A checked resumption goes ahead (only after check()): what the client
   * acknowledged is forgotten, and the rest comes back in seq order, for the
   * new c2s to write again. That c2s counts from here.
   */
  resume(h: number): { stanzas: Element[]; seqs: number[]; inbound: number } {
    const n = (h - this.ackedH + MOD) % MOD;
    const order = this.clientOrder();
    for (let i = 0; i < n && i < order.length; i++) {
      const seq = order[i];
      if (seq !== null && seq !== undefined) this.forget(seq);
    }
    const inbound = this.inbound;
    const seqs = [...this.kept.keys()];
    // The new c2s puts these in its queue in this order, without reporting them.
    this.written = [...seqs];
    this.writtenThrough = seqs.length > 0 ? seqs[seqs.length - 1]! : this.nextSeq - 1;
    this.ackedH = h;
    this.inboundBase = inbound;
    this.received = 0;
    this.local = 0;
    this.attach();
    return { stanzas: seqs.map((s) => this.kept.get(s)!.stanza), seqs, inbound };
  }

  /** The c2s is gone: wait `maxSeconds` for the client, then `expired`. */
  detach(expired: () => void): void {
    if (this.hibernation !== undefined) return;
    for (const k of this.kept.values()) {
      if (k.size === 0) {
        k.size = k.stanza.toString().length;
        this.bytes += k.size;
      }
    }
    this.hibernation = setTimeout(expired, this.maxSeconds * 1000);
    this.hibernation.unref();
  }

  /** A c2s holds the session again (resumed through it), or the session ended. */
  attach(): void {
    clearTimeout(this.hibernation);
    this.hibernation = undefined;
  }

  /** Everything kept, oldest first, and the copy emptied: for the session's end, to be stored or answered. */
  takeAll(): Element[] {
    this.attach();
    const all = [...this.kept.values()].map((k) => k.stanza);
    this.kept.clear();
    this.bytes = 0;
    return all;
  }
}
