// What a shard's owner does with an envelope while it cannot be sure the
// shard is still its own. An owner that was paused (a stopped process, a long
// GC) or cut off (NATS away) past its lease's TTL is not "fresh" (lease.ts
// isFresh): another process may own the shard now and be sent the same
// envelopes. Served here before the owner knows, they would be served twice.
// So they wait for a renewal made at once: still ours, they are served in
// order; taken, each is refused (answered to its sender by the caller) —
// never served twice, never dropped. Used by the sm's shards and by the
// services' (service/service-host.ts).

import type { Envelope } from './envelope.ts';

/** One shard's lease, as the gate asks it (router/shard-claims.ts `fresh(k)` and `confirm(k)`). */
export interface LeaseFreshness {
  fresh(): boolean;
  /** Renews now; true when the lease is still this process's and fresh. */
  confirm(): Promise<boolean>;
}

export interface FreshnessGateOptions {
  /** Most envelopes held while the renewal runs; past it they are refused at once. */
  limit: number;
  serve(envelope: Envelope): void;
  refuse(envelope: Envelope): void;
  /** The renewal found the lease taken (or could not tell): `count` envelopes were refused. */
  unconfirmed?(count: number): void;
}

export class FreshnessGate {
  private waiting: Envelope[] | undefined;

  constructor(
    private readonly lease: LeaseFreshness,
    private readonly options: FreshnessGateOptions,
  ) {}

  receive(envelope: Envelope): void {
    if (this.waiting === undefined && this.lease.fresh()) return this.options.serve(envelope);
    if (this.waiting !== undefined) {
      if (this.waiting.length >= this.options.limit) return this.options.refuse(envelope);
      this.waiting.push(envelope);
      return;
    }
    const waiting = (this.waiting = [envelope]);
    void this.lease
      .confirm()
      .catch(() => false)
      .then((ours) => {
        this.waiting = undefined;
        if (!ours) this.options.unconfirmed?.(waiting.length);
        for (const held of waiting) {
          if (ours) this.options.serve(held);
          else this.options.refuse(held);
        }
      });
  }
}
