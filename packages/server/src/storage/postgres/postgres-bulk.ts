// BulkCopy (ports.ts) on PostgreSQL, for `switchboard migrate`: keyed tables
// are read in key order a page at a time (one range scan of the primary key)
// and written back with one multi-row INSERT … ON CONFLICT DO NOTHING per
// batch, in one transaction. Rosters and offline queues travel whole per user.

import type pg from 'pg';
import type { Account, BulkCopy, FastTokenRow, MucRoomRecord, RosterItem, ScramCredentials, UserDataRecord, UserOffline, UserRoster } from '../ports.ts';
import type { ArchiveEntry, ArchivePrefs, UserArchivePrefs } from '../archive.ts';
import { keyOf, page } from '../bulk.ts';
import { transaction } from './transaction.ts';

type Row = Record<string, unknown>;

interface KeyedTable<T> {
  table: string;
  keys: readonly string[];
  columns: readonly string[];
  toRecord(row: Row): T;
  toRow(record: T): unknown[];
  keyOf(record: T): string[];
  tally: string;
}

/** A statement carries at most 65,535 parameters: rows go in chunks that stay under it. */
function chunks<T>(records: readonly T[], columns: number): T[][] {
  const size = Math.floor(60_000 / columns);
  const out: T[][] = [];
  for (let i = 0; i < records.length; i += size) out.push(records.slice(i, i + size));
  return out;
}

/** `($1, $2), ($3, $4)` for rows of `width` values, and the values flattened. */
function valuesList(rows: unknown[][]): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const sql = rows.map((row) => `(${row.map((v) => (values.push(v), `$${values.length}`)).join(', ')})`).join(', ');
  return { sql, values };
}

