// FastTokenStore on PostgreSQL (XEP-0484): one row per user, agent and slot.
// `use` locks the row (SELECT … FOR UPDATE) in one transaction, so two c2s
// processes presenting the same token and count at once cannot both pass.

import type pg from 'pg';
import type { FastTokenRecord, FastTokenStore } from '../ports.ts';
import { countAdvances } from '../fast-count.ts';
import { transaction } from './transaction.ts';
import { fastTokensBulk } from './postgres-bulk.ts';

export class PostgresFastTokens implements FastTokenStore {
  readonly bulk;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    this.bulk = fastTokensBulk(pool, schema);
  }

  private get t(): string {
    return `"${this.schema}".fast_tokens`;
  }

  put(username: string, host: string, agent: string, token: { mechanism: string; key: string; expiresAt: Date }): Promise<void> {
    return transaction(this.pool, async (client) => {
      await client.query(`DELETE FROM ${this.t} WHERE host = $1 AND username = $2 AND expires_at < now()`, [host, username]);
      await client.query(
        `INSERT INTO ${this.t} (host, username, agent, slot, mechanism, key, expires_at, count) VALUES ($1, $2, $3, 'new', $4, $5, $6, NULL)
         ON CONFLICT (host, username, agent, slot) DO UPDATE SET mechanism = EXCLUDED.mechanism, key = EXCLUDED.key, expires_at = EXCLUDED.expires_at, count = NULL`,
        [host, username, agent, token.mechanism, token.key, token.expiresAt],
      );
    });
  }

  async get(username: string, host: string, agent: string): Promise<FastTokenRecord[]> {
    const r = await this.pool.query<{ slot: 'new' | 'current'; mechanism: string; key: string; expires_at: Date; count: string | null }>(
      `SELECT slot, mechanism, key, expires_at, count FROM ${this.t} WHERE host = $1 AND username = $2 AND agent = $3 ORDER BY slot = 'new' DESC`,
      [host, username, agent],
    );
    return r.rows.map((row) => ({ slot: row.slot, mechanism: row.mechanism, key: row.key, expiresAt: row.expires_at, count: row.count === null ? null : Number(row.count) }));
  }

  use(username: string, host: string, agent: string, slot: 'new' | 'current', count: number | undefined): Promise<boolean> {
    return transaction(this.pool, async (client) => {
      const r = await client.query<{ count: string | null }>(`SELECT count FROM ${this.t} WHERE host = $1 AND username = $2 AND agent = $3 AND slot = $4 FOR UPDATE`, [host, username, agent, slot]);
      const row = r.rows[0];
      if (!row || !countAdvances(row.count === null ? null : Number(row.count), count)) return false;
      if (count !== undefined) await client.query(`UPDATE ${this.t} SET count = $5 WHERE host = $1 AND username = $2 AND agent = $3 AND slot = $4`, [host, username, agent, slot, count]);
      if (slot === 'new') {
        await client.query(`DELETE FROM ${this.t} WHERE host = $1 AND username = $2 AND agent = $3 AND slot = 'current'`, [host, username, agent]);
        await client.query(`UPDATE ${this.t} SET slot = 'current' WHERE host = $1 AND username = $2 AND agent = $3 AND slot = 'new'`, [host, username, agent]);
      }
      return true;
    });
  }

  async revoke(username: string, host: string, agent?: string): Promise<number> {
    const r = agent === undefined
      ? await this.pool.query(`DELETE FROM ${this.t} WHERE host = $1 AND username = $2`, [host, username])
      : await this.pool.query(`DELETE FROM ${this.t} WHERE host = $1 AND username = $2 AND agent = $3`, [host, username, agent]);
    return r.rowCount ?? 0;
  }
}
