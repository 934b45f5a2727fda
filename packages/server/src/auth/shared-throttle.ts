// The login throttle and the registration limit of a cluster (#18): with
// two c2s processes, per-process tables let an attacker who alternates them
// guess twice as fast. Here each process keeps its own table (throttle.ts,
// registration-limit.ts) and also counts in a table every c2s shares
// (router/shared-table.ts, a NATS KV bucket); a decision takes the stricter
// of the two. When the shared table cannot be reached, the process's own
// table still decides: the gate is never wider than a single process's, and
// logins are not refused for an outage of NATS alone (docs/hardening.md
// "In a cluster"). Clocks: a back-off's end is written as the writer's
// time; the processes of a cluster are expected to keep their clocks in sync (NTP).

import { addressKey, AuthThrottle, BoundedMap, nextFailure, type Admission, type AuthThrottleConfig, type FailureEntry } from './throttle.ts';
import { RegistrationLimiter, type RegistrationLimitConfig } from './registration-limit.ts';
import type { SharedTable } from '../router/shared-table.ts';

/** What a c2s asks of a login throttle: answered at once in one process, after a round trip in a cluster. */
export interface LoginThrottle {
  admit(address: string, account: string): Admission | Promise<Admission>;
  /** A wrong password; resolves to how long to hold the failure reply. */
  failed(address: string, account: string): number | Promise<number>;
  succeeded(account: string): void;
}

/** What a c2s asks of a registration limit. */
export interface RegistrationLimit {
  attempt(address: string): boolean | Promise<boolean>;
}

export class SharedAuthThrottle implements LoginThrottle {
  /** Accounts seen with a shared entry at admission: a success deletes it (and only then writes). */
  private readonly failing: BoundedMap<string, true>;

  constructor(
    private readonly local: AuthThrottle,
    private readonly shared: SharedTable,
    private readonly now: () => number = Date.now,
  ) {
    this.failing = new BoundedMap(local.config.maxTracked);
  }

  get config(): AuthThrottleConfig {
    return this.local.config;
  }

  async admit(address: string, account: string): Promise<Admission> {
    const own = this.local.admit(address, account);
    if (!own.ok) return own;
    let byAddress: FailureEntry | undefined;
    let byAccount: FailureEntry | undefined;
    try {
      [byAddress, byAccount] = await Promise.all([this.shared.get<FailureEntry>(addressSlot(address)), this.shared.get<FailureEntry>(accountSlot(account))]);
    } catch {
      return own; // the shared table is away: this process's count decides (shared-table.ts logs it once)
    }
    if (byAccount) this.failing.set(account, true);
    const now = this.now();
    const addressWait = byAddress ? byAddress.blockedUntil - now : 0;
    const accountWait = byAccount ? byAccount.blockedUntil - now : 0;
    if (addressWait <= 0 && accountWait <= 0) return own;
    return addressWait >= accountWait ? { ok: false, retryAfterMs: addressWait, by: 'address' } : { ok: false, retryAfterMs: accountWait, by: 'account' };
  }

  async failed(address: string, account: string): Promise<number> {
    const ownHold = this.local.failed(address, account);
    const c = this.local.config;
    try {
      const now = this.now();
      const [a, b] = await Promise.all([
        this.shared.update<FailureEntry>(addressSlot(address), (prev) => nextFailure(prev, c.addressFreeFailures, c, now)),
        this.shared.update<FailureEntry>(accountSlot(account), (prev) => nextFailure(prev, c.accountFreeFailures, c, now)),
      ]);
      this.failing.set(account, true);
      return Math.max(ownHold, Math.min(Math.max(a.blockedUntil, b.blockedUntil) - now, c.maxReplyDelayMs));
    } catch {
      return ownHold;
    }
  }

  succeeded(account: string): void {
    this.local.succeeded(account);
    if (this.failing.get(account) === undefined) return;
    this.failing.delete(account);
    // Not awaited: the login goes on; if it fails, the entry is forgotten past its TTL anyway.
    this.shared.delete(accountSlot(account)).catch(() => undefined);
  }
}

export class SharedRegistrationLimit implements RegistrationLimit {
  constructor(
    private readonly local: RegistrationLimiter,
    private readonly config: RegistrationLimitConfig,
    private readonly shared: SharedTable,
    private readonly now: () => number = Date.now,
  ) {}

  async attempt(address: string): Promise<boolean> {
    if (!this.local.attempt(address)) return false;
    const now = this.now();
    const since = now - this.config.windowSeconds * 1000;
    let admitted = false;
    try {
      // The attempts in the window, across the cluster; one more only while under the limit.
      await this.shared.update<number[]>(registrationSlot(address), (prev) => {
        const times = (prev ?? []).filter((t) => t > since);
        admitted = times.length < this.config.attempts;
        return admitted ? [...times, now] : times;
      });
    } catch {
      return true; // this process's window admitted it
    }
    return admitted;
  }
}

const addressSlot = (address: string): string => `login-address:${addressKey(address)}`;
const accountSlot = (account: string): string => `login-account:${account}`;
const registrationSlot = (address: string): string => `register-address:${addressKey(address)}`;