export function keyedBulk<T>(pool: pg.Pool, schema: string, spec: KeyedTable<T>): BulkCopy<T> {
  const t = `"${schema}".${spec.table}`;
  const cols = spec.columns.join(', ');
  const order = spec.keys.join(', ');
  return {
    async exportPage(cursor, limit) {
      const key = cursor === undefined ? [] : keyOf(cursor, spec.keys.length);
      const where = cursor === undefined ? '' : `WHERE (${order}) > (${key.map((_, i) => `$${i + 1}`).join(', ')})`;
      const r = await pool.query<Row>(`SELECT ${cols} FROM ${t} ${where} ORDER BY ${order} LIMIT $${key.length + 1}`, [...key, limit]);
      return page(r.rows.map(spec.toRecord), limit, spec.keyOf);
    },
    importRecords(records) {
      if (records.length === 0) return Promise.resolve(0);
      return transaction(pool, async (client) => {
        let written = 0;
        for (const chunk of chunks(records, spec.columns.length)) {
          const { sql, values } = valuesList(chunk.map(spec.toRow));
          written += (await client.query(`INSERT INTO ${t} (${cols}) VALUES ${sql} ON CONFLICT DO NOTHING`, values)).rowCount ?? 0;
        }
        return written;
      });
    },
    async tally() {
      const r = await pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${t}`);
      return { [spec.tally]: Number(r.rows[0]!.n) };
    },
  };
}

export function accountsBulk(pool: pg.Pool, schema: string): BulkCopy<Account> {
  return keyedBulk<Account>(pool, schema, {
    table: 'accounts',
    keys: ['host', 'username'],
    columns: ['host', 'username', 'credentials', 'created_at'],
    // The stored SCRAM keys as they are: a copy never sees or derives a password.
    toRecord: (r) => ({ host: r.host as string, username: r.username as string, credentials: r.credentials as ScramCredentials, createdAt: r.created_at as Date }),
    toRow: (a) => [a.host, a.username, JSON.stringify(a.credentials), a.createdAt],
    keyOf: (a) => [a.host, a.username],
    tally: 'accounts',
  });
}

export function userDataBulk(pool: pg.Pool, schema: string): BulkCopy<UserDataRecord> {
  return keyedBulk<UserDataRecord>(pool, schema, {
    table: 'user_data',
    keys: ['host', 'username', 'kind', 'key'],
    columns: ['host', 'username', 'kind', 'key', 'value'],
    toRecord: (r) => ({ host: r.host as string, username: r.username as string, kind: r.kind as string, key: r.key as string, value: r.value as string }),
    toRow: (d) => [d.host, d.username, d.kind, d.key, d.value],
    keyOf: (d) => [d.host, d.username, d.kind, d.key],
    tally: 'userData',
  });
}

export function mucBulk(pool: pg.Pool, schema: string): BulkCopy<MucRoomRecord> {
  return keyedBulk<MucRoomRecord>(pool, schema, {
    table: 'muc_rooms',
    keys: ['service', 'room'],
    columns: ['service', 'room', 'state', 'public', 'name'],
    toRecord: (r) => ({ service: r.service as string, room: r.room as string, state: r.state as string, public: r.public as boolean, name: r.name as string }),
    toRow: (m) => [m.service, m.room, m.state, m.public, m.name],
    keyOf: (m) => [m.service, m.room],
    tally: 'mucRooms',
  });
}

export function fastTokensBulk(pool: pg.Pool, schema: string): BulkCopy<FastTokenRow> {
  return keyedBulk<FastTokenRow>(pool, schema, {
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
      expiresAt: r.expires_at as Date,
      count: r.count === null ? null : Number(r.count),
    }),
    toRow: (f) => [f.host, f.username, f.agent, f.slot, f.mechanism, f.key, f.expiresAt, f.count],
    keyOf: (f) => [f.host, f.username, f.agent, f.slot],
    tally: 'fastTokens',
  });
}

export function archivePrefsBulk(pool: pg.Pool, schema: string): BulkCopy<UserArchivePrefs> {
  return keyedBulk<UserArchivePrefs>(pool, schema, {
    table: 'archive_prefs',
    keys: ['host', 'username'],
    columns: ['host', 'username', 'prefs'],
    toRecord: (r) => ({ host: r.host as string, username: r.username as string, prefs: r.prefs as ArchivePrefs }),
    toRow: (p) => [p.host, p.username, JSON.stringify(p.prefs)],
    keyOf: (p) => [p.host, p.username],
    tally: 'archivePrefs',
  });
}

/** The users of a page, as two parallel arrays for `unnest`. */
function userArrays(users: readonly { host: string; username: string }[]): [string[], string[]] {
  return [users.map((u) => u.host), users.map((u) => u.username)];
}

/** Users in key order from `table`, a page at a time. */
async function userPage<R extends Row>(pool: pg.Pool, sql: (where: string, limit: string) => string, cursor: string | undefined, limit: number): Promise<R[]> {
  if (cursor === undefined) return (await pool.query<R>(sql('', '$1'), [limit])).rows;
  return (await pool.query<R>(sql('WHERE (host, username) > ($1, $2)', '$3'), [...keyOf(cursor, 2), limit])).rows;
}

/** Whole rosters: the version row and every item of a user in one record. */
export function rostersBulk(pool: pg.Pool, schema: string): BulkCopy<UserRoster> {
  const s = `"${schema}"`;
  return {
    async exportPage(cursor, limit) {
      const users = await userPage<{ host: string; username: string; version: string }>(
        pool,
        (where, lim) => `SELECT host, username, version FROM ${s}.roster_versions ${where} ORDER BY host, username LIMIT ${lim}`,
        cursor,
        limit,
      );
      const items = await pool.query<{ host: string; username: string; item: RosterItem }>(
        `SELECT host, username, item FROM ${s}.roster_items WHERE (host, username) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY host, username, contact`,
        userArrays(users),
      );
      const byUser = new Map<string, RosterItem[]>();
      for (const row of items.rows) {
        const key = `${row.username}@${row.host}`;
        byUser.set(key, [...(byUser.get(key) ?? []), row.item]);
      }
      const records = users.map((u) => ({ host: u.host, username: u.username, version: Number(u.version), items: byUser.get(`${u.username}@${u.host}`) ?? [] }));
      return page(records, limit, (r) => [r.host, r.username]);
    },
    importRecords(records) {
      return transaction(pool, async (client) => {
        let written = 0;
        for (const r of records) {
          // A user whose version row is here already was copied by an earlier run of this batch.
          const v = await client.query(`INSERT INTO ${s}.roster_versions (host, username, version) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [r.host, r.username, r.version]);
          if (v.rowCount !== 1) continue;
          if (r.items.length > 0) {
            const { sql, values } = valuesList(r.items.map((item) => [r.host, r.username, item.jid, JSON.stringify(item)]));
            await client.query(`INSERT INTO ${s}.roster_items (host, username, contact, item) VALUES ${sql}`, values);
          }
          written++;
        }
        return written;
      });
    },
    async tally() {
      const r = await pool.query<{ rosters: string; items: string }>(`SELECT (SELECT COUNT(*) FROM ${s}.roster_versions) AS rosters, (SELECT COUNT(*) FROM ${s}.roster_items) AS items`);
      return { rosters: Number(r.rows[0]!.rosters), rosterItems: Number(r.rows[0]!.items) };
    },
  };
}

