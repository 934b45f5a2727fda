// Archive retention: messages older than the configured age go, and users
// over the per-user limit lose their oldest messages. The work is done in
// small batches with a turn of the event loop between them, so a sweep over
// a large archive never holds the message path for more than one batch.

import type { MessageArchive } from '../../../storage/archive.ts';

export interface SweepOptions {
  /** Messages older than this many seconds are removed; 0 keeps them forever. */
  expirySeconds: number;
  /** Most messages kept per user; 0 for no limit. */
  maxPerUser: number;
  /** Messages removed per batch, and users looked at per step of the limit walk. */
  batch: number;
  /** Seconds between sweeps. */
  intervalSeconds: number;
  now?: () => number;
}

export interface SweepReport {
  expired: number;
  trimmed: number;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class ArchiveSweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepReport> | undefined;
  private stopped = false;

  constructor(
    private readonly archive: MessageArchive,
    private readonly options: SweepOptions,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Whether there is anything to sweep for. */
  get enabled(): boolean {
    return this.options.expirySeconds > 0 || this.options.maxPerUser > 0;
  }

  start(): void {
    if (!this.enabled || this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => {
      if (!this.running) void this.runOnce().catch(this.onError);
    }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep under way to finish its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One whole sweep, in batches; a second call while one runs joins it. */
  runOnce(): Promise<SweepReport> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<SweepReport> {
    const { expirySeconds, maxPerUser, batch } = this.options;
    const report: SweepReport = { expired: 0, trimmed: 0 };
    if (expirySeconds > 0) {
      const before = new Date((this.options.now ?? Date.now)() - expirySeconds * 1000);
      for (;;) {
        if (this.stopped) return report;
        const n = await this.archive.expire(before, batch);
        report.expired += n;
        if (n < batch) break;
        await nextTurn();
      }
    }
    if (maxPerUser > 0) {
      let from: { host: string; username: string } | undefined;
      do {
        if (this.stopped) return report;
        const step = await this.archive.overLimit(maxPerUser, batch, from);
        for (const user of step.users) {
          for (;;) {
            await nextTurn();
            if (this.stopped) return report;
            const n = await this.archive.trim(user.username, user.host, maxPerUser, batch);
            report.trimmed += n;
            if (n < batch) break;
          }
        }
        from = step.next;
        await nextTurn();
      } while (from);
    }
    return report;
  }
}
