// PostgreSQL backend for a cluster: the same ports as SQLite over a pg Pool.
// Each store lives in its own schema, so one database can hold several
// (and each test run gets a fresh one).

import pg from 'pg';
import type { Account, AccountStore, CreateAccountResult, ScramCredentials, Storage } from '../ports.ts';
import { migratePostgres } from './migrations.ts';

class PostgresAccounts implements AccountStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {}

  private get t(): string {
    return `"${this.schema}".accounts`;
  }

  async createAccount(username: string, host: string, credentials: ScramCredentials): Promise<CreateAccountResult> {
    const r = await this.pool.query(`INSERT INTO ${this.t} (host, username, credentials) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [host, username, credentials]);
    return r.rowCount === 1 ? { ok: true } : { ok: false, reason: 'exists' };
  }

  async getAccount(username: string, host: string): Promise<Account | undefined> {
    const r = await this.pool.query<{ username: string; host: string; credentials: ScramCredentials; created_at: Date }>(
      `SELECT username, host, credentials, created_at FROM ${this.t} WHERE host = $1 AND username = $2`,
      [host, username],
    );
    const row = r.rows[0];
    return row && { username: row.username, host: row.host, credentials: row.credentials, createdAt: row.created_at };
  }

  async accountExists(username: string, host: string): Promise<boolean> {
    const r = await this.pool.query(`SELECT 1 FROM ${this.t} WHERE host = $1 AND username = $2`, [host, username]);
    return r.rowCount === 1;
  }

  async setCredentials(username: string, host: string, credentials: ScramCredentials): Promise<boolean> {
    const r = await this.pool.query(`UPDATE ${this.t} SET credentials = $3 WHERE host = $1 AND username = $2`, [host, username, credentials]);
    return r.rowCount === 1;
  }

  async removeAccount(username: string, host: string): Promise<boolean> {
    // One transaction: every per-user table added later is deleted from here too.
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query(`DELETE FROM ${this.t} WHERE host = $1 AND username = $2`, [host, username]);
      await client.query('COMMIT');
      return r.rowCount === 1;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  }

  async listAccounts(host: string): Promise<string[]> {
    const r = await this.pool.query<{ username: string }>(`SELECT username FROM ${this.t} WHERE host = $1 ORDER BY username`, [host]);
    return r.rows.map((row) => row.username);
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

export async function openPostgresStorage(url: string, options: { schema?: string } = {}): Promise<Storage> {
  const schema = options.schema ?? 'switchboard';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await migratePostgres(pool, schema);
  return {
    kind: 'postgres',
    accounts: new PostgresAccounts(pool, schema),
    close: () => pool.end(),
  };
}
