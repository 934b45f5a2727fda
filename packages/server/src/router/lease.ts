// Exclusive ownership of a router address across processes (#17): a second
// sm on the same prefix must never process the same stanzas. The owner holds
// a key in a JetStream KV bucket whose entries expire after `ttlMs`; it
// renews the key with a revision check well before then. Another process
// can create the key only once it is gone (deleted on release, or expired
// when the owner died), so it waits as a standby and takes over within
// ttlMs (plus its polling interval) of the owner's death.
//
// If a renewal finds the key taken by someone else (the owner was paused or
// cut off past the TTL), the lease is lost and `onLost` fences the owner:
// it must stop serving at once. The remaining double-processing window is a
// pause longer than the TTL between two renewals of a process that is still
// connected; docs/protocol.md says so.

import type { KV, NatsConnection } from 'nats';
import { log } from '../log-line.ts';

const encoder = new TextEncoder();

export interface LeaseOptions {
  /** An entry not renewed for this long expires (default 3000 ms). */
  ttlMs: number;
  /** What the lease says about its holder (its epoch, its host), for people reading the bucket. */
  holder: string;
  /** Called once if the lease is lost while held: stop serving now. */
  onLost: () => void;
}

export class Lease {
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private closed = false;
  /** When the entry was last written by us (created or renewed): it is ours for ttlMs from then at least. */
  private renewedAt = 0;
  private renewing: Promise<void> | undefined;

  private constructor(
    private readonly kv: KV,
    private readonly key: string,
    private readonly options: LeaseOptions,
  ) {}

  /** The bucket `<prefix>_leases` (created on first use), and the key for `address`. */
  static async open(nc: NatsConnection, prefix: string, address: string, options: LeaseOptions): Promise<Lease> {
    return Lease.inBucket(await Lease.bucket(nc, prefix, options.ttlMs), address, options);
  }

  /** The KV bucket of the leases on `prefix`, whose entries expire after `ttlMs`. */
  static bucket(nc: NatsConnection, prefix: string, ttlMs: number): Promise<KV> {
    return nc.jetstream().views.kv(`${prefix}_leases`.replace(/[^A-Za-z0-9_-]/g, '_'), { ttl: ttlMs, history: 1 });
  }

  /** The lease of `address` in an opened bucket. */
  static inBucket(kv: KV, address: string, options: LeaseOptions): Lease {
    return new Lease(kv, address.replace(/[^A-Za-z0-9_=-]/g, '_'), options);
  }

  /** One attempt: true when this process now holds the lease (and renews it), false when someone else does. */
  async tryAcquire(): Promise<boolean> {
    if (this.held) return true;
    try {
      this.revision = await this.kv.create(this.key, encoder.encode(this.options.holder));
    } catch {
      return false;
    }
    this.renewedAt = Date.now();
    this.held = true;
    this.closed = false;
    log('info', `lease ${this.key} acquired`, undefined, 'lease.acquired');
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.options.ttlMs / 3)));
    this.timer.unref();
    return true;
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** Waits until this process holds the lease (at once if nobody does), polling as a standby meanwhile. */
  async acquire(): Promise<void> {
    let saidStandby = false;
    const pollMs = Math.max(100, Math.floor(this.options.ttlMs / 6));
    while (!this.closed) {
      try {
        this.revision = await this.kv.create(this.key, encoder.encode(this.options.holder));
        this.renewedAt = Date.now();
        this.held = true;
        log('info', `lease ${this.key} acquired`, undefined, 'lease.acquired');
        this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.options.ttlMs / 3)));
        this.timer.unref();
        return;
      } catch {
        if (!saidStandby) log('info', `lease ${this.key} is held by another process: standing by`, undefined, 'lease.standby');
        saidStandby = true;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
    throw new Error('lease closed before it was acquired');
  }

  /**
   * Held, and renewed within the TTL by this process's clock: nobody else can hold it now. An owner that was
   * paused (a stopped process, a long GC, a migrated VM) past the TTL is held but not fresh until it renews: it
   * may have been taken meanwhile, and serving before it knows would serve twice.
   */
  get isFresh(): boolean {
    return this.held && Date.now() - this.renewedAt < this.options.ttlMs;
  }

  /** Renews now (or joins the renewal under way) and says whether the lease is held and fresh after it. */
  async confirm(): Promise<boolean> {
    await this.renew();
    return this.isFresh;
  }

  private renew(): Promise<void> {
    // One renewal at a time: two with the same revision would make the second look like a lost lease.
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    if (!this.held) return;
    const started = Date.now();
    try {
      this.revision = await this.kv.update(this.key, encoder.encode(this.options.holder), this.revision);
      this.renewedAt = started;
      return;
    } catch {
      // Our entry expired (an outage longer than the TTL) or another holder wrote it: take it back if it is free.
    }
    try {
      this.revision = await this.kv.create(this.key, encoder.encode(this.options.holder));
      this.renewedAt = started;
      return;
    } catch (err) {
      // Taken by someone else, or NATS unreachable: only the first means lost; the next renewal finds out.
      if (!(await this.takenByOther())) return;
      void err;
    }
    this.held = false;
    clearInterval(this.timer);
    log('error', `lease ${this.key} lost to another process: fencing`, undefined, 'lease.lost');
    this.options.onLost();
  }

  private async takenByOther(): Promise<boolean> {
    try {
      const entry = await this.kv.get(this.key);
      return entry !== null && entry.operation === 'PUT' && new TextDecoder().decode(entry.value) !== this.options.holder;
    } catch {
      return false;
    }
  }

  /** Gives the lease up at once (a clean stop), so a standby takes over without waiting for the TTL. */
  async release(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (!this.held) return;
    this.held = false;
    await this.kv.delete(this.key, { previousSeq: this.revision }).catch(() => undefined);
    log('info', `lease ${this.key} released`, undefined, 'lease.released');
  }
}
