// The message archive port (XEP-0313 Message Archive Management, with
// XEP-0059 Result Set Management paging and XEP-0359 stanza ids). Each
// backend keeps one row per archived message and user, ordered by
// (timestamp, insertion sequence); every query below is one indexed range
// scan of one user's rows, so a page costs the same on a large archive as on
// a small one.

import type { BulkCopy } from './ports.ts';

/** A filtered result set larger than this is not counted (ArchivePage.count). An unfiltered one is: a counter keeps it. */
export const COUNT_LIMIT = 10_000;

/** One message as it enters a user's archive. */
export interface ArchiveEntry {
  /** Prepared localpart and domainpart of the archive's owner. */
  username: string;
  host: string;
  /** XEP-0359 stanza id, unique in this user's archive, chosen by the server. */
  id: string;
  timestamp: Date;
  /** The other party: a bare or full JID (XEP-0313 §4.1.1 `with`). */
  with: string;
  /** The message as delivered, serialised. */
  stanza: string;
  /** The text searched by the full-text field (the body, usually). */
  body?: string;
}

/** A message read back from an archive. */
export interface ArchivedMessage {
  id: string;
  timestamp: Date;
  with: string;
  stanza: string;
}

/** The filters of XEP-0313 §4.1 and the #extended ones of §4.1.3 (v1.1), plus XEP-0059 paging. */
export interface ArchiveQuery {
  /** A bare JID matches every resource of it; a full JID only itself. */
  with?: string;
  start?: Date;
  end?: Date;
  /** Only messages after / before this archived id (exclusive). */
  afterId?: string;
  beforeId?: string;
  /** Only these ids. */
  ids?: readonly string[];
  /** Words to find in the message text (ejabberd's `{urn:xmpp:fulltext:0}fulltext`). */
  fullText?: string;
  /** XEP-0059: the page size. */
  max: number;
  /**
   * XEP-0059 §2.2 paging: the page after the item `after`, the page before the
   * item `before`, or with `before: ''` the last page. Without either, the first page.
   */
  after?: string;
  before?: string;
}

export interface ArchivePage {
  /** The page, oldest first. */
  messages: ArchivedMessage[];
  /**
   * Items in the whole result set (filters applied, paging not); undefined when a filtered set is larger than
   * COUNT_LIMIT, which the store does not count (XEP-0059 §2.1: the count is optional, and counting a large
   * archive's range would cost more than the page).
   */
  count: number | undefined;
  /** XEP-0313 §4.3: the page reaches the end of the result set in the paging direction. */
  complete: boolean;
}

/** Expected failures are results: an id named by the query is not in the archive (XEP-0313 §4.1.3, XEP-0059 §2.5). */
export type ArchiveQueryResult = { ok: true; page: ArchivePage } | { ok: false; reason: 'item-not-found'; id: string };

/** XEP-0313 §6: which messages the server archives for a user. */
export type ArchiveDefault = 'always' | 'never' | 'roster';

export interface ArchivePrefs {
  default: ArchiveDefault;
  /** Bare JIDs always archived / never archived, whatever the default. */
  always: string[];
  never: string[];
}

export interface OverLimitUser {
  host: string;
  username: string;
  count: number;
}

export interface MessageArchive {
  /** Adds the entries in one transaction: all of them or, on a storage failure (a rejected StorageError), none. */
  append(entries: readonly ArchiveEntry[]): Promise<void>;
  query(username: string, host: string, query: ArchiveQuery): Promise<ArchiveQueryResult>;
  /** Messages in one user's archive. */
  count(username: string, host: string): Promise<number>;
  /** Messages in every archive: the sum of the per-user counts the store keeps (one row per user, no message scanned). */
  total(): Promise<number>;
  /** Stored preferences, or undefined when the user never set any. */
  getPrefs(username: string, host: string): Promise<ArchivePrefs | undefined>;
  setPrefs(username: string, host: string, prefs: ArchivePrefs): Promise<void>;
  /** Retention: removes at most `batch` messages older than `before`, oldest first; returns how many. */
  expire(before: Date, batch: number): Promise<number>;
  /**
   * Users whose archive holds more than `limit` messages, walked in (host, username)
   * order `scan` users at a time from after `from`; `next` is where the walk goes on.
   */
  overLimit(limit: number, scan: number, from?: { host: string; username: string }): Promise<{ users: OverLimitUser[]; next?: { host: string; username: string } }>;
  /** Removes at most `batch` of the user's oldest messages beyond the newest `keep`; returns how many. */
  trim(username: string, host: string, keep: number, batch: number): Promise<number>;
  /**
   * Every entry of every archive in archiving order, with its id, timestamp and full-text body;
   * written back through the append path (counts and full-text index kept), an id the user's
   * archive holds already skipped.
   */
  readonly bulk: BulkCopy<ArchiveEntry>;
  /** Every user's stored preferences, by (host, username). */
  readonly prefsBulk: BulkCopy<UserArchivePrefs>;
}

export interface UserArchivePrefs {
  username: string;
  host: string;
  prefs: ArchivePrefs;
}

const STORAGE_ERROR = Symbol.for('switchboard.StorageError');

/**
 * A failure of the storage itself (disk, connection, constraint), as opposed
 * to an expected result. Callers answer the sender internal-server-error.
 */
export class StorageError extends Error {
  readonly code = 'SB_ERR_STORAGE';
  readonly [STORAGE_ERROR] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
}

export function isStorageError(value: unknown): value is StorageError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[STORAGE_ERROR] === true;
}

/** Wraps whatever a driver threw. */
export function storageError(what: string, cause: unknown): StorageError {
  if (isStorageError(cause)) return cause;
  return new StorageError(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}

/** The bare form of a JID string (no parsing: the archive stores JIDs the server already prepared). */
export function bareOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}

/**
 * XEP-0313 full text: the words of the query, each quoted, for SQLite FTS5's
 * MATCH (every word must occur in the body), within the rows indexed under
 * the user's name. Quoting keeps FTS5 operators in user input inert.
 */
export function fts5Query(text: string, username: string): string | undefined {
  const quote = (w: string) => `"${w.replaceAll('"', '""')}"`;
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return undefined;
  return `username : ${quote(username)} AND body : (${words.map(quote).join(' ')})`;
}

/**
 * XEP-0313 §5 (archive metadata): the first and the last message of one archive (a user's, or a room's under its
 * localpart and the service's domain), by two one-item pages of the port's query: the first page, and the last
 * (an empty `before`). Both undefined for an empty archive.
 */
export async function archiveEdges(archive: MessageArchive, username: string, host: string): Promise<{ first?: ArchivedMessage; last?: ArchivedMessage }> {
  const first = await archive.query(username, host, { max: 1 });
  const last = await archive.query(username, host, { max: 1, before: '' });
  const start = first.ok ? first.page.messages[0] : undefined;
  const end = last.ok ? last.page.messages.at(-1) : undefined;
  return { ...(start ? { first: start } : {}), ...(end ? { last: end } : {}) };
}

/** The edges as XEP-0313 §5's `<metadata/>` says them: id and time of each. */
export function metadataOf(edges: { first?: ArchivedMessage; last?: ArchivedMessage }): { start?: { id: string; timestamp: Date }; end?: { id: string; timestamp: Date } } {
  const edge = (m: ArchivedMessage | undefined) => m && { id: m.id, timestamp: m.timestamp };
  const start = edge(edges.first);
  const end = edge(edges.last);
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}
