// Copying one store into another (`switchboard migrate`, cli/migrate.ts):
// every port's records through its BulkCopy, a page at a time, each batch one
// transaction in the target, then both stores tallied and compared. Nothing
// here knows a table: a port that gains data gains it in its BulkCopy, and the
// contract suite (bulk-contract.ts) checks each backend's copy round-trips.
//
// Safety: the target must be empty, or the copy is a resumption (`resume`) of
// one from the same source, which the stores make harmless: a record whose key
// the target holds is skipped. While a copy runs, the target carries a mark
// (MIGRATION_MARK) that only a copy ending with equal counts removes: a server
// refuses to open a store with it (open.ts), and a copy refuses it as a source.
// A copy that stops half-way never reports success nor leaves a store that
// looks finished.

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

/**
 * The mark of a copy under way: one user-data value outside every account (empty user and host, which no
 * account can have). It says where the copy came from and when it began.
 */
export const MIGRATION_MARK = { username: '', host: '', kind: 'switchboard:migrate', key: 'incomplete' } as const;

/** What the mark says, when the store is the target of a copy that has not finished. */
export async function unfinishedCopy(storage: Storage): Promise<string | undefined> {
  const m = MIGRATION_MARK;
  return storage.userData.get(m.username, m.host, m.kind, m.key);
}

async function mark(target: Storage, note: string | undefined): Promise<void> {
  const m = MIGRATION_MARK;
  if (note === undefined) await target.userData.delete(m.username, m.host, m.kind, m.key);
  else await target.userData.set(m.username, m.host, m.kind, m.key, note);
}

export interface CopyOptions {
  /** Records per page and per target transaction (whole users for rosters and offline queues: a tenth of it). Default 1,000. */
  batch?: number;
  /** Go on with a target an earlier, interrupted copy from the same source began. */
  resume?: boolean;
  /** Where the copy comes from, for the mark a server finds on an unfinished target. */
  from?: string;
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
  | { ok: false; reason: 'target-not-empty'; target: Record<string, number>; unfinished?: string }
  /** Nothing was written: the source is itself the target of a copy that has not finished (what it says). */
  | { ok: false; reason: 'source-unfinished'; mark: string }
  /** Everything was copied but the tallies differ (the source changed under the copy, or a store lost records). */
  | { ok: false; reason: 'counts-differ'; counts: CountLine[]; written: Record<PortName, number> };

export async function copyStorage(source: Storage, target: Storage, options: CopyOptions = {}): Promise<CopyResult> {
  const batch = options.batch ?? 1000;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  const unfinished = await unfinishedCopy(source);
  if (unfinished !== undefined) return { ok: false, reason: 'source-unfinished', mark: unfinished };
  const before = await tallyStorage(target);
  const markOf = await unfinishedCopy(target);
  if (!options.resume && Object.values(before).some((n) => n > 0)) return { ok: false, reason: 'target-not-empty', target: before, ...(markOf === undefined ? {} : { unfinished: markOf }) };
  // A resumption keeps the first run's mark (and its note); a first run sets it before writing anything else.
  if (markOf === undefined) await mark(target, JSON.stringify({ from: options.from ?? source.kind, startedAt: new Date().toISOString() }));
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
  // The mark is counted with user data: tally without it, and put it back if the counts differ.
  const note = await unfinishedCopy(target);
  await mark(target, undefined);
  const [s, t] = await Promise.all([tallyStorage(source), tallyStorage(target)]);
  const counts = Object.keys(s).map((what) => ({ what, source: s[what]!, target: t[what] ?? 0 }));
  if (counts.every((c) => c.source === c.target)) return { ok: true, counts, written };
  await mark(target, note ?? '{}');
  return { ok: false, reason: 'counts-differ', counts, written };
}
