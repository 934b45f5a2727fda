// The SQL of an archive query, built once for both backends: the filters of
// XEP-0313 §4.1 as conditions on one user's rows, and the XEP-0059 page as a
// keyset range on (ts, seq) read in one direction. Only the placeholders and
// the full-text condition differ between SQLite and PostgreSQL.

import { COUNT_LIMIT, type ArchivePage, type ArchiveQuery } from './archive.ts';

/** Where an archived id sits in the (ts, seq) order. */
export interface ArchiveKey {
  ts: number;
  seq: number;
}

export interface QueryDialect {
  /** The placeholder for the next parameter (`?` or `$n`). */
  param(values: unknown[], value: unknown): string;
  /** A condition matching the user's rows whose text contains every word of `text`, or undefined when `text` has none. */
  fullText(values: unknown[], text: string, username: string): string | undefined;
}

export interface BuiltQuery {
  /** COUNT(*) of the result set, up to COUNT_LIMIT + 1 rows (more is not counted). */
  countSql: string;
  countValues: unknown[];
  pageSql: string;
  pageValues: unknown[];
  /** The page was read newest first and must be reversed. */
  backwards: boolean;
}

/**
 * Builds the count and page statements. `keys` holds the (ts, seq) of every
 * id the query names (afterId, beforeId, after, before), already looked up.
 */
export function buildArchiveQuery(
  table: string,
  host: string,
  username: string,
  q: ArchiveQuery,
  keys: ReadonlyMap<string, ArchiveKey>,
  dialect: QueryDialect,
): BuiltQuery {
  const values: unknown[] = [];
  const p = (v: unknown) => dialect.param(values, v);
  const where = [`host = ${p(host)}`, `username = ${p(username)}`];
  if (q.with !== undefined) {
    if (q.with.includes('/')) where.push(`with_bare = ${p(q.with.slice(0, q.with.indexOf('/')))}`, `with_full = ${p(q.with)}`);
    else where.push(`with_bare = ${p(q.with)}`);
  }
  if (q.start) where.push(`ts >= ${p(q.start.getTime())}`);
  if (q.end) where.push(`ts <= ${p(q.end.getTime())}`);
  const after = (k: ArchiveKey) => `(ts, seq) > (${p(k.ts)}, ${p(k.seq)})`;
  const before = (k: ArchiveKey) => `(ts, seq) < (${p(k.ts)}, ${p(k.seq)})`;
  if (q.afterId !== undefined) where.push(after(keys.get(q.afterId)!));
  if (q.beforeId !== undefined) where.push(before(keys.get(q.beforeId)!));
  if (q.ids !== undefined) where.push(q.ids.length === 0 ? '1 = 0' : `id IN (${q.ids.map((id) => p(id)).join(', ')})`);
  if (q.fullText !== undefined) where.push(dialect.fullText(values, q.fullText, username) ?? '1 = 0');
  const countValues = values.slice();
  // The count stops at COUNT_LIMIT + 1 rows: an index range of that many costs ~1 ms, a user's whole archive 100×.
  const countSql = `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${table} WHERE ${where.join(' AND ')} LIMIT ${COUNT_LIMIT + 1}) AS counted`;

  const backwards = q.before !== undefined;
  if (q.after !== undefined) where.push(after(keys.get(q.after)!));
  if (q.before !== undefined && q.before !== '') where.push(before(keys.get(q.before)!));
  const order = backwards ? 'ts DESC, seq DESC' : 'ts, seq';
  // One row more than the page: whether it exists says whether the page is the last one (XEP-0313 §4.3 complete).
  const pageSql = `SELECT id, ts, with_full, stanza FROM ${table} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${p(q.max + 1)}`;
  return { countSql, countValues, pageSql, pageValues: values, backwards };
}

/** The ids a query names, which must each be in the archive. */
export function idsToResolve(q: ArchiveQuery): string[] {
  const out: string[] = [];
  if (q.afterId !== undefined) out.push(q.afterId);
  if (q.beforeId !== undefined) out.push(q.beforeId);
  if (q.after !== undefined) out.push(q.after);
  if (q.before !== undefined && q.before !== '') out.push(q.before);
  return out;
}

/** The query has no filter, so the count is the user's whole archive. */
export function unfiltered(q: ArchiveQuery): boolean {
  return q.with === undefined && !q.start && !q.end && q.afterId === undefined && q.beforeId === undefined && q.ids === undefined && q.fullText === undefined;
}

/** A row of a page as the backends read it. */
export interface ArchiveRow {
  id: string;
  ts: number;
  with_full: string;
  stanza: string;
}

/** The rows read (one more than a page, perhaps) as a page, oldest first. */
/** What a capped count tells: the count, or undefined when the set was larger than COUNT_LIMIT. */
export function cappedCount(n: number): number | undefined {
  return n > COUNT_LIMIT ? undefined : n;
}

export function toPage(rows: ArchiveRow[], max: number, backwards: boolean, count: number | undefined): ArchivePage {
  const complete = rows.length <= max;
  const page = rows.slice(0, max);
  if (backwards) page.reverse();
  return { messages: page.map((r) => ({ id: r.id, timestamp: new Date(r.ts), with: r.with_full, stanza: r.stanza })), count, complete };
}
