// The PostgreSQL schema as an ordered list of migrations; `schema_version`
// holds how many have been applied.

import type pg from 'pg';
import { transaction } from './transaction.ts';

/** Ordered schema changes; the index + 1 is the schema version. Append only. `$S` is the schema. */
const MIGRATIONS: string[] = [
  `CREATE TABLE "$S".accounts (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     credentials JSONB NOT NULL,
     created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
     PRIMARY KEY (host, username)
   )`,
  `CREATE TABLE "$S".roster_items (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     contact TEXT NOT NULL,
     item JSONB NOT NULL,
     PRIMARY KEY (host, username, contact)
   );
   CREATE TABLE "$S".roster_versions (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     version BIGINT NOT NULL,
     PRIMARY KEY (host, username)
   );
   CREATE TABLE "$S".offline_messages (
     id BIGSERIAL PRIMARY KEY,
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     stanza TEXT NOT NULL,
     stored_at TIMESTAMPTZ NOT NULL DEFAULT now()
   );
   CREATE INDEX ON "$S".offline_messages (host, username, id);`,
  `CREATE TABLE "$S".user_data (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (host, username, kind, key)
   )`,
  `CREATE TABLE "$S".muc_rooms (
     service TEXT NOT NULL,
     room TEXT NOT NULL,
     state TEXT NOT NULL,
     public BOOLEAN NOT NULL,
     name TEXT NOT NULL,
     PRIMARY KEY (service, room)
   );
   CREATE TABLE "$S".muc_messages (
     id BIGSERIAL PRIMARY KEY,
     service TEXT NOT NULL,
     room TEXT NOT NULL,
     nick TEXT NOT NULL,
     stanza TEXT NOT NULL,
     at TIMESTAMPTZ NOT NULL
   );
   CREATE INDEX ON "$S".muc_messages (service, room, id);`,
  `CREATE TABLE "$S".fast_tokens (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     agent TEXT NOT NULL,
     slot TEXT NOT NULL,
     mechanism TEXT NOT NULL,
     key TEXT NOT NULL,
     expires_at TIMESTAMPTZ NOT NULL,
     count BIGINT,
     PRIMARY KEY (host, username, agent, slot)
   );`,
];

/**
 * Creates the schema and brings it to the latest version in one transaction,
 * under an advisory lock so that several c2s/sm processes starting on one
 * database at once migrate it once.
 */
export async function migratePostgres(pool: pg.Pool, schema: string): Promise<void> {
  await transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`switchboard-migrate-${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".schema_version (version INTEGER NOT NULL)`);
    const r = await client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_version`);
    const current = r.rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) throw new Error(`the store has schema version ${current}, newer than this Switchboard knows (${MIGRATIONS.length})`);
    for (let v = current; v < MIGRATIONS.length; v++) await client.query(MIGRATIONS[v]!.replaceAll('$S', schema));
    if (r.rows.length === 0) await client.query(`INSERT INTO "${schema}".schema_version (version) VALUES ($1)`, [MIGRATIONS.length]);
    else await client.query(`UPDATE "${schema}".schema_version SET version = $1`, [MIGRATIONS.length]);
  });
}
