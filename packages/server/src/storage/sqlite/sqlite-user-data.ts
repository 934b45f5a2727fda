// Rosters, offline messages and per-user data in the embedded SQLite store.
// Statements are prepared once, in the constructors.

import type Database from 'better-sqlite3';
import type { OfflineMessage, OfflineStore, Roster, RosterItem, RosterStore, UserDataStore } from '../ports.ts';
import { offlineBulk, rostersBulk, userDataBulk } from './sqlite-bulk.ts';

export class SqliteRosters implements RosterStore {
  private readonly items;
  private readonly version;
  private readonly upsert;
  private readonly remove;
  private readonly bump;
  private readonly putTx;
  private readonly removeTx;
  private readonly readTx;
  readonly bulk;

  constructor(db: Database.Database) {
    this.items = db.prepare<[string, string], { item: string }>('SELECT item FROM roster_items WHERE host = ? AND username = ? ORDER BY contact');
    this.version = db.prepare<[string, string], { version: number }>('SELECT version FROM roster_versions WHERE host = ? AND username = ?');
    this.upsert = db.prepare('INSERT INTO roster_items (host, username, contact, item) VALUES (?, ?, ?, ?) ON CONFLICT (host, username, contact) DO UPDATE SET item = excluded.item');
    this.remove = db.prepare('DELETE FROM roster_items WHERE host = ? AND username = ? AND contact = ?');
    this.bump = db.prepare<[string, string], { version: number }>(
      'INSERT INTO roster_versions (host, username, version) VALUES (?, ?, 1) ON CONFLICT (host, username) DO UPDATE SET version = version + 1 RETURNING version',
    );
    this.putTx = db.transaction((host: string, username: string, item: RosterItem): number => {
      this.upsert.run(host, username, item.jid, JSON.stringify(item));
      return this.bump.get(host, username)!.version;
    });
    this.removeTx = db.transaction((host: string, username: string, jid: string): number => {
      this.remove.run(host, username, jid);
      return this.bump.get(host, username)!.version;
    });
    // XEP-0237: the version and the items from one snapshot, even with another process writing.
    this.readTx = db.transaction((host: string, username: string): Roster => {
      const version = this.version.get(host, username)?.version ?? 0;
      return { version, items: this.items.all(host, username).map((r) => JSON.parse(r.item) as RosterItem) };
    });
    this.bulk = rostersBulk(db);
  }

  async getRoster(username: string, host: string): Promise<Roster> {
    return this.readTx(host, username);
  }

  async putItem(username: string, host: string, item: RosterItem): Promise<number> {
    return this.putTx(host, username, item);
  }

  async removeItem(username: string, host: string, jid: string): Promise<number> {
    return this.removeTx(host, username, jid);
  }
}

export class SqliteOffline implements OfflineStore {
  private readonly insert;
  private readonly countStmt;
  private readonly totalStmt;
  private readonly usageStmt;
  private readonly select;
  private readonly clear;
  private readonly storeTx;
  private readonly takeTx;
  readonly bulk;

  constructor(db: Database.Database) {
    this.insert = db.prepare('INSERT INTO offline_messages (host, username, stanza, stored_at) VALUES (?, ?, ?, ?)');
    this.countStmt = db.prepare<[string, string], { n: number }>('SELECT COUNT(*) AS n FROM offline_messages WHERE host = ? AND username = ?');
    this.totalStmt = db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM (SELECT 1 FROM offline_messages LIMIT ?)');
    this.usageStmt = db.prepare<[string, string], { n: number; bytes: number }>(
      'SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(CAST(stanza AS BLOB))), 0) AS bytes FROM offline_messages WHERE host = ? AND username = ?',
    );
    this.select = db.prepare<[string, string], { stanza: string; stored_at: number }>('SELECT stanza, stored_at FROM offline_messages WHERE host = ? AND username = ? ORDER BY id');
    this.clear = db.prepare('DELETE FROM offline_messages WHERE host = ? AND username = ?');
    this.storeTx = db.transaction((host: string, username: string, stanza: string, quota: number, maxBytes: number): boolean => {
      const usage = this.usageStmt.get(host, username)!;
      if (usage.n >= quota || usage.bytes + Buffer.byteLength(stanza, 'utf8') > maxBytes) return false;
      this.insert.run(host, username, stanza, Date.now());
      return true;
    });
    this.takeTx = db.transaction((host: string, username: string): OfflineMessage[] => {
      const rows = this.select.all(host, username);
      this.clear.run(host, username);
      return rows.map((r) => ({ stanza: r.stanza, storedAt: new Date(r.stored_at) }));
    });
    this.bulk = offlineBulk(db);
  }

  async store(username: string, host: string, stanza: string, quota: number, maxBytes = Infinity): Promise<boolean> {
    // IMMEDIATE: take the write lock before counting, so another process cannot slip in under the quota.
    return this.storeTx.immediate(host, username, stanza, quota, maxBytes);
  }

  async take(username: string, host: string): Promise<OfflineMessage[]> {
    return this.takeTx.immediate(host, username);
  }

  async total(cap: number): Promise<number> {
    return this.totalStmt.get(cap)!.n;
  }

  async count(username: string, host: string): Promise<number> {
    return this.countStmt.get(host, username)!.n;
  }
}

export class SqliteUserData implements UserDataStore {
  private readonly getStmt;
  private readonly setStmt;
  private readonly deleteStmt;
  private readonly listStmt;
  readonly bulk;

  constructor(db: Database.Database) {
    this.getStmt = db.prepare<[string, string, string, string], { value: string }>('SELECT value FROM user_data WHERE host = ? AND username = ? AND kind = ? AND key = ?');
    this.setStmt = db.prepare('INSERT INTO user_data (host, username, kind, key, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT (host, username, kind, key) DO UPDATE SET value = excluded.value');
    this.deleteStmt = db.prepare('DELETE FROM user_data WHERE host = ? AND username = ? AND kind = ? AND key = ?');
    this.listStmt = db.prepare<[string, string, string], { key: string; value: string }>('SELECT key, value FROM user_data WHERE host = ? AND username = ? AND kind = ? ORDER BY key');
    this.bulk = userDataBulk(db);
  }

  async get(username: string, host: string, kind: string, key: string): Promise<string | undefined> {
    return this.getStmt.get(host, username, kind, key)?.value;
  }

  async set(username: string, host: string, kind: string, key: string, value: string): Promise<void> {
    this.setStmt.run(host, username, kind, key, value);
  }

  async delete(username: string, host: string, kind: string, key: string): Promise<boolean> {
    return this.deleteStmt.run(host, username, kind, key).changes > 0;
  }

  async list(username: string, host: string, kind: string): Promise<{ key: string; value: string }[]> {
    return this.listStmt.all(host, username, kind);
  }
}
