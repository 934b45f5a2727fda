// Group commit for the archive: the entries asked for during one turn of the
// event loop go to storage in one transaction, and every caller learns the
// outcome of that transaction. Under load one commit carries the messages of
// many sessions, so the per-message cost of archiving is the rows, not the
// commit; when idle a message waits at most one turn.

import type { ArchiveEntry, MessageArchive } from '../../../storage/archive.ts';

export class ArchiveWriter {
  private pending: ArchiveEntry[] = [];
  private flush: Promise<void> | undefined;

  constructor(
    private readonly archive: MessageArchive,
    /** Most entries in one transaction; more wait for the next. */
    private readonly maxBatch = 2000,
  ) {}

  /** Resolves once the entries are stored; rejects (StorageError) when the transaction that carried them failed. */
  write(entries: readonly ArchiveEntry[]): Promise<void> {
    if (this.pending.length + entries.length > this.maxBatch && this.pending.length > 0) {
      // This batch is full: the caller joins the next one, after it.
      const full = this.flush!;
      return full.then(
        () => this.write(entries),
        () => this.write(entries),
      );
    }
    for (const e of entries) this.pending.push(e);
    this.flush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const batch = this.pending;
      this.pending = [];
      this.flush = undefined;
      return this.archive.append(batch);
    });
    return this.flush;
  }
}
