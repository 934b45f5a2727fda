// XEP-0198 stream management, the c2s's half: counting what the client
// handled, keeping what we sent until it is acknowledged, and a token to
// resume the session on a new connection. While a resumable stream has no
// connection it "hibernates": the sm session stays up and stanzas for it
// wait here.

import { randomBytes } from 'node:crypto';
import { xml, type Element } from '@switchboard/xml';

export const NS_SM = 'urn:xmpp:sm:3';

/** Ask the client for an ack after this many unacknowledged stanzas. */
const ACK_EVERY = 10;
const MOD = 2 ** 32;

export class StreamManagement {
  readonly token = randomBytes(18).toString('base64url');
  /** Stanzas received from the client (the h we report). */
  inbound = 0;
  /** Stanzas sent to the client and not yet acknowledged, oldest first. */
  private unacked: Element[] = [];
  /** The size in characters of each of `unacked`, and their sum. */
  private sizes: number[] = [];
  /** Characters of the stanzas in `unacked`. */
  unackedBytes = 0;
  /** The h the first entry of `unacked` follows. */
  private acked = 0;

  constructor(readonly resumable: boolean) {}

  enabled(maxSeconds: number): Element {
    return xml('enabled', { xmlns: NS_SM, id: this.resumable ? this.token : undefined, resume: this.resumable ? 'true' : undefined, max: this.resumable ? String(maxSeconds) : undefined });
  }

  received(): void {
    this.inbound = (this.inbound + 1) % MOD;
  }

  /** Records a stanza of `size` characters sent (or held while hibernating); true when it is time to ask for an ack. */
  sent(stanza: Element, size: number): boolean {
    this.unacked.push(stanza);
    this.sizes.push(size);
    this.unackedBytes += size;
    return this.unacked.length % ACK_EVERY === 0;
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
