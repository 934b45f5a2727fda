// PostgreSQL backend for a cluster: the same ports as SQLite over a pg Pool.
// Each store lives in its own schema, so one database can hold several
// (and each test run gets a fresh one). Schema names are checked against a
// plain identifier pattern before they are spliced into SQL; values are always
// parameters.

import { channel } from 'node:diagnostics_channel';
import pg from 'pg';
import type { Account, AccountStore, CreateAccountResult, OfflineMessage, OfflineStore, Roster, RosterItem, RosterStore, ScramCredentials, Storage, UserDataStore } from '../ports.ts';
import { migratePostgres } from './migrations.ts';
import { ARCHIVE_USER_TABLES, migratePostgresArchive, PostgresArchive } from './postgres-archive.ts';
import { transaction } from './transaction.ts';
import { BoundedPool } from './bounded-pool.ts';
import { PostgresMuc } from './postgres-muc.ts';
import { PostgresFastTokens } from './postgres-fast-tokens.ts';
import { accountsBulk, offlineBulk, rostersBulk, userDataBulk } from './postgres-bulk.ts';

class PostgresAccounts implements AccountStore {
  readonly bulk;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    this.bulk = accountsBulk(pool, schema);
  }

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

  setCredentials(username: string, host: string, credentials: ScramCredentials): Promise<boolean> {
    // XEP-0484: a new password ends every FAST token the old one got, in the same transaction.
    return transaction(this.pool, async (client) => {
      const r = await client.query(`UPDATE ${this.t} SET credentials = $3 WHERE host = $1 AND username = $2`, [host, username, credentials]);
      if (r.rowCount === 1) await client.query(`DELETE FROM "${this.schema}".fast_tokens WHERE host = $1 AND username = $2`, [host, username]);
      return r.rowCount === 1;
    });
  }

  removeAccount(username: string, host: string): Promise<boolean> {
    // One transaction: the account and every per-user table.
    return transaction(this.pool, async (client) => {
      const r = await client.query(`DELETE FROM ${this.t} WHERE host = $1 AND username = $2`, [host, username]);
      for (const table of ['roster_items', 'roster_versions', 'offline_messages', 'user_data', 'fast_tokens', ...ARCHIVE_USER_TABLES]) {
        await client.query(`DELETE FROM "${this.schema}".${table} WHERE host = $1 AND username = $2`, [host, username]);
      }
      return r.rowCount === 1;
    });
  }

  async listAccounts(host: string): Promise<string[]> {
    const r = await this.pool.query<{ username: string }>(`SELECT username FROM ${this.t} WHERE host = $1 ORDER BY username`, [host]);
    return r.rows.map((row) => row.username);
  }
}

