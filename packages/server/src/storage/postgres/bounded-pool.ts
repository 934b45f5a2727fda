// A pg Pool that treats an outage as weather (#17): every call is bounded by
// the pool's timeouts, and once a call has failed because the server is
// unreachable or hung, the following ones fail at once for a short while
// (a circuit breaker) instead of each waiting out its own timeout. So while
// PostgreSQL is down, what needs it is refused quickly with a stanza error,
// and what does not (online chat) is not held up behind it. One call is let
// through after the pause to find out whether the server is back.

import pg from 'pg';
import { channels } from '../../diagnostics.ts';

export class StorageUnavailable extends Error {
  readonly code = 'SB_ERR_STORAGE_UNAVAILABLE';
  constructor(cause?: unknown) {
    super('the database is unreachable', { cause });
  }
}

/** A failure of the server or the way to it, not of the statement (SQLSTATE classes 08, 53, 57; socket errors; timeouts). */
export function isOutage(err: unknown): boolean {
  if (err instanceof StorageUnavailable) return true;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(08|53|57)/.test(code);
  return true;
}

export class BoundedPool extends pg.Pool {
  private openUntil = 0;
  private probing = false;
  private down = false;

  constructor(
    config: pg.PoolConfig,
    /** How long calls fail at once after an outage was seen. */
    private readonly pauseMs: number,
  ) {
    super(config);
  }

  private admit(): boolean {
    if (Date.now() >= this.openUntil) return true;
    return false;
  }

  private failed(err: unknown): void {
    if (!isOutage(err)) return;
    this.openUntil = Date.now() + this.pauseMs;
    if (!this.down) {
      this.down = true;
      channels.backendState.publish({ backend: 'postgres', state: 'disconnected', detail: err instanceof Error ? err.message : String(err) });
    }
  }

  private succeeded(): void {
    if (!this.down) return;
    this.down = false;
    this.openUntil = 0;
    channels.backendState.publish({ backend: 'postgres', state: 'connected', detail: 'reachable again' });
  }

  private guard<T>(call: () => Promise<T>): Promise<T> {
    if (!this.admit()) {
      // Paused: one probe at a time finds out whether the server is back; the rest fail at once.
      if (this.probing) return Promise.reject(new StorageUnavailable());
    }
    const probe = this.down;
    if (probe) this.probing = true;
    return call().then(
      (r) => {
        if (probe) this.probing = false;
        this.succeeded();
        return r;
      },
      (err: unknown) => {
        if (probe) this.probing = false;
        this.failed(err);
        throw err;
      },
    );
  }

  // Only the promise forms are used by the stores.
  override query(...args: unknown[]): never {
    return this.guard(() => (super.query as (...a: unknown[]) => Promise<unknown>).apply(this, args)) as never;
  }

  override connect(...args: unknown[]): never {
    if (args.length > 0) return (super.connect as (...a: unknown[]) => never).apply(this, args);
    return this.guard(() => (super.connect as () => Promise<pg.PoolClient>).call(this)) as never;
  }
}
