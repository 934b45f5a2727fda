// Per-connection inbound byte rate (RFC 6120 §13.12 item 3): a token bucket.
// Over the rate the c2s stops reading for a while rather than dropping data,
// so TCP back-pressure slows the sender and other clients are unaffected.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes `n` tokens; returns how many ms to wait before reading more (0 when within the rate). */
  take(n: number): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
    this.last = now;
    this.tokens -= n;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens * 1000) / this.ratePerSecond);
  }
}
