// The message archive on PostgreSQL: the same tables and indexes as SQLite's,
// migrated by a list of their own (archive_schema_version). Full text through
// a generated tsvector column ('simple' configuration: no language's stemming
// is imposed on everyone) with a GIN index.

import type pg from 'pg';
import type { ArchiveEntry, ArchivePrefs, ArchiveQuery, ArchiveQueryResult, MessageArchive, OverLimitUser } from '../archive.ts';
import { storageError } from '../archive.ts';
import { buildArchiveQuery, cappedCount, idsToResolve, toPage, unfiltered, type ArchiveKey, type QueryDialect } from '../archive-query.ts';
import { transaction } from './transaction.ts';
import { archiveBulk, archivePrefsBulk } from './postgres-bulk.ts';

/** Ordered schema changes of the archive; the index + 1 is its version. Append only. `$S` is the schema. */
export const ARCHIVE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE "$S".archive (
     seq BIGSERIAL PRIMARY KEY,
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     id TEXT NOT NULL,
     ts BIGINT NOT NULL,
     with_bare TEXT NOT NULL,
     with_full TEXT NOT NULL,
     stanza TEXT NOT NULL,
     body TEXT,
     body_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(body, ''))) STORED
   );
   CREATE UNIQUE INDEX archive_by_id ON "$S".archive (host, username, id);
   CREATE INDEX archive_by_time ON "$S".archive (host, username, ts, seq);
   CREATE INDEX archive_by_with ON "$S".archive (host, username, with_bare, ts, seq);
   CREATE INDEX archive_by_age ON "$S".archive (ts);
   CREATE INDEX archive_fulltext ON "$S".archive USING GIN (body_tsv);
   CREATE TABLE "$S".archive_counts (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     n BIGINT NOT NULL,
     PRIMARY KEY (host, username)
   );
   CREATE TABLE "$S".archive_prefs (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     prefs JSONB NOT NULL,
     PRIMARY KEY (host, username)
   );`,
  // 2 (issue #21): the id index leads with the id. The server's ids are UUIDv7 (time first), so new entries go to
  // one end of it instead of to a random leaf of each user's range; a lookup names all three columns anyway.
  `DROP INDEX "$S".archive_by_id;
   CREATE UNIQUE INDEX archive_by_id ON "$S".archive (id, host, username);`,
];

/** The per-user tables removeAccount empties. */
export const ARCHIVE_USER_TABLES = ['archive', 'archive_counts', 'archive_prefs'] as const;

export async function migratePostgresArchive(pool: pg.Pool, schema: string): Promise<void> {
  await transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`switchboard-migrate-archive-${schema}`]);
    await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".archive_schema_version (version INTEGER NOT NULL)`);
    const r = await client.query<{ version: number }>(`SELECT version FROM "${schema}".archive_schema_version`);
    const current = r.rows[0]?.version ?? 0;
    if (current > ARCHIVE_MIGRATIONS.length) throw new Error(`the archive has schema version ${current}, newer than this Switchboard knows (${ARCHIVE_MIGRATIONS.length})`);
    for (let v = current; v < ARCHIVE_MIGRATIONS.length; v++) await client.query(ARCHIVE_MIGRATIONS[v]!.replaceAll('$S', schema));
    if (r.rows.length === 0) await client.query(`INSERT INTO "${schema}".archive_schema_version (version) VALUES ($1)`, [ARCHIVE_MIGRATIONS.length]);
    else await client.query(`UPDATE "${schema}".archive_schema_version SET version = $1`, [ARCHIVE_MIGRATIONS.length]);
  });
}

const POSTGRES: QueryDialect = {
  param(values, value) {
    values.push(value);
    return `$${values.length}`;
  },
  fullText(values, text) {
    // The tsvector is a column of the user's rows: the owner is already in the WHERE.
    if (text.trim() === '') return undefined;
    values.push(text);
    return `body_tsv @@ plainto_tsquery('simple', $${values.length})`;
  },
};

