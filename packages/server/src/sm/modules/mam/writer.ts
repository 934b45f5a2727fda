// Write-behind for the archive: the message path queues its entries and goes
// on (the stanza id was chosen before, in memory), and the queue goes to
// storage in one transaction every `delayMs`. A commit is most of what a
// small transaction costs (SQLite writes every page it touched to the WAL,
// PostgreSQL does a round trip and a WAL flush), so under load one commit
// carries the messages of many sessions: at 1,000 msgs/s and 100 ms, ~100
// messages per commit instead of ~1. What a commit writes in SQLite is mostly
// one index leaf per active user and per-user index, however few entries it
// holds, so the server waits 1 s (config archiveWriteDelayMs): ~2 entries per
// leaf at 1,000 users, ~42 → ~23 µs of storage CPU a message (npm run bench
// -- chat-archive, docs/benchmarks.md). A crash loses up to that much of the
// archive (the messages themselves were delivered).
//
// Nothing is dropped by the queue: it is bounded, and when full the caller
// waits for the flush under way (back-pressure on that session's order) before
// its entries join the queue. A query first waits for everything queued
// before it (read your writes: a client that got a message finds it in the
// archive). When a transaction fails, each message's entries are tried again
// in a transaction of their own, so one bad entry does not take the others
// with it; what fails again is reported once (the module logs and counts it).
// Those messages were delivered.

import type { ArchiveEntry, MessageArchive } from '../../../storage/archive.ts';

export interface ArchiveWriterOptions {
  /** Most time an entry waits in the queue before its transaction starts. */
  delayMs: number;
  /** Entries queued at most; past it callers wait (back-pressure). */
  maxQueue: number;
}

export const DEFAULT_WRITER_OPTIONS: ArchiveWriterOptions = { delayMs: 100, maxQueue: 20_000 };

export class ArchiveWriter {
  /** Queued entries, one group per enqueue (one message's sides, written together or not at all). */
  private pending: (readonly ArchiveEntry[])[] = [];
  private pendingEntries = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The transaction under way, if any: one at a time, so entries reach storage in the order queued. */
  private writing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly archive: MessageArchive,
    private readonly onFailure: (err: unknown, entries: readonly ArchiveEntry[]) => void,
    private readonly options: ArchiveWriterOptions = DEFAULT_WRITER_OPTIONS,
  ) {}

  /** Entries queued, not yet in a transaction. */
  get queued(): number {
    return this.pendingEntries;
  }

  /**
   * Queues the entries (all in the same transaction). Returns undefined when
   * they are queued, or a promise that resolves once they are, when the
   * queue was full.
   */
  enqueue(entries: readonly ArchiveEntry[]): Promise<void> | undefined {
    if (entries.length === 0) return undefined;
    if (this.pendingEntries + entries.length > this.options.maxQueue && this.pendingEntries > 0) return this.waitForRoom(entries);
    this.pending.push(entries);
    this.pendingEntries += entries.length;
    if (this.closed) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.delayMs);
    return undefined;
  }

  private async waitForRoom(entries: readonly ArchiveEntry[]): Promise<void> {
    while (this.pendingEntries + entries.length > this.options.maxQueue && this.pendingEntries > 0) await this.flush();
    this.enqueue(entries);
  }

  /** Writes everything queued before this call; resolves when it is stored or its failure reported. Never rejects. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.writing) await this.writing;
    if (this.pending.length === 0) return;
    const groups = this.pending;
    this.pending = [];
    this.pendingEntries = 0;
    this.writing = this.write(groups);
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }

  private async write(groups: (readonly ArchiveEntry[])[]): Promise<void> {
    try {
      await this.archive.append(groups.length === 1 ? groups[0]! : groups.flat());
      return;
    } catch (err) {
      if (groups.length === 1) {
        this.onFailure(err, groups[0]!);
        return;
      }
    }
    for (const group of groups) {
      try {
        await this.archive.append(group);
      } catch (err) {
        this.onFailure(err, group);
      }
    }
  }

  /** Writes what is queued; entries queued afterwards are written at once. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
