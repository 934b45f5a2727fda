// Copying one store into another (`switchboard migrate`, cli/migrate.ts):
// every port's records through its BulkCopy, a page at a time, each batch one
// transaction in the target, then both stores tallied and compared. Nothing
// here knows a table: a port that gains data gains it in its BulkCopy, and the
// contract suite (bulk-contract.ts) checks each backend's copy round-trips.
//
// Safety: the target must be empty, or the copy is a resumption (`resume`) of
// one from the same source, which the stores make harmless: a record whose key
// the target holds is skipped. A copy that stops half-way leaves a target
// that fails the count check, and says so; it never reports success.

import type { BulkCopy, Storage } from './ports.ts';

/** The ports in the order they are copied (accounts first: everything else belongs to one). */
export const COPY_ORDER = ['accounts', 'rosters', 'offline', 'userData', 'archive', 'archivePrefs', 'muc', 'fastTokens'] as const;
export type PortName = (typeof COPY_ORDER)[number];

export function bulkOf(storage: Storage, port: PortName): BulkCopy<unknown> {
  switch (port) {
    case 'archive':
      return storage.archive.bulk;
    case 'archivePrefs':
      return storage.archive.prefsBulk;
    default:
      return storage[port].bulk as BulkCopy<unknown>;
  }
}

/** Every port's tally, flattened: accounts, rosters, rosterItems, offlineMessages, … */
export async function tallyStorage(storage: Storage): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const port of COPY_ORDER) Object.assign(out, await bulkOf(storage, port).tally());
  return out;
}

export interface CopyOptions {
  /** Records per page and per target transaction (whole users for rosters and offline queues: a tenth of it). Default 1,000. */
  batch?: number;
  /** Go on with a target an earlier, interrupted copy from the same source began. */
  resume?: boolean;
  /** After each batch: the port, records read from the source so far, and written to the target. */
  progress?(port: PortName, read: number, written: number): void;
}

export interface CountLine {
  what: string;
  source: number;
  target: number;
}

export type CopyResult =
  | { ok: true; counts: CountLine[]; written: Record<PortName, number> }
  /** Nothing was written: the target holds data and this is not a resumption. */
  | { ok: false; reason: 'target-not-empty'; target: Record<string, number> }
  /** Everything was copied but the tallies differ (the source changed under the copy, or a store lost records). */
  | { ok: false; reason: 'counts-differ'; counts: CountLine[]; written: Record<PortName, number> };

export async function copyStorage(source: Storage, target: Storage, options: CopyOptions = {}): Promise<CopyResult> {
  const batch = options.batch ?? 1000;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  const before = await tallyStorage(target);
  if (!options.resume && Object.values(before).some((n) => n > 0)) return { ok: false, reason: 'target-not-empty', target: before };
  const written = Object.fromEntries(COPY_ORDER.map((p) => [p, 0])) as Record<PortName, number>;
  for (const port of COPY_ORDER) {
    const from = bulkOf(source, port);
    const to = bulkOf(target, port);
    const limit = port === 'rosters' || port === 'offline' ? Math.max(1, Math.floor(batch / 10)) : batch;
    let read = 0;
    let cursor: string | undefined;
    do {
      // One page in memory at a time: a million-message archive is a thousand pages, not one array.
      const page = await from.exportPage(cursor, limit);
      if (page.records.length > 0) written[port] += await to.importRecords(page.records);
      read += page.records.length;
      options.progress?.(port, read, written[port]);
      cursor = page.next;
    } while (cursor !== undefined);
  }
  const [s, t] = await Promise.all([tallyStorage(source), tallyStorage(target)]);
  const counts = Object.keys(s).map((what) => ({ what, source: s[what]!, target: t[what] ?? 0 }));
  return counts.every((c) => c.source === c.target) ? { ok: true, counts, written } : { ok: false, reason: 'counts-differ', counts, written };
}