class PostgresRosters implements RosterStore {
  readonly bulk;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    this.bulk = rostersBulk(pool, schema);
  }

  async getRoster(username: string, host: string): Promise<Roster> {
    // XEP-0237: one statement, so the version and the items come from one snapshot.
    const r = await this.pool.query<{ version: string | null; items: RosterItem[] }>(
      `SELECT (SELECT version FROM "${this.schema}".roster_versions WHERE host = $1 AND username = $2) AS version,
              COALESCE((SELECT json_agg(item ORDER BY contact) FROM "${this.schema}".roster_items WHERE host = $1 AND username = $2), '[]'::json) AS items`,
      [host, username],
    );
    const row = r.rows[0]!;
    return { version: Number(row.version ?? 0), items: row.items };
  }

  private bump(client: pg.PoolClient, host: string, username: string): Promise<number> {
    return client
      .query<{ version: string }>(
        `INSERT INTO "${this.schema}".roster_versions (host, username, version) VALUES ($1, $2, 1)
         ON CONFLICT (host, username) DO UPDATE SET version = roster_versions.version + 1 RETURNING version`,
        [host, username],
      )
      .then((r) => Number(r.rows[0]!.version));
  }

  putItem(username: string, host: string, item: RosterItem): Promise<number> {
    return transaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO "${this.schema}".roster_items (host, username, contact, item) VALUES ($1, $2, $3, $4)
         ON CONFLICT (host, username, contact) DO UPDATE SET item = EXCLUDED.item`,
        [host, username, item.jid, item],
      );
      return this.bump(client, host, username);
    });
  }

  removeItem(username: string, host: string, jid: string): Promise<number> {
    return transaction(this.pool, async (client) => {
      await client.query(`DELETE FROM "${this.schema}".roster_items WHERE host = $1 AND username = $2 AND contact = $3`, [host, username, jid]);
      return this.bump(client, host, username);
    });
  }
}

class PostgresOffline implements OfflineStore {
  readonly bulk;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    this.bulk = offlineBulk(pool, schema);
  }

  store(username: string, host: string, stanza: string, quota: number, maxBytes = Infinity): Promise<boolean> {
    return transaction(this.pool, async (client) => {
      // Serialise writers for this user so the quota check holds.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`offline:${host}:${username}`]);
      const usage = await client.query<{ n: string; bytes: string }>(
        `SELECT COUNT(*) AS n, COALESCE(SUM(octet_length(stanza)), 0) AS bytes FROM "${this.schema}".offline_messages WHERE host = $1 AND username = $2`,
        [host, username],
      );
      if (Number(usage.rows[0]!.n) >= quota || Number(usage.rows[0]!.bytes) + Buffer.byteLength(stanza, 'utf8') > maxBytes) return false;
      await client.query(`INSERT INTO "${this.schema}".offline_messages (host, username, stanza) VALUES ($1, $2, $3)`, [host, username, stanza]);
      return true;
    });
  }

  async take(username: string, host: string): Promise<OfflineMessage[]> {
    // One statement is one transaction; RETURNING has no order, so sort by id here.
    const r = await this.pool.query<{ id: string; stanza: string; stored_at: Date }>(
      `DELETE FROM "${this.schema}".offline_messages WHERE host = $1 AND username = $2 RETURNING id, stanza, stored_at`,
      [host, username],
    );
    return r.rows.sort((a, b) => Number(a.id) - Number(b.id)).map((row) => ({ stanza: row.stanza, storedAt: row.stored_at }));
  }

  async total(cap: number): Promise<number> {
    const r = await this.pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM "${this.schema}".offline_messages LIMIT $1) t`, [cap]);
    return Number(r.rows[0]!.n);
  }

  async count(username: string, host: string): Promise<number> {
    const r = await this.pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "${this.schema}".offline_messages WHERE host = $1 AND username = $2`, [host, username]);
    return Number(r.rows[0]!.n);
  }
}

class PostgresUserData implements UserDataStore {
  readonly bulk;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    this.bulk = userDataBulk(pool, schema);
  }

  private get t(): string {
    return `"${this.schema}".user_data`;
  }

  async get(username: string, host: string, kind: string, key: string): Promise<string | undefined> {
    const r = await this.pool.query<{ value: string }>(`SELECT value FROM ${this.t} WHERE host = $1 AND username = $2 AND kind = $3 AND key = $4`, [host, username, kind, key]);
    return r.rows[0]?.value;
  }

  async set(username: string, host: string, kind: string, key: string, value: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.t} (host, username, kind, key, value) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (host, username, kind, key) DO UPDATE SET value = EXCLUDED.value`,
      [host, username, kind, key, value],
    );
  }

  async delete(username: string, host: string, kind: string, key: string): Promise<boolean> {
    const r = await this.pool.query(`DELETE FROM ${this.t} WHERE host = $1 AND username = $2 AND kind = $3 AND key = $4`, [host, username, kind, key]);
    return r.rowCount === 1;
  }

  async list(username: string, host: string, kind: string): Promise<{ key: string; value: string }[]> {
    const r = await this.pool.query<{ key: string; value: string }>(`SELECT key, value FROM ${this.t} WHERE host = $1 AND username = $2 AND kind = $3 ORDER BY key`, [host, username, kind]);
    return r.rows;
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/** Idle pooled connections that fail (a server restart) are reported here; the pool replaces them. */
const poolErrors = channel('switchboard:storage:postgres-error');

export async function openPostgresStorage(url: string, options: { schema?: string; timeoutMs?: number } = {}): Promise<Storage> {
  const schema = options.schema ?? 'switchboard';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const timeoutMs = options.timeoutMs ?? 5000;
  const pool = new BoundedPool({
    connectionString: url,
    max: 10,
    // Every call is bounded (#17): waiting for a connection (refused, or the pool busy behind a hung server),
    // and each query on the client side (a hung server never answers) and the server side. A query that
    // timed out releases its connection with the error, so the pool destroys it instead of reusing it.
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    keepAlive: true,
  }, Math.min(timeoutMs, 2000));
  // Without a listener, an idle connection's error would be an uncaught 'error' event and end the process.
  pool.on('error', (error) => poolErrors.publish({ error, schema }));
  try {
    await migratePostgres(pool, schema);
    await migratePostgresArchive(pool, schema);
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  return {
    kind: 'postgres',
    accounts: new PostgresAccounts(pool, schema),
    rosters: new PostgresRosters(pool, schema),
    offline: new PostgresOffline(pool, schema),
    userData: new PostgresUserData(pool, schema),
    archive: new PostgresArchive(pool, schema),
    muc: new PostgresMuc(pool, schema),
    fastTokens: new PostgresFastTokens(pool, schema),
    close: () => pool.end(),
  };
}
