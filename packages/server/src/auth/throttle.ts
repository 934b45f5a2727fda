// Password-guessing defence: failed authentications are counted per client
// address and per account, and past a free allowance each further failure
// doubles a back-off (exponential, capped). While an address or an account
// is backing off, attempts are refused at once with SASL
// temporary-auth-failure (RFC 6120 §6.5.12) without looking at the password,
// so parallel connections gain nothing; the failure reply itself is held
// for the back-off (capped) so a sequential client just sees slow failures.
// Both tables are bounded: past `maxTracked` keys the one that failed least
// recently is forgotten, and every key is forgotten `forgetAfterMs` after
// its last failure.
//
// The per-account table is what stops a botnet guessing one password from
// many addresses; its price is that the same botnet can hold an account in
// back-off. The defaults keep that back-off short (a minute at most).

export interface AuthThrottleConfig {
  /** Failures from one address (an IPv6 address counts as its /64) before back-off begins. */
  addressFreeFailures: number;
  /** Failures for one account, from anywhere, before back-off begins. */
  accountFreeFailures: number;
  /** The first back-off; each further failure doubles it. */
  baseDelayMs: number;
  /** The longest back-off. */
  maxDelayMs: number;
  /** The longest a failure reply is held (the rest of the back-off refuses attempts instead). */
  maxReplyDelayMs: number;
  /** A key's failures are forgotten this long after its last one. */
  forgetAfterMs: number;
  /** Most addresses, and most accounts, tracked at once. */
  maxTracked: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleConfig = {
  addressFreeFailures: 5,
  accountFreeFailures: 10,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxReplyDelayMs: 5000,
  forgetAfterMs: 15 * 60_000,
  maxTracked: 100_000,
};

/** One address's or account's failures (also the value of a cluster's shared entry, shared-throttle.ts). */
export interface FailureEntry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}
type Entry = FailureEntry;

/**
 * The entry after one more failure at `now`: past `free` failures each one
 * doubles the back-off (from baseDelayMs, capped at maxDelayMs); failures
 * older than forgetAfterMs are forgotten first.
 */
export function nextFailure(prev: FailureEntry | undefined, free: number, config: AuthThrottleConfig, now: number): FailureEntry {
  const failures = (prev && now - prev.lastFailureAt <= config.forgetAfterMs ? prev.failures : 0) + 1;
  const over = failures - free;
  const delay = over <= 0 ? 0 : Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** Math.min(over - 1, 30));
  return { failures, lastFailureAt: now, blockedUntil: now + delay };
}

/** A Map that forgets its oldest-touched key past `max` (touching = setting). */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number; by: 'address' | 'account' };

export class AuthThrottle {
  private readonly addresses: BoundedMap<string, Entry>;
  private readonly accounts: BoundedMap<string, Entry>;

  constructor(
    readonly config: AuthThrottleConfig = DEFAULT_AUTH_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {
    this.addresses = new BoundedMap(config.maxTracked);
    this.accounts = new BoundedMap(config.maxTracked);
  }

  /** May `address` try a password for `account` now? */
  admit(address: string, account: string): Admission {
    const now = this.now();
    const byAddress = this.live(this.addresses, addressKey(address), now);
    const byAccount = this.live(this.accounts, account, now);
    const addressWait = byAddress ? byAddress.blockedUntil - now : 0;
    const accountWait = byAccount ? byAccount.blockedUntil - now : 0;
    if (addressWait <= 0 && accountWait <= 0) return { ok: true };
    return addressWait >= accountWait ? { ok: false, retryAfterMs: addressWait, by: 'address' } : { ok: false, retryAfterMs: accountWait, by: 'account' };
  }

  /** A password was tried and was wrong; returns how long to hold the failure reply. */
  failed(address: string, account: string): number {
    const now = this.now();
    const a = this.bump(this.addresses, addressKey(address), this.config.addressFreeFailures, now);
    const b = this.bump(this.accounts, account, this.config.accountFreeFailures, now);
    return Math.min(Math.max(a, b), this.config.maxReplyDelayMs);
  }

  /**
   * The account's owner got in: its own count starts over. The address's
   * does not, or one valid account would let its holder reset the count
   * between guesses at others.
   */
  succeeded(account: string): void {
    this.accounts.delete(account);
  }

  get tracked(): { addresses: number; accounts: number } {
    return { addresses: this.addresses.size, accounts: this.accounts.size };
  }

  private live(table: BoundedMap<string, Entry>, key: string, now: number): Entry | undefined {
    const entry = table.get(key);
    if (entry && now - entry.lastFailureAt > this.config.forgetAfterMs) {
      table.delete(key);
      return undefined;
    }
    return entry;
  }

  private bump(table: BoundedMap<string, Entry>, key: string, free: number, now: number): number {
    const entry = nextFailure(this.live(table, key, now), free, this.config, now);
    table.set(key, entry);
    return entry.blockedUntil - now;
  }
}

/**
 * The key an address is counted under: IPv4 as it is (an IPv4-mapped IPv6
 * address as its IPv4), IPv6 by its /64, the block one subscriber usually
 * holds (RFC 6177), so walking through a /64 gains nothing.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
