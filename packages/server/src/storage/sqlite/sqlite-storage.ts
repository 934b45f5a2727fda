// The embedded default: one SQLite file in the data directory, WAL mode so
// readers never wait for the writer. better-sqlite3 is synchronous; each call
// is a short indexed statement, and the async port keeps callers honest for
// the PostgreSQL backend.

import Database from 'better-sqlite3';
import type { Account, AccountStore, CreateAccountResult, ScramCredentials, Storage } from '../ports.ts';
import { migrate } from './migrations.ts';
import { SqliteOffline, SqliteRosters, SqliteUserData } from './sqlite-user-data.ts';
import { ARCHIVE_USER_TABLES, migrateArchive, SqliteArchive } from './sqlite-archive.ts';
import { SqliteMuc } from './sqlite-muc.ts';
import { SqliteFastTokens } from './sqlite-fast-tokens.ts';
import { accountsBulk } from './sqlite-bulk.ts';

interface AccountRow {
  username: string;
  host: string;
  credentials: string;
  created_at: number;
}

class SqliteAccounts implements AccountStore {
  private readonly insert;
  private readonly select;
  private readonly exists;
  private readonly update;
  private readonly remove;
  private readonly list;
  private readonly removeTx;
  private readonly updateTx;
  readonly bulk;

  constructor(db: Database.Database) {
    this.insert = db.prepare('INSERT INTO accounts (host, username, credentials, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
    this.select = db.prepare<[string, string], AccountRow>('SELECT username, host, credentials, created_at FROM accounts WHERE host = ? AND username = ?');
    this.exists = db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM accounts WHERE host = ? AND username = ?');
    this.update = db.prepare('UPDATE accounts SET credentials = ? WHERE host = ? AND username = ?');
    this.remove = db.prepare('DELETE FROM accounts WHERE host = ? AND username = ?');
    this.list = db.prepare<[string], { username: string }>('SELECT username FROM accounts WHERE host = ? ORDER BY username');
    // Every per-user table is emptied in this same transaction.
    const removeUserData = [
      db.prepare('DELETE FROM roster_items WHERE host = ? AND username = ?'),
      db.prepare('DELETE FROM roster_versions WHERE host = ? AND username = ?'),
      db.prepare('DELETE FROM offline_messages WHERE host = ? AND username = ?'),
      db.prepare('DELETE FROM user_data WHERE host = ? AND username = ?'),
      db.prepare('DELETE FROM fast_tokens WHERE host = ? AND username = ?'),
      ...ARCHIVE_USER_TABLES.map((table) => db.prepare(`DELETE FROM ${table} WHERE host = ? AND username = ?`)),
    ];
    this.removeTx = db.transaction((host: string, username: string) => {
      const existed = this.remove.run(host, username).changes > 0;
      if (existed) for (const stmt of removeUserData) stmt.run(host, username);
      return existed;
    });
    // XEP-0484: a new password ends every FAST token the old one got, in the same transaction.
    const dropTokens = db.prepare('DELETE FROM fast_tokens WHERE host = ? AND username = ?');
    this.updateTx = db.transaction((credentials: string, host: string, username: string) => {
      const changed = this.update.run(credentials, host, username).changes === 1;
      if (changed) dropTokens.run(host, username);
      return changed;
    });
    this.bulk = accountsBulk(db);
  }

  async createAccount(username: string, host: string, credentials: ScramCredentials): Promise<CreateAccountResult> {
    const result = this.insert.run(host, username, JSON.stringify(credentials), Date.now());
    return result.changes === 1 ? { ok: true } : { ok: false, reason: 'exists' };
  }

  async getAccount(username: string, host: string): Promise<Account | undefined> {
    const row = this.select.get(host, username);
    if (!row) return undefined;
    return { username: row.username, host: row.host, credentials: JSON.parse(row.credentials) as ScramCredentials, createdAt: new Date(row.created_at) };
  }

  async accountExists(username: string, host: string): Promise<boolean> {
    return this.exists.get(host, username) !== undefined;
  }

  async setCredentials(username: string, host: string, credentials: ScramCredentials): Promise<boolean> {
    return this.updateTx(JSON.stringify(credentials), host, username);
  }

  async removeAccount(username: string, host: string): Promise<boolean> {
    return this.removeTx(host, username);
  }

  async listAccounts(host: string): Promise<string[]> {
    return this.list.all(host).map((r) => r.username);
  }
}

/** The archive's page cache, in KiB (PRAGMA cache_size takes a negative number as KiB): see configureConnection. */
export const SQLITE_CACHE_KIB = 32 * 1024;

/** The pragmas every connection of the store gets (they hold per connection, not per file, except journal_mode). */
export function configureConnection(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // With WAL, NORMAL is durable across a crash of the process; only a power
  // loss can drop the last commits. The store holds nothing worth an fsync per message.
  db.pragma('synchronous = NORMAL');
  // A checkpoint every 10,000 WAL pages (~40 MB) instead of 1,000: a page the archive rewrites in many commits
  // (a user's newest index leaf) is copied to the database once per checkpoint, not once per few commits; this
  // took a quarter off archiving's storage CPU (issue #21). The WAL file is cut back to 64 MB after a checkpoint.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('journal_size_limit = 67108864');
  // 32 MB of page cache instead of SQLite's 2 MB (issue #21): each archive commit touches the newest index leaf of
  // every active user, ~4,800 pages at 1,000 users chatting, so with 500 cached pages every commit read them back
  // from the WAL and the database (one pread each, in system time). Storage alone (bench/archive-write.ts):
  // ~91 → ~79 µs of CPU a message. The cache fills only as far as the store is used.
  db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  // Another process (the `user` command beside a running server) may hold the write lock briefly.
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
}

export function openSqliteStorage(path: string): Storage {
  const db = new Database(path);
  configureConnection(db);
  migrate(db);
  migrateArchive(db);
  const accounts = new SqliteAccounts(db);
  return {
    kind: 'sqlite',
    accounts,
    rosters: new SqliteRosters(db),
    offline: new SqliteOffline(db),
    userData: new SqliteUserData(db),
    archive: new SqliteArchive(db),
    muc: new SqliteMuc(db),
    fastTokens: new SqliteFastTokens(db),
    async close() {
      db.close();
    },
  };
}
