// The message archive in the embedded SQLite store. Its tables migrate by a
// list of their own (archive_schema_version), so the archive's schema moves
// apart from the core one. Full text through an FTS5 index over the `body`
// column (external content: the text is stored once): an append indexes its
// rows with one INSERT … SELECT after them (a trigger per row cost ~4× as
// much, version 2), a delete trigger removes them.

import type Database from 'better-sqlite3';
import type { ArchiveEntry, ArchivePrefs, ArchiveQuery, ArchiveQueryResult, MessageArchive, OverLimitUser } from '../archive.ts';
import { fts5Query, storageError } from '../archive.ts';
import { archiveBulk, archivePrefsBulk } from './sqlite-bulk.ts';
import { buildArchiveQuery, cappedCount, idsToResolve, toPage, unfiltered, type ArchiveKey, type ArchiveRow, type QueryDialect } from '../archive-query.ts';

/** Ordered schema changes of the archive; the index + 1 is its version. Append only. */
export const ARCHIVE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE archive (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     id TEXT NOT NULL,
     ts INTEGER NOT NULL,
     with_bare TEXT NOT NULL,
     with_full TEXT NOT NULL,
     stanza TEXT NOT NULL,
     body TEXT
   );
   CREATE UNIQUE INDEX archive_by_id ON archive (host, username, id);
   -- A page is one range scan of one of these two (per user, or per user and contact).
   CREATE INDEX archive_by_time ON archive (host, username, ts, seq);
   CREATE INDEX archive_by_with ON archive (host, username, with_bare, ts, seq);
   -- Retention removes the oldest messages of every user.
   CREATE INDEX archive_by_age ON archive (ts);
   CREATE TABLE archive_counts (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     n INTEGER NOT NULL,
     PRIMARY KEY (host, username)
   ) WITHOUT ROWID;
   CREATE TABLE archive_prefs (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     prefs TEXT NOT NULL,
     PRIMARY KEY (host, username)
   ) WITHOUT ROWID;
   CREATE VIRTUAL TABLE archive_fts USING fts5 (body, content = 'archive', content_rowid = 'seq');
   CREATE TRIGGER archive_fts_insert AFTER INSERT ON archive WHEN new.body IS NOT NULL BEGIN
     INSERT INTO archive_fts (rowid, body) VALUES (new.seq, new.body);
   END;
   CREATE TRIGGER archive_fts_delete AFTER DELETE ON archive WHEN old.body IS NOT NULL BEGIN
     INSERT INTO archive_fts (archive_fts, rowid, body) VALUES ('delete', old.seq, old.body);
   END;`,
  // 2: the write path made cheaper (issue #21). The id index leads with the id: the server's ids are UUIDv7
  // (time first), so new entries go to one end of it instead of to a random page of each user's range, and a
  // lookup names all three columns anyway. The full-text index is kept by the append (one statement per batch).
  `DROP TRIGGER archive_fts_insert;
   DROP INDEX archive_by_id;
   CREATE UNIQUE INDEX archive_by_id ON archive (id, host, username);`,
  // 3: the full-text index holds the owner's name too, so a search is FTS5 intersecting the user's rows with the
  // words' instead of every user's matches filtered afterwards (1,000,000 messages among 100 users: a page went
  // from ~22 to ~1.5 ms of CPU). The index is rebuilt from the archive (external content: ~3 s per million rows).
  `DROP TRIGGER archive_fts_delete;
   DROP TABLE archive_fts;
   CREATE VIRTUAL TABLE archive_fts USING fts5 (body, username, content = 'archive', content_rowid = 'seq');
   CREATE TRIGGER archive_fts_delete AFTER DELETE ON archive WHEN old.body IS NOT NULL BEGIN
     INSERT INTO archive_fts (archive_fts, rowid, body, username) VALUES ('delete', old.seq, old.body, old.username);
   END;
   INSERT INTO archive_fts (archive_fts) VALUES ('rebuild');`,
];

/** The per-user tables removeAccount empties. */
export const ARCHIVE_USER_TABLES = ['archive', 'archive_counts', 'archive_prefs'] as const;

export function migrateArchive(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS archive_schema_version (version INTEGER NOT NULL)');
  const apply = db.transaction(() => {
    const row = db.prepare<[], { version: number }>('SELECT version FROM archive_schema_version').get();
    const current = row?.version ?? 0;
    if (current > ARCHIVE_MIGRATIONS.length) throw new Error(`the archive has schema version ${current}, newer than this Switchboard knows (${ARCHIVE_MIGRATIONS.length})`);
    for (let v = current; v < ARCHIVE_MIGRATIONS.length; v++) db.exec(ARCHIVE_MIGRATIONS[v]!);
    if (row) db.prepare('UPDATE archive_schema_version SET version = ?').run(ARCHIVE_MIGRATIONS.length);
    else db.prepare('INSERT INTO archive_schema_version (version) VALUES (?)').run(ARCHIVE_MIGRATIONS.length);
  });
  apply.immediate();
}

const SQLITE: QueryDialect = {
  param(values, value) {
    values.push(value);
    return '?';
  },
  fullText(values, text, username) {
    const match = fts5Query(text, username);
    if (match === undefined) return undefined;
    values.push(match);
    return 'seq IN (SELECT rowid FROM archive_fts WHERE archive_fts MATCH ?)';
  },
};

export class SqliteArchive implements MessageArchive {
  private readonly insert;
  private readonly bumpCount;
  private readonly appendTx;
  private readonly keyOf;
  private readonly countOf;
  private readonly totalStmt;
  private readonly prefsGet;
  private readonly prefsSet;
  private readonly expireTx;
  private readonly trimTx;
  private readonly countsAfter;
  private readonly countsFirst;
  readonly bulk;
  readonly prefsBulk;
  /** Query statements by SQL text: the filters combine in a few dozen shapes. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT INTO archive (host, username, id, ts, with_bare, with_full, stanza, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.bumpCount = db.prepare('INSERT INTO archive_counts (host, username, n) VALUES (?, ?, ?) ON CONFLICT (host, username) DO UPDATE SET n = n + excluded.n');
    const indexText = db.prepare('INSERT INTO archive_fts (rowid, body, username) SELECT seq, body, username FROM archive WHERE seq >= ? AND body IS NOT NULL');
    this.appendTx = db.transaction((entries: readonly ArchiveEntry[]) => {
      let first: number | bigint | undefined;
      let text = false;
      const perUser = new Map<string, { host: string; username: string; n: number }>();
      for (const e of entries) {
        const slash = e.with.indexOf('/');
        const row = this.insert.run(e.host, e.username, e.id, e.timestamp.getTime(), slash < 0 ? e.with : e.with.slice(0, slash), e.with, e.stanza, e.body ?? null);
        first ??= row.lastInsertRowid;
        if (e.body !== undefined) text = true;
        const key = `${e.username}@${e.host}`;
        const seen = perUser.get(key);
        if (seen) seen.n++;
        else perUser.set(key, { host: e.host, username: e.username, n: 1 });
      }
      for (const u of perUser.values()) this.bumpCount.run(u.host, u.username, u.n);
      // seq only grows (AUTOINCREMENT) and the transaction holds the write lock: the rows from `first` on are these.
      if (text && first !== undefined) indexText.run(first);
    });
    this.keyOf = db.prepare<[string, string, string], ArchiveKey>('SELECT ts, seq FROM archive WHERE host = ? AND username = ? AND id = ?');
    this.totalStmt = db.prepare<[], { n: number }>('SELECT COALESCE(SUM(n), 0) AS n FROM archive_counts');
    this.countOf = db.prepare<[string, string], { n: number }>('SELECT n FROM archive_counts WHERE host = ? AND username = ?');
    this.prefsGet = db.prepare<[string, string], { prefs: string }>('SELECT prefs FROM archive_prefs WHERE host = ? AND username = ?');
    this.prefsSet = db.prepare('INSERT INTO archive_prefs (host, username, prefs) VALUES (?, ?, ?) ON CONFLICT (host, username) DO UPDATE SET prefs = excluded.prefs');
    const expireRows = db.prepare<[number, number], { host: string; username: string }>(
      'DELETE FROM archive WHERE seq IN (SELECT seq FROM archive WHERE ts < ? ORDER BY ts LIMIT ?) RETURNING host, username',
    );
    this.expireTx = db.transaction((before: number, batch: number): number => {
      const removed = expireRows.all(before, batch);
      this.lowerCounts(removed);
      return removed.length;
    });
    const trimRows = db.prepare('DELETE FROM archive WHERE seq IN (SELECT seq FROM archive WHERE host = ? AND username = ? ORDER BY ts, seq LIMIT ?)');
    this.trimTx = db.transaction((host: string, username: string, keep: number, batch: number): number => {
      const n = this.countOf.get(host, username)?.n ?? 0;
      const excess = Math.min(batch, n - keep);
      if (excess <= 0) return 0;
      const removed = trimRows.run(host, username, excess).changes;
      this.bumpCount.run(host, username, -removed);
      return removed;
    });
    this.countsFirst = db.prepare<[number], OverLimitUser & { n: number }>('SELECT host, username, n FROM archive_counts ORDER BY host, username LIMIT ?');
    this.countsAfter = db.prepare<[string, string, number], OverLimitUser & { n: number }>(
      'SELECT host, username, n FROM archive_counts WHERE (host, username) > (?, ?) ORDER BY host, username LIMIT ?',
    );
    this.bulk = archiveBulk(db, (entries) => this.appendTx(entries));
    this.prefsBulk = archivePrefsBulk(db);
  }

  private lowerCounts(removed: readonly { host: string; username: string }[]): void {
    const per = new Map<string, { host: string; username: string; n: number }>();
    for (const r of removed) {
      const key = `${r.username}@${r.host}`;
      const seen = per.get(key);
      if (seen) seen.n++;
      else per.set(key, { host: r.host, username: r.username, n: 1 });
    }
    for (const u of per.values()) this.bumpCount.run(u.host, u.username, -u.n);
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  async append(entries: readonly ArchiveEntry[]): Promise<void> {
    try {
      this.appendTx(entries);
    } catch (err) {
      throw storageError('archiving failed', err);
    }
  }

  async query(username: string, host: string, q: ArchiveQuery): Promise<ArchiveQueryResult> {
    try {
      const keys = new Map<string, ArchiveKey>();
      for (const id of idsToResolve(q)) {
        const key = this.keyOf.get(host, username, id);
        if (!key) return { ok: false, reason: 'item-not-found', id };
        keys.set(id, key);
      }
      const built = buildArchiveQuery('archive', host, username, q, keys, SQLITE);
      const count = unfiltered(q) ? (this.countOf.get(host, username)?.n ?? 0) : cappedCount((this.statement(built.countSql).get(...built.countValues) as { n: number }).n);
      const rows = this.statement(built.pageSql).all(...built.pageValues) as ArchiveRow[];
      return { ok: true, page: toPage(rows, q.max, built.backwards, count) };
    } catch (err) {
      throw storageError('archive query failed', err);
    }
  }

  async total(): Promise<number> {
    return this.totalStmt.get()!.n;
  }

  async count(username: string, host: string): Promise<number> {
    return this.countOf.get(host, username)?.n ?? 0;
  }

  async getPrefs(username: string, host: string): Promise<ArchivePrefs | undefined> {
    const row = this.prefsGet.get(host, username);
    return row && (JSON.parse(row.prefs) as ArchivePrefs);
  }

  async setPrefs(username: string, host: string, prefs: ArchivePrefs): Promise<void> {
    this.prefsSet.run(host, username, JSON.stringify(prefs));
  }

  async expire(before: Date, batch: number): Promise<number> {
    return this.expireTx.immediate(before.getTime(), batch);
  }

  async overLimit(limit: number, scan: number, from?: { host: string; username: string }) {
    const rows = from ? this.countsAfter.all(from.host, from.username, scan) : this.countsFirst.all(scan);
    const last = rows.at(-1);
    return {
      users: rows.filter((r) => r.n > limit).map((r) => ({ host: r.host, username: r.username, count: r.n })),
      ...(rows.length === scan && last ? { next: { host: last.host, username: last.username } } : {}),
    };
  }

  async trim(username: string, host: string, keep: number, batch: number): Promise<number> {
    return this.trimTx.immediate(host, username, keep, batch);
  }
}