export class PostgresArchive implements MessageArchive {
  readonly bulk;
  readonly prefsBulk;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    // The copy writes through the same insert as append, so the counters and the full-text column follow it.
    this.bulk = archiveBulk(pool, schema, async (client, entries) => {
      for (let i = 0; i < entries.length; i += 4000) await this.insertRows(client, entries.slice(i, i + 4000));
    });
    this.prefsBulk = archivePrefsBulk(pool, schema);
  }

  private get t(): string {
    return `"${this.schema}".archive`;
  }

  private get counts(): string {
    return `"${this.schema}".archive_counts`;
  }

  async append(entries: readonly ArchiveEntry[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      await transaction(this.pool, async (client) => {
        // A statement carries at most 65,535 parameters: rows go in chunks of 4,000 (8 parameters each).
        for (let i = 0; i < entries.length; i += 4000) await this.insertRows(client, entries.slice(i, i + 4000));
      });
    } catch (err) {
      throw storageError('archiving failed', err);
    }
  }

  /** One statement for the rows and one for the counts: a message archived on both sides is one round trip each. */
  private async insertRows(client: pg.PoolClient, entries: readonly ArchiveEntry[]): Promise<void> {
    const values: unknown[] = [];
    const rows: string[] = [];
    const perUser = new Map<string, [string, string, number]>();
    for (const e of entries) {
      const slash = e.with.indexOf('/');
      const base = values.length;
      values.push(e.host, e.username, e.id, e.timestamp.getTime(), slash < 0 ? e.with : e.with.slice(0, slash), e.with, e.stanza, e.body ?? null);
      rows.push(`($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, $${base + 7}, $${base + 8})`);
      const key = `${e.username}@${e.host}`;
      const seen = perUser.get(key);
      if (seen) seen[2]++;
      else perUser.set(key, [e.host, e.username, 1]);
    }
    const users = [...perUser.values()];
    await client.query(`INSERT INTO ${this.t} (host, username, id, ts, with_bare, with_full, stanza, body) VALUES ${rows.join(', ')}`, values);
    await client.query(
      `INSERT INTO ${this.counts} (host, username, n) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
       ON CONFLICT (host, username) DO UPDATE SET n = archive_counts.n + EXCLUDED.n`,
      [users.map((u) => u[0]), users.map((u) => u[1]), users.map((u) => u[2])],
    );
  }

  async query(username: string, host: string, q: ArchiveQuery): Promise<ArchiveQueryResult> {
    try {
      const keys = new Map<string, ArchiveKey>();
      const wanted = idsToResolve(q);
      if (wanted.length > 0) {
        const r = await this.pool.query<{ id: string; ts: string; seq: string }>(`SELECT id, ts, seq FROM ${this.t} WHERE host = $1 AND username = $2 AND id = ANY($3::text[])`, [host, username, wanted]);
        for (const row of r.rows) keys.set(row.id, { ts: Number(row.ts), seq: Number(row.seq) });
        const missing = wanted.find((id) => !keys.has(id));
        if (missing !== undefined) return { ok: false, reason: 'item-not-found', id: missing };
      }
      const built = buildArchiveQuery(this.t, host, username, q, keys, POSTGRES);
      const [count, rows] = await Promise.all([
        unfiltered(q) ? this.count(username, host) : this.pool.query<{ n: string }>(built.countSql, built.countValues).then((r) => cappedCount(Number(r.rows[0]!.n))),
        this.pool.query<{ id: string; ts: string; with_full: string; stanza: string }>(built.pageSql, built.pageValues),
      ]);
      return { ok: true, page: toPage(rows.rows.map((r) => ({ ...r, ts: Number(r.ts) })), q.max, built.backwards, count) };
    } catch (err) {
      throw storageError('archive query failed', err);
    }
  }

  async total(): Promise<number> {
    const r = await this.pool.query<{ n: string }>(`SELECT COALESCE(SUM(n), 0) AS n FROM ${this.counts}`);
    return Number(r.rows[0]!.n);
  }

  async count(username: string, host: string): Promise<number> {
    const r = await this.pool.query<{ n: string }>(`SELECT n FROM ${this.counts} WHERE host = $1 AND username = $2`, [host, username]);
    return Number(r.rows[0]?.n ?? 0);
  }

  async getPrefs(username: string, host: string): Promise<ArchivePrefs | undefined> {
    const r = await this.pool.query<{ prefs: ArchivePrefs }>(`SELECT prefs FROM "${this.schema}".archive_prefs WHERE host = $1 AND username = $2`, [host, username]);
    return r.rows[0]?.prefs;
  }

  async setPrefs(username: string, host: string, prefs: ArchivePrefs): Promise<void> {
    await this.pool.query(
      `INSERT INTO "${this.schema}".archive_prefs (host, username, prefs) VALUES ($1, $2, $3)
       ON CONFLICT (host, username) DO UPDATE SET prefs = EXCLUDED.prefs`,
      [host, username, prefs],
    );
  }

  expire(before: Date, batch: number): Promise<number> {
    return transaction(this.pool, async (client) => {
      const r = await client.query<{ host: string; username: string; n: string }>(
        `WITH gone AS (
           DELETE FROM ${this.t} WHERE seq IN (SELECT seq FROM ${this.t} WHERE ts < $1 ORDER BY ts LIMIT $2) RETURNING host, username
         ) SELECT host, username, COUNT(*) AS n FROM gone GROUP BY host, username`,
        [before.getTime(), batch],
      );
      let removed = 0;
      for (const row of r.rows) {
        removed += Number(row.n);
        await client.query(`UPDATE ${this.counts} SET n = n - $3 WHERE host = $1 AND username = $2`, [row.host, row.username, Number(row.n)]);
      }
      return removed;
    });
  }

  async overLimit(limit: number, scan: number, from?: { host: string; username: string }) {
    const r = from
      ? await this.pool.query<{ host: string; username: string; n: string }>(
          `SELECT host, username, n FROM ${this.counts} WHERE (host, username) > ($1, $2) ORDER BY host, username LIMIT $3`,
          [from.host, from.username, scan],
        )
      : await this.pool.query<{ host: string; username: string; n: string }>(`SELECT host, username, n FROM ${this.counts} ORDER BY host, username LIMIT $1`, [scan]);
    const last = r.rows.at(-1);
    const users: OverLimitUser[] = r.rows.filter((row) => Number(row.n) > limit).map((row) => ({ host: row.host, username: row.username, count: Number(row.n) }));
    return { users, ...(r.rows.length === scan && last ? { next: { host: last.host, username: last.username } } : {}) };
  }

  trim(username: string, host: string, keep: number, batch: number): Promise<number> {
    return transaction(this.pool, async (client) => {
      // The count row is locked first, so two sweeps cannot both trim the same excess.
      const c = await client.query<{ n: string }>(`SELECT n FROM ${this.counts} WHERE host = $1 AND username = $2 FOR UPDATE`, [host, username]);
      const excess = Math.min(batch, Number(c.rows[0]?.n ?? 0) - keep);
      if (excess <= 0) return 0;
      const r = await client.query(
        `DELETE FROM ${this.t} WHERE seq IN (SELECT seq FROM ${this.t} WHERE host = $1 AND username = $2 ORDER BY ts, seq LIMIT $3)`,
        [host, username, excess],
      );
      const removed = r.rowCount ?? 0;
      await client.query(`UPDATE ${this.counts} SET n = n - $3 WHERE host = $1 AND username = $2`, [host, username, removed]);
      return removed;
    });
  }
}
