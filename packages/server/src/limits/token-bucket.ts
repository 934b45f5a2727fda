// A token bucket: `ratePerSecond` tokens a second, at most `burst` in hand.
// One class for every rate the server keeps: the c2s's inbound bytes per
// connection (RFC 6120 §13.12 item 3: over the rate it stops reading for a
// while, so TCP back-pressure slows the sender), the c2s's stanzas per session,
// and a MUC occupant's messages (refused with resource-constraint, not queued).

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

  /** Takes one token if there is one, and runs into no debt when there is not: for callers that refuse rather than wait. */
  tryTake(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
