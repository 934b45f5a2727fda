// Timers are injected so tests can drive Retrying with a fake clock
// (undici's swappable timers); the default is the platform's.

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
};

export interface RetryPolicy {
  /** First wait, ms (3000 by default). */
  delayMs: number;
  /** Each further wait is multiplied by this (1: constant). */
  backoff: number;
  maxDelayMs: number;
  /** 0..1: the wait is randomised by up to this fraction either way. */
  jitter: number;
  /** Give up after this many failed attempts in a row (Infinity: never). */
  maxAttempts: number;
  /** A session the server ends with a stream error sooner than this after it came up counts towards a loop (ms, default 30000). */
  stableMs: number;
  /** Stop with SB_ERR_LOOP after this many such sessions in a row (default 5). */
  maxQuickStreamErrors: number;
}

export const DEFAULT_RETRY: RetryPolicy = { delayMs: 3000, backoff: 1, maxDelayMs: 60_000, jitter: 0, maxAttempts: Infinity, stableMs: 30_000, maxQuickStreamErrors: 5 };

export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.delayMs * policy.backoff ** Math.max(0, attempt - 1));
  if (policy.jitter <= 0) return base;
  return Math.max(0, Math.round(base * (1 + policy.jitter * (2 * random() - 1))));
}