/** Whole offline queues, oldest first, with the time each message was stored. */
export function offlineBulk(pool: pg.Pool, schema: string): BulkCopy<UserOffline> {
  const t = `"${schema}".offline_messages`;
  return {
    async exportPage(cursor, limit) {
      const users = await userPage<{ host: string; username: string }>(pool, (where, lim) => `SELECT DISTINCT host, username FROM ${t} ${where} ORDER BY host, username LIMIT ${lim}`, cursor, limit);
      const rows = await pool.query<{ host: string; username: string; stanza: string; stored_at: Date }>(
        `SELECT host, username, stanza, stored_at FROM ${t} WHERE (host, username) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY id`,
        userArrays(users),
      );
      const records = users.map((u): UserOffline => ({ ...u, messages: [] }));
      const byUser = new Map(records.map((r) => [`${r.username}@${r.host}`, r]));
      for (const row of rows.rows) byUser.get(`${row.username}@${row.host}`)!.messages.push({ stanza: row.stanza, storedAt: row.stored_at });
      return page(records, limit, (r) => [r.host, r.username]);
    },
    importRecords(records) {
      return transaction(pool, async (client) => {
        let written = 0;
        for (const r of records) {
          const any = await client.query(`SELECT 1 FROM ${t} WHERE host = $1 AND username = $2 LIMIT 1`, [r.host, r.username]);
          if (r.messages.length === 0 || any.rowCount !== 0) continue;
          for (const chunk of chunks(r.messages, 4)) {
            const { sql, values } = valuesList(chunk.map((m) => [r.host, r.username, m.stanza, m.storedAt]));
            await client.query(`INSERT INTO ${t} (host, username, stanza, stored_at) VALUES ${sql}`, values);
          }
          written++;
        }
        return written;
      });
    },
    async tally() {
      const r = await pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${t}`);
      return { offlineMessages: Number(r.rows[0]!.n) };
    },
  };
}

/**
 * The archive in archiving order (seq), written back through the archive's own insert (`insert`:
 * the counters kept and the full-text column generated as for any message); an id already in the
 * user's archive is skipped.
 */
export function archiveBulk(pool: pg.Pool, schema: string, insert: (client: pg.PoolClient, entries: readonly ArchiveEntry[]) => Promise<void>): BulkCopy<ArchiveEntry> {
  const t = `"${schema}".archive`;
  return {
    async exportPage(cursor, limit) {
      const r = await pool.query<{ seq: string; host: string; username: string; id: string; ts: string; with_full: string; stanza: string; body: string | null }>(
        `SELECT seq, host, username, id, ts, with_full, stanza, body FROM ${t} WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [cursor === undefined ? 0 : keyOf(cursor, 1)[0], limit],
      );
      const entries = r.rows.map((row): ArchiveEntry => ({
        username: row.username,
        host: row.host,
        id: row.id,
        timestamp: new Date(Number(row.ts)),
        with: row.with_full,
        stanza: row.stanza,
        ...(row.body === null ? {} : { body: row.body }),
      }));
      const last = r.rows.at(-1);
      return r.rows.length === limit && last ? { records: entries, next: JSON.stringify([last.seq]) } : { records: entries };
    },
    importRecords(records) {
      if (records.length === 0) return Promise.resolve(0);
      return transaction(pool, async (client) => {
        const held = await client.query<{ id: string; host: string; username: string }>(
          `SELECT id, host, username FROM ${t} WHERE (id, host, username) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
          [records.map((e) => e.id), records.map((e) => e.host), records.map((e) => e.username)],
        );
        const there = new Set(held.rows.map((h) => `${h.id}\u0000${h.username}@${h.host}`));
        const fresh = records.filter((e) => !there.has(`${e.id}\u0000${e.username}@${e.host}`));
        if (fresh.length > 0) await insert(client, fresh);
        return fresh.length;
      });
    },
    async tally() {
      const r = await pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${t}`);
      return { archive: Number(r.rows[0]!.n) };
    },
  };
}
