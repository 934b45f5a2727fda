// Small state shared by every process of a cluster (#18): the login
// failure counts and registration attempts that must not be per process, or
// an attacker alternating c2s processes multiplies the guess rate. It is a
// NATS JetStream KV bucket, as the shard leases are (lease.ts): the cluster
// has NATS by definition, a bucket's `ttl` forgets each entry that long
// after its last write (the throttle's own forgetting, with no sweeper), its
// `max_bytes` caps what an attacker can make it hold, and a revision check
// on each write makes a read-modify-write atomic across processes. Stored
// as the lease bucket is (on the NATS server's disk), so a restart of NATS
// forgets no back-off.
//
// Every call is bounded (`timeoutMs`), and after a failure the table
// answers "unavailable" at once for `pauseMs` instead of each caller
// waiting out its own timeout: its users fall back to their per-process
// state (docs/hardening.md "In a cluster").

import { createHash } from 'node:crypto';
import type { KV, NatsConnection } from 'nats';
import { log } from '../log-line.ts';

export interface SharedTable {
  /** The value under `key`, or undefined (never written, deleted, or forgotten past the TTL). */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores `next(current)` under `key` in one atomic step (retried when another process wrote between); returns it. */
  update<T>(key: string, next: (current: T | undefined) => T): Promise<T>;
  delete(key: string): Promise<void>;
}

export class SharedTableUnavailable extends Error {
  readonly code = 'SB_ERR_SHARED_TABLE_UNAVAILABLE';
  constructor(cause?: unknown) {
    super('the shared table is unreachable', { cause });
  }
}

export interface KvTableOptions {
  /** An entry is forgotten this long after its last write. */
  ttlMs: number;
  /** The most bytes the bucket holds; past it writes fail (and callers fall back). */
  maxBytes: number;
  /** The longest one call may take (default 500 ms). */
  timeoutMs?: number;
  /** After a failure, calls fail at once for this long (default 5 s). */
  pauseMs?: number;
}

const encoder = new TextEncoder();
const ATTEMPTS = 5;

export class KvTable implements SharedTable {
  private downUntil = 0;
  private down = false;

  private constructor(
    private readonly kv: KV,
    private readonly name: string,
    private readonly timeoutMs: number,
    private readonly pauseMs: number,
  ) {}

  /** The bucket `<prefix>_<name>` (created on first use). */
  static async open(nc: NatsConnection, prefix: string, name: string, options: KvTableOptions): Promise<KvTable> {
    const bucket = `${prefix}_${name}`.replace(/[^A-Za-z0-9_-]/g, '_');
    const kv = await nc.jetstream().views.kv(bucket, { ttl: options.ttlMs, history: 1, max_bytes: options.maxBytes });
    return new KvTable(kv, name, options.timeoutMs ?? 500, options.pauseMs ?? 5000);
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.call(async () => {
      const entry = await this.kv.get(kvKey(key));
      return entry && entry.operation === 'PUT' ? (JSON.parse(entry.string()) as T) : undefined;
    });
  }

  update<T>(key: string, next: (current: T | undefined) => T): Promise<T> {
    const k = kvKey(key);
    return this.call(async () => {
      for (let attempt = 1; ; attempt++) {
        const entry = await this.kv.get(k);
        const value = next(entry && entry.operation === 'PUT' ? (JSON.parse(entry.string()) as T) : undefined);
        try {
          // Written only if nobody wrote since our read; else read again.
          if (entry) await this.kv.update(k, encoder.encode(JSON.stringify(value)), entry.revision);
          else await this.kv.create(k, encoder.encode(JSON.stringify(value)));
          return value;
        } catch (err) {
          if (attempt >= ATTEMPTS) throw err;
        }
      }
    });
  }

  delete(key: string): Promise<void> {
    return this.call(() => this.kv.delete(kvKey(key)));
  }

  private async call<T>(op: () => Promise<T>): Promise<T> {
    if (Date.now() < this.downUntil) throw new SharedTableUnavailable();
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        op(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      if (this.down) {
        this.down = false;
        log('info', `shared table ${this.name}: reachable again`, undefined, 'shared-table.up');
      }
      return result;
    } catch (err) {
      this.downUntil = Date.now() + this.pauseMs;
      if (!this.down) {
        this.down = true;
        log('warn', `shared table ${this.name}: unreachable; each process counts on its own until it is back`, err, 'shared-table.down');
      }
      throw new SharedTableUnavailable(err);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A KV-safe key that does not show the account or address it counts (a hash of it). */
function kvKey(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}
