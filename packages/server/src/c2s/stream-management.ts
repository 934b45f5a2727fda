// XEP-0198 stream management, the c2s's half: counting what the client
// handled, keeping what we sent until it is acknowledged, and a token to
// resume the session on a new connection. While a resumable stream has no
// connection it "hibernates": the sm session stays up and stanzas for it
// wait here.
//
// When the sm keeps a copy too (resumption through any c2s, docs/protocol.md),
// the stanzas it sends carry their number in that copy (seq), and this side
// tells the sm, in batches, what entered the queue in which order and what the
// client acknowledged, so that the sm can trim its copy and, if this process
// dies, know what the client has.

import { randomBytes } from 'node:crypto';
import { xml, type Element } from '@switchboard/xml';

export const NS_SM = 'urn:xmpp:sm:3';

/** Ask the client for an ack after this many unacknowledged stanzas. */
const ACK_EVERY = 10;
/** Report to the sm once this many stanzas entered the queue (or after REPORT_MS, or at once when the order is not the sm's). */
export const REPORT_EVERY = 50;
export const REPORT_MS = 10_000;
const MOD = 2 ** 32;

/** What the sm is told in an `acked` report (envelope.ts ResumeFields). */
export interface AckReport {
  h: number;
  /** Seqs in the order they entered the queue; null for a stanza the c2s wrote of its own. */
  written: (number | null)[];
  dropped: number[];
  local: number;
}

export class StreamManagement {
  /** The XEP-0198 id: `<sm session id>.<secret>` when the sm keeps a copy (any c2s may resume it), else the secret alone. */
  readonly token: string;
  /** The unguessable half of the token. */
  readonly secret: string;
  /** Stanzas received from the client (the h we report). */
  inbound = 0;
  /** Stanzas sent to the client and not yet acknowledged, oldest first. */
  private unacked: Element[] = [];
  /** The sm's seq of each of `unacked` (undefined: not in the sm's copy). */
  private seqs: (number | undefined)[] = [];
  /** Since the last report to the sm: what entered the queue, and what was settled without the client. */
  private written: (number | null)[] = [];
  private dropped: number[] = [];
  private lastSeq = 0;
  /** The queue's order is not the one the sm would guess: report at once. */
  urgent = false;
  /** The acknowledged count at the last report. */
  private reportedH = 0;
  /** Client stanzas answered by the c2s itself (never reached the sm), since enable or resumption. */
  local = 0;
  /** The size in characters of each of `unacked`, and their sum. */
  private sizes: number[] = [];
  /** Characters of the stanzas in `unacked`. */
  unackedBytes = 0;
  /** The h the first entry of `unacked` follows. */
  private acked = 0;

  constructor(
    readonly resumable: boolean,
    /** The sm session id when the sm keeps a copy of what it sends (resumption through any c2s). */
    readonly viaSm?: string,
    restored?: { token: string; inbound: number; acked: number; pending: readonly Element[]; seqs: readonly number[] },
  ) {
    if (restored) {
      this.token = restored.token;
      this.secret = restored.token.slice(restored.token.indexOf('.') + 1);
      this.inbound = restored.inbound;
      this.acked = restored.acked;
      this.reportedH = restored.acked;
      for (let i = 0; i < restored.pending.length; i++) {
        const stanza = restored.pending[i]!;
        const size = stanza.toString().length;
        this.unacked.push(stanza);
        this.seqs.push(restored.seqs[i]);
        this.sizes.push(size);
        this.unackedBytes += size;
      }
      this.lastSeq = restored.seqs.at(-1) ?? 0;
      return;
    }
    this.secret = randomBytes(18).toString('base64url');
    this.token = viaSm !== undefined ? `${viaSm}.${this.secret}` : this.secret;
  }

  enabled(maxSeconds: number): Element {
    return xml('enabled', { xmlns: NS_SM, id: this.resumable ? this.token : undefined, resume: this.resumable ? 'true' : undefined, max: this.resumable ? String(maxSeconds) : undefined });
  }

  received(): void {
    this.inbound = (this.inbound + 1) % MOD;
  }

  /**
   * Records a stanza of `size` characters sent (or held while hibernating), with its seq in the sm's
   * copy when it has one; true when it is time to ask for an ack.
   */
  sent(stanza: Element, size: number, seq?: number): boolean {
    this.unacked.push(stanza);
    this.seqs.push(seq);
    this.sizes.push(size);
    this.unackedBytes += size;
    if (this.viaSm !== undefined) {
      this.written.push(seq ?? null);
      // The sm guesses the rest of its copy in order; anything else it must hear of before this process can die.
      if (seq === undefined || seq !== this.lastSeq + 1) this.urgent = true;
      if (seq !== undefined) this.lastSeq = seq;
    }
    return this.unacked.length % ACK_EVERY === 0;
  }

  /** A stanza of the sm's copy settled without reaching the client (XEP-0352 kept only a newer presence). */
  droppedSeq(seq: number | undefined): void {
    if (this.viaSm === undefined || seq === undefined) return;
    this.dropped.push(seq);
    this.urgent = true;
  }

  /** Whether the sm has anything to learn: a batch is full, the order is not its guess, or (`any`) something changed at all. */
  reportDue(any: boolean): boolean {
    if (this.viaSm === undefined) return false;
    if (this.urgent || this.written.length >= REPORT_EVERY) return true;
    return any && (this.written.length > 0 || this.dropped.length > 0 || this.reportedH !== this.acked);
  }

  /** The report for the sm, and the slate wiped. */
  takeReport(): AckReport {
    const report = { h: this.acked, written: this.written, dropped: this.dropped, local: this.local };
    this.written = [];
    this.dropped = [];
    this.urgent = false;
    this.reportedH = this.acked;
    return report;
  }

  /** Stanzas sent and not acknowledged. */
  get unackedCount(): number {
    return this.unacked.length;
  }

  /** Whether h is a count the client may acknowledge: not more than was sent. Changes nothing. */
  canAcknowledge(h: number): boolean {
    if (!Number.isInteger(h) || h < 0 || h >= MOD) return false;
    return (h - this.acked + MOD) % MOD <= this.unacked.length;
  }

  /** How many stanzas were sent in all (mod 2^32): the send-count of handled-count-too-high. */
  get sentCount(): number {
    return (this.acked + this.unacked.length) % MOD;
  }

  /** <a h/> or the h of <resume/>: forget what the client has. False if h acknowledges more than was sent. */
  acknowledge(h: number): boolean {
    if (!this.canAcknowledge(h)) return false;
    const count = (h - this.acked + MOD) % MOD;
    this.unacked.splice(0, count);
    this.seqs.splice(0, count);
    for (const size of this.sizes.splice(0, count)) this.unackedBytes -= size;
    this.acked = h;
    return true;
  }

  /** Everything not acknowledged, to send again after a resumption. */
  pending(): Element[] {
    return [...this.unacked];
  }

  answer(): Element {
    return xml('a', { xmlns: NS_SM, h: String(this.inbound) });
  }

  request(): Element {
    return xml('r', { xmlns: NS_SM });
  }
}
