// FastTokenStore on SQLite (XEP-0484): one row per user, agent and slot.
// `use` is one IMMEDIATE transaction, so two streams presenting the same
// token and count at once cannot both pass the replay check.

import type Database from 'better-sqlite3';
import type { FastTokenRecord, FastTokenStore } from '../ports.ts';
import { countAdvances } from '../fast-count.ts';
import { fastTokensBulk } from './sqlite-bulk.ts';

interface Row {
  slot: 'new' | 'current';
  mechanism: string;
  key: string;
  expires_at: number;
  count: number | null;
}

export class SqliteFastTokens implements FastTokenStore {
  private readonly upsert;
  private readonly dropExpired;
  private readonly select;
  private readonly one;
  private readonly setCount;
  private readonly dropSlot;
  private readonly promote;
  private readonly dropAgent;
  private readonly dropUser;
  private readonly useTx;
  readonly bulk;

  constructor(db: Database.Database) {
    this.upsert = db.prepare(
      `INSERT INTO fast_tokens (host, username, agent, slot, mechanism, key, expires_at, count) VALUES (?, ?, ?, 'new', ?, ?, ?, NULL)
       ON CONFLICT (host, username, agent, slot) DO UPDATE SET mechanism = excluded.mechanism, key = excluded.key, expires_at = excluded.expires_at, count = NULL`,
    );
    this.dropExpired = db.prepare('DELETE FROM fast_tokens WHERE host = ? AND username = ? AND expires_at < ?');
    this.select = db.prepare<[string, string, string], Row>(
      "SELECT slot, mechanism, key, expires_at, count FROM fast_tokens WHERE host = ? AND username = ? AND agent = ? ORDER BY slot = 'new' DESC",
    );
    this.one = db.prepare<[string, string, string, string], { count: number | null }>('SELECT count FROM fast_tokens WHERE host = ? AND username = ? AND agent = ? AND slot = ?');
    this.setCount = db.prepare('UPDATE fast_tokens SET count = ? WHERE host = ? AND username = ? AND agent = ? AND slot = ?');
    this.dropSlot = db.prepare('DELETE FROM fast_tokens WHERE host = ? AND username = ? AND agent = ? AND slot = ?');
    this.promote = db.prepare("UPDATE fast_tokens SET slot = 'current' WHERE host = ? AND username = ? AND agent = ? AND slot = 'new'");
    this.dropAgent = db.prepare('DELETE FROM fast_tokens WHERE host = ? AND username = ? AND agent = ?');
    this.dropUser = db.prepare('DELETE FROM fast_tokens WHERE host = ? AND username = ?');
    this.useTx = db.transaction((host: string, username: string, agent: string, slot: 'new' | 'current', count: number | undefined): boolean => {
      const row = this.one.get(host, username, agent, slot);
      if (!row || !countAdvances(row.count, count)) return false;
      if (count !== undefined) this.setCount.run(count, host, username, agent, slot);
      if (slot === 'new') {
        this.dropSlot.run(host, username, agent, 'current');
        this.promote.run(host, username, agent);
      }
      return true;
    });
    this.bulk = fastTokensBulk(db);
  }

  async put(username: string, host: string, agent: string, token: { mechanism: string; key: string; expiresAt: Date }): Promise<void> {
    this.dropExpired.run(host, username, Date.now());
    this.upsert.run(host, username, agent, token.mechanism, token.key, token.expiresAt.getTime());
  }

  async get(username: string, host: string, agent: string): Promise<FastTokenRecord[]> {
    return this.select.all(host, username, agent).map((r) => ({ slot: r.slot, mechanism: r.mechanism, key: r.key, expiresAt: new Date(r.expires_at), count: r.count }));
  }

  async use(username: string, host: string, agent: string, slot: 'new' | 'current', count: number | undefined): Promise<boolean> {
    return this.useTx.immediate(host, username, agent, slot, count);
  }

  async revoke(username: string, host: string, agent?: string): Promise<number> {
    return (agent === undefined ? this.dropUser.run(host, username) : this.dropAgent.run(host, username, agent)).changes;
  }
}
