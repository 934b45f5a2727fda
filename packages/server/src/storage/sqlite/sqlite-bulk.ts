// BulkCopy (ports.ts) on SQLite, for `switchboard migrate`: keyed tables are
// read in key order a page at a time (one range scan of the primary key) and
// written back with INSERT … ON CONFLICT DO NOTHING in one transaction per
// batch. Rosters and offline queues travel whole per user.

import type Database from 'better-sqlite3';
import type { Account, BulkCopy, FastTokenRow, MucRoomRecord, OfflineMessage, RosterItem, ScramCredentials, UserDataRecord, UserOffline, UserRoster } from '../ports.ts';
import type { ArchiveEntry, ArchivePrefs, UserArchivePrefs } from '../archive.ts';
import { keyOf, page } from '../bulk.ts';

type Row = Record<string, unknown>;

interface KeyedTable<T> {
  table: string;
  /** The primary key's columns, in order. */
  keys: readonly string[];
  /** Every column, in the order `toRow` gives the values. */
  columns: readonly string[];
  toRecord(row: Row): T;
  toRow(record: T): unknown[];
  /** The record's key values, as in `keys`. */
  keyOf(record: T): string[];
  /** The name the table is tallied under. */
  tally: string;
}

/** A table copied row for row by its primary key. */
export function keyedBulk<T>(db: Database.Database, spec: KeyedTable<T>): BulkCopy<T> {
  const cols = spec.columns.join(', ');
  const order = spec.keys.join(', ');
  const first = db.prepare<[number], Row>(`SELECT ${cols} FROM ${spec.table} ORDER BY ${order} LIMIT ?`);
  const after = db.prepare<unknown[], Row>(`SELECT ${cols} FROM ${spec.table} WHERE (${order}) > (${spec.keys.map(() => '?').join(', ')}) ORDER BY ${order} LIMIT ?`);
  const insert = db.prepare(`INSERT INTO ${spec.table} (${cols}) VALUES (${spec.columns.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`);
  const count = db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM ${spec.table}`);
  const importTx = db.transaction((records: readonly T[]) => records.reduce((n, r) => n + insert.run(...spec.toRow(r)).changes, 0));
  return {
    async exportPage(cursor, limit) {
      const rows = cursor === undefined ? first.all(limit) : after.all(...keyOf(cursor, spec.keys.length), limit);
      return page(rows.map(spec.toRecord), limit, spec.keyOf);
    },
    async importRecords(records) {
      return importTx.immediate(records);
    },
    async tally() {
      return { [spec.tally]: count.get()!.n };
    },
  };
}

export function accountsBulk(db: Database.Database): BulkCopy<Account> {
  return keyedBulk<Account>(db, {
    table: 'accounts',
    keys: ['host', 'username'],
    columns: ['host', 'username', 'credentials', 'created_at'],
    // The stored SCRAM keys as they are: a copy never sees or derives a password.
    toRecord: (r) => ({ host: r.host as string, username: r.username as string, credentials: JSON.parse(r.credentials as string) as ScramCredentials, createdAt: new Date(r.created_at as number) }),
    toRow: (a) => [a.host, a.username, JSON.stringify(a.credentials), a.createdAt.getTime()],
    keyOf: (a) => [a.host, a.username],
    tally: 'accounts',
  });
}

export function userDataBulk(db: Database.Database): BulkCopy<UserDataRecord> {
  return keyedBulk<UserDataRecord>(db, {
    table: 'user_data',
    keys: ['host', 'username', 'kind', 'key'],
    columns: ['host', 'username', 'kind', 'key', 'value'],
    toRecord: (r) => ({ host: r.host as string, username: r.username as string, kind: r.kind as string, key: r.key as string, value: r.value as string }),
    toRow: (d) => [d.host, d.username, d.kind, d.key, d.value],
    keyOf: (d) => [d.host, d.username, d.kind, d.key],
    tally: 'userData',
  });
}

export function mucBulk(db: Database.Database): BulkCopy<MucRoomRecord> {
  return keyedBulk<MucRoomRecord>(db, {
    table: 'muc_rooms',
    keys: ['service', 'room'],
    columns: ['service', 'room', 'state', 'public', 'name'],
    toRecord: (r) => ({ service: r.service as string, room: r.room as string, state: r.state as string, public: r.public === 1, name: r.name as string }),
    toRow: (m) => [m.service, m.room, m.state, m.public ? 1 : 0, m.name],
    keyOf: (m) => [m.service, m.room],
    tally: 'mucRooms',
  });
}

export function fastTokensBulk(db: Database.Database): BulkCopy<FastTokenRow> {
  return keyedBulk<FastTokenRow>(db, {
    table: 'fast_tokens',
    keys: ['host', 'username', 'agent', 'slot'],
    columns: ['host', 'username', 'agent', 'slot', 'mechanism', 'key', 'expires_at', 'count'],
    toRecord: (r) => ({
      host: r.host as string,
      username: r.username as string,
      agent: r.agent as string,
      slot: r.slot as 'new' | 'current',
      mechanism: r.mechanism as string,
      key: r.key as string,
      expiresAt: new Date(r.expires_at as number),
      count: r.count as number | null,
    }),
    toRow: (t) => [t.host, t.username, t.agent, t.slot, t.mechanism, t.key, t.expiresAt.getTime(), t.count],
    keyOf: (t) => [t.host, t.username, t.agent, t.slot],
    tally: 'fastTokens',
  });
}

export function archivePrefsBulk(db: Database.Database): BulkCopy<UserArchivePrefs> {
  return keyedBulk<UserArchivePrefs>(db, {
    table: 'archive_prefs',
    keys: ['host', 'username'],
    columns: ['host', 'username', 'prefs'],
    toRecord: (r) => ({ host: r.host as string, username: r.username as string, prefs: JSON.parse(r.prefs as string) as ArchivePrefs }),
    toRow: (p) => [p.host, p.username, JSON.stringify(p.prefs)],
    keyOf: (p) => [p.host, p.username],
    tally: 'archivePrefs',
  });
}

/** Whole rosters: the version row and every item of a user in one record. */
export function rostersBulk(db: Database.Database): BulkCopy<UserRoster> {
  const first = db.prepare<[number], { host: string; username: string; version: number }>('SELECT host, username, version FROM roster_versions ORDER BY host, username LIMIT ?');
  const after = db.prepare<[string, string, number], { host: string; username: string; version: number }>(
    'SELECT host, username, version FROM roster_versions WHERE (host, username) > (?, ?) ORDER BY host, username LIMIT ?',
  );
  const items = db.prepare<[string, string], { item: string }>('SELECT item FROM roster_items WHERE host = ? AND username = ? ORDER BY contact');
  const insertVersion = db.prepare('INSERT INTO roster_versions (host, username, version) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
  const insertItem = db.prepare('INSERT INTO roster_items (host, username, contact, item) VALUES (?, ?, ?, ?)');
  const counts = db.prepare<[], { rosters: number; items: number }>('SELECT (SELECT COUNT(*) FROM roster_versions) AS rosters, (SELECT COUNT(*) FROM roster_items) AS items');
  const importTx = db.transaction((records: readonly UserRoster[]) => {
    let written = 0;
    for (const r of records) {
      // A user whose version row is here already was copied by an earlier run of this batch.
      if (insertVersion.run(r.host, r.username, r.version).changes === 0) continue;
      for (const item of r.items) insertItem.run(r.host, r.username, item.jid, JSON.stringify(item));
      written++;
    }
    return written;
  });
  return {
    async exportPage(cursor, limit) {
      const users = cursor === undefined ? first.all(limit) : after.all(...(keyOf(cursor, 2) as [string, string]), limit);
      const records = users.map((u) => ({ host: u.host, username: u.username, version: u.version, items: items.all(u.host, u.username).map((i) => JSON.parse(i.item) as RosterItem) }));
      return page(records, limit, (r) => [r.host, r.username]);
    },
    async importRecords(records) {
      return importTx.immediate(records);
    },
    async tally() {
      const c = counts.get()!;
      return { rosters: c.rosters, rosterItems: c.items };
    },
  };
}

/** Whole offline queues, oldest first, with the time each message was stored. */
export function offlineBulk(db: Database.Database): BulkCopy<UserOffline> {
  const first = db.prepare<[number], { host: string; username: string }>('SELECT DISTINCT host, username FROM offline_messages ORDER BY host, username LIMIT ?');
  const after = db.prepare<[string, string, number], { host: string; username: string }>(
    'SELECT DISTINCT host, username FROM offline_messages WHERE (host, username) > (?, ?) ORDER BY host, username LIMIT ?',
  );
  const messages = db.prepare<[string, string], { stanza: string; stored_at: number }>('SELECT stanza, stored_at FROM offline_messages WHERE host = ? AND username = ? ORDER BY id');
  const any = db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM offline_messages WHERE host = ? AND username = ? LIMIT 1');
  const insert = db.prepare('INSERT INTO offline_messages (host, username, stanza, stored_at) VALUES (?, ?, ?, ?)');
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM offline_messages');
  const importTx = db.transaction((records: readonly UserOffline[]) => {
    let written = 0;
    for (const r of records) {
      if (r.messages.length === 0 || any.get(r.host, r.username)) continue;
      for (const m of r.messages) insert.run(r.host, r.username, m.stanza, m.storedAt.getTime());
      written++;
    }
    return written;
  });
  return {
    async exportPage(cursor, limit) {
      const users = cursor === undefined ? first.all(limit) : after.all(...(keyOf(cursor, 2) as [string, string]), limit);
      const records = users.map((u) => ({ ...u, messages: messages.all(u.host, u.username).map((m): OfflineMessage => ({ stanza: m.stanza, storedAt: new Date(m.stored_at) })) }));
      return page(records, limit, (r) => [r.host, r.username]);
    },
    async importRecords(records) {
      return importTx.immediate(records);
    },
    async tally() {
      return { offlineMessages: count.get()!.n };
    },
  };
}

/**
 * The archive in archiving order (seq), written back through the archive's own append (`append`:
 * the counters and the full-text index kept as for any message); an id already in the user's
 * archive is skipped.
 */
export function archiveBulk(db: Database.Database, append: (entries: readonly ArchiveEntry[]) => void): BulkCopy<ArchiveEntry> {
  const rows = db.prepare<[number, number], { seq: number; host: string; username: string; id: string; ts: number; with_full: string; stanza: string; body: string | null }>(
    'SELECT seq, host, username, id, ts, with_full, stanza, body FROM archive WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const exists = db.prepare<[string, string, string], { one: number }>('SELECT 1 AS one FROM archive WHERE id = ? AND host = ? AND username = ?');
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM archive');
  const importTx = db.transaction((entries: readonly ArchiveEntry[]) => {
    const fresh = entries.filter((e) => !exists.get(e.id, e.host, e.username));
    if (fresh.length > 0) append(fresh);
    return fresh.length;
  });
  return {
    async exportPage(cursor, limit) {
      const found = rows.all(cursor === undefined ? 0 : Number(keyOf(cursor, 1)[0]), limit);
      const entries = found.map((r): ArchiveEntry => ({
        username: r.username,
        host: r.host,
        id: r.id,
        timestamp: new Date(r.ts),
        with: r.with_full,
        stanza: r.stanza,
        ...(r.body === null ? {} : { body: r.body }),
      }));
      const last = found.at(-1);
      return found.length === limit && last ? { records: entries, next: JSON.stringify([last.seq]) } : { records: entries };
    },
    async importRecords(records) {
      return importTx.immediate(records);
    },
    async tally() {
      return { archive: count.get()!.n };
    },
  };
}
