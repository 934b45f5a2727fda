// The SQLite schema as an ordered list of migrations; `schema_version` holds
// how many have been applied.

import type Database from 'better-sqlite3';

/** Ordered schema changes; the index + 1 is the schema version. Append only. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE accounts (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     credentials TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (host, username)
   ) WITHOUT ROWID`,
  `CREATE TABLE roster_items (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     contact TEXT NOT NULL,
     item TEXT NOT NULL,
     PRIMARY KEY (host, username, contact)
   ) WITHOUT ROWID;
   CREATE TABLE roster_versions (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     version INTEGER NOT NULL,
     PRIMARY KEY (host, username)
   ) WITHOUT ROWID;
   CREATE TABLE offline_messages (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     stanza TEXT NOT NULL,
     stored_at INTEGER NOT NULL
   );
   CREATE INDEX offline_by_user ON offline_messages (host, username, id);`,
  `CREATE TABLE user_data (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (host, username, kind, key)
   ) WITHOUT ROWID`,
  `CREATE TABLE muc_rooms (
     service TEXT NOT NULL,
     room TEXT NOT NULL,
     state TEXT NOT NULL,
     public INTEGER NOT NULL,
     name TEXT NOT NULL,
     PRIMARY KEY (service, room)
   ) WITHOUT ROWID;
   CREATE TABLE muc_messages (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     service TEXT NOT NULL,
     room TEXT NOT NULL,
     nick TEXT NOT NULL,
     stanza TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX muc_messages_by_room ON muc_messages (service, room, id);`,
  `CREATE TABLE fast_tokens (
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     agent TEXT NOT NULL,
     slot TEXT NOT NULL,
     mechanism TEXT NOT NULL,
     key TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     count INTEGER,
     PRIMARY KEY (host, username, agent, slot)
   ) WITHOUT ROWID`,
];

/**
 * Brings the file to the latest schema. The version is read and the changes
 * applied in one IMMEDIATE transaction, so two processes opening the same
 * file at once cannot both apply a migration.
 */
export function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const apply = db.transaction(() => {
    const row = db.prepare<[], { version: number }>('SELECT version FROM schema_version').get();
    const current = row?.version ?? 0;
    if (current > MIGRATIONS.length) throw new Error(`the store has schema version ${current}, newer than this Switchboard knows (${MIGRATIONS.length})`);
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    if (row) db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length);
    else db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length);
  });
  apply.immediate();
}
