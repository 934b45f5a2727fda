// Which process serves which shard (#17, docs/protocol.md "Shards" and
// "Service shards"): the sm's shards, and each service domain's. Each
// shard `k` is owned through its own lease (lease.ts: a key in the prefix's
// JetStream KV bucket, created only when absent, renewed with a revision
// check, expiring `ttlMs` after its owner's last renewal). Every process of
// a group (the sm processes; the processes hosting one service domain) also
// keeps a member key alive in the same bucket, so each can count the live
// processes of its group and take its share, ceil(shards / members):
//
// - holding fewer than its share, it tries to create the leases of the
//   shards it lacks (a dead owner's lease expires within ttlMs, and the
//   first to create it after that owns it);
// - holding more (a process joined), it gives one back per round, cleanly:
//   its sm stops (the c2s close that shard's streams, clients reconnect), or
//   its service says goodbye to that shard's users, and the lease is deleted
//   so another takes it at once;
// - a process whose share is none stands by.
//
// Two processes never both serve a shard: the lease is created only when
// absent, and an owner whose renewal finds the key written by another is
// fenced (`onLost`) before it serves again.

import type { KV } from 'nats';
import { Lease } from './lease.ts';
import { log } from '../log-line.ts';

const encoder = new TextEncoder();
const MEMBER_PREFIX = 'member_';

export interface ShardClaimsOptions {
  /** Who shares these shards, e.g. `sm` or a service's domain: members are counted per group. */
  group: string;
  count: number;
  /** Lease lifetime without renewal (and a member's): how long a dead process's shards stay unowned. */
  ttlMs: number;
  /** This process, as written in its leases and member key. */
  holder: string;
  /** The lease key of shard `k` (its router address). */
  keyOf(index: number): string;
  /** This process now owns shard `k`: serve it (attach its sm). */
  acquired(index: number): Promise<void>;
  /** This process gives shard `k` back: stop serving it before the lease goes. */
  releasing(index: number): Promise<void>;
  /** A lease was taken by another process while held: stop serving it now (fence). */
  lost(index: number): void;
}

export class ShardClaims {
  private readonly leases: Lease[];
  private readonly held = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private stopped = false;
  private saidStandby = false;
  private readonly memberPrefix: string;
  private readonly memberKey: string;

  constructor(
    private readonly kv: KV,
    private readonly options: ShardClaimsOptions,
  ) {
    this.leases = Array.from({ length: options.count }, (_, k) =>
      Lease.inBucket(kv, options.keyOf(k), { ttlMs: options.ttlMs, holder: options.holder, onLost: () => this.onLost(k) }),
    );
    // `=` never appears in a safe group name, so one group's prefix is never another's.
    this.memberPrefix = `${MEMBER_PREFIX}${keySafe(options.group).replace(/=/g, '_')}=`;
    this.memberKey = this.memberPrefix + keySafe(options.holder);
  }

  /** The shards this process serves now. */
  get owned(): readonly number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  /** Shard `k` is held and its lease renewed within the TTL (lease.ts isFresh): serving it cannot serve twice. */
  fresh(k: number): boolean {
    return this.held.has(k) && this.leases[k]!.isFresh;
  }

  /** Renews shard `k`'s lease now; true when it is still this process's and fresh (false: lost, or unknown). */
  async confirm(k: number): Promise<boolean> {
    if (!this.held.has(k)) return false;
    return (await this.leases[k]!.confirm()) && this.held.has(k);
  }

  /** Runs the first round, then one every sixth of the TTL (so a dead owner's shards are taken within ttlMs plus a round). */
  async start(): Promise<void> {
    await this.runRound();
    const every = Math.max(100, Math.floor(this.options.ttlMs / 6));
    this.timer = setInterval(() => void this.runRound(), every);
    this.timer.unref();
  }

  /** Resolves once this process owns at least one shard (a standby waits here). */
  async untilServing(): Promise<void> {
    while (!this.stopped && this.held.size === 0) await new Promise((r) => setTimeout(r, 100));
  }

  private runRound(): Promise<void> {
    // One round at a time: a slow KV must not start a second claim of the same shard.
    this.round = this.round.then(() => this.claim()).catch((err: unknown) => log('warn', 'shard claims: a round failed', err, 'shards.round.failed'));
    return this.round;
  }

  private async claim(): Promise<void> {
    if (this.stopped) return;
    await this.kv.put(this.memberKey, encoder.encode(String(this.held.size)));
    const members = await this.members();
    const share = Math.ceil(this.options.count / Math.max(1, members));
    if (this.held.size > share) {
      // A process joined: give one shard back, the highest, cleanly.
      const k = Math.max(...this.held);
      log('info', `shards of ${this.options.group}: ${members} processes, share ${share}: giving shard ${k} back`, undefined, 'shards.rebalance');
      await this.release(k);
      return;
    }
    for (let k = 0; k < this.options.count && this.held.size < share && !this.stopped; k++) {
      if (this.held.has(k)) continue;
      if (!(await this.leases[k]!.tryAcquire())) continue;
      this.held.add(k);
      this.saidStandby = false;
      try {
        await this.options.acquired(k);
      } catch (err) {
        log('error', `shards of ${this.options.group}: serving shard ${k} failed; giving it back`, err, 'shards.acquire.failed');
        await this.release(k);
      }
    }
    if (this.held.size === 0 && !this.saidStandby) {
      this.saidStandby = true;
      log('info', `shards of ${this.options.group}: every shard is owned (${members} processes): standing by`, undefined, 'lease.standby');
    }
  }

  private async members(): Promise<number> {
    let n = 0;
    for await (const key of await this.kv.keys()) if (key.startsWith(this.memberPrefix)) n++;
    return n;
  }

  private async release(k: number): Promise<void> {
    if (!this.held.delete(k)) return;
    await this.options.releasing(k).catch((err: unknown) => log('error', `shards of ${this.options.group}: stopping shard ${k} failed`, err));
    await this.leases[k]!.release();
  }

  private onLost(k: number): void {
    if (!this.held.delete(k)) return;
    this.options.lost(k);
  }

  /** A clean stop: every shard is stopped and its lease deleted, so the others take them at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.round;
    for (const k of [...this.held]) await this.release(k);
    await this.kv.delete(this.memberKey).catch(() => undefined);
  }
}

function keySafe(s: string): string {
  return s.replace(/[^A-Za-z0-9_=-]/g, '_');
}
