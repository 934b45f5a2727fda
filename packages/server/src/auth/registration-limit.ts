// XEP-0077 §3.1 leaves abuse to local policy: attempts to create an account
// are limited per client address (an IPv6 address counts as its /64) over a
// sliding window, conflicts included, so registration cannot be used in
// bulk or to probe which names are taken. The table is bounded like the
// login throttle's.

import { addressKey, BoundedMap } from './throttle.ts';

export interface RegistrationLimitConfig {
  /** Attempts to create an account allowed per address in the window. */
  attempts: number;
  windowSeconds: number;
  /** Most addresses tracked (the least recently seen are forgotten). */
  maxTracked: number;
}

export const DEFAULT_REGISTRATION_LIMIT: RegistrationLimitConfig = { attempts: 5, windowSeconds: 600, maxTracked: 100_000 };

export class RegistrationLimiter {
  private readonly recent: BoundedMap<string, number[]>;

  constructor(
    private readonly config: RegistrationLimitConfig = DEFAULT_REGISTRATION_LIMIT,
    private readonly now: () => number = Date.now,
  ) {
    this.recent = new BoundedMap(config.maxTracked);
  }

  /** Records an attempt from `address`; false when the address is over its limit (the attempt is not recorded). */
  attempt(address: string): boolean {
    const key = addressKey(address);
    const now = this.now();
    const since = now - this.config.windowSeconds * 1000;
    const times = (this.recent.get(key) ?? []).filter((t) => t > since);
    if (times.length >= this.config.attempts) {
      this.recent.set(key, times);
      return false;
    }
    times.push(now);
    this.recent.set(key, times);
    return true;
  }
}
