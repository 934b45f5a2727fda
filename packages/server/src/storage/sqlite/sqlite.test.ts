// The storage contract on the embedded SQLite backend, in a file of a fresh
// temporary directory, plus what only SQLite has: the pragmas and migrations.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runStorageContract } from '../contract.ts';
import { runFastTokenContract } from '../fast-token-contract.ts';
import { runBulkContract } from '../bulk-contract.ts';
import { openSqliteStorage } from './sqlite-storage.ts';
import { migrate, MIGRATIONS } from './migrations.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const path = join(dir, 'store.sqlite');
runStorageContract('SQLite', async () => openSqliteStorage(path));
runFastTokenContract('SQLite', async () => openSqliteStorage(path));
let fresh = 0;
runBulkContract('SQLite', async () => openSqliteStorage(join(dir, `bulk-${++fresh}.sqlite`)));

describe('SQLite specifics', () => {
  it('opens in WAL mode, at the latest schema version', async () => {
    const file = join(dir, 'pragmas.sqlite');
    await openSqliteStorage(file).close();
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.prepare<[], { version: number }>('SELECT version FROM schema_version').get()?.version, MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('migrates an older store forward, keeping its data, and refuses a newer one', () => {
    const db = new Database(':memory:');
    try {
      // A store as the first release left it: only the accounts table, at version 1.
      db.exec(MIGRATIONS[0]!);
      db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)');
      db.prepare("INSERT INTO accounts VALUES ('h', 'u', '{}', 0)").run();
      migrate(db);
      assert.equal(db.prepare<[], { version: number }>('SELECT version FROM schema_version').get()!.version, MIGRATIONS.length);
      assert.equal(db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM accounts').get()!.n, 1);
      assert.equal(db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM user_data').get()!.n, 0);
      migrate(db); // idempotent
      assert.equal(db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM schema_version').get()!.n, 1);
      db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length + 1);
      assert.throws(() => migrate(db), /newer/);
    } finally {
      db.close();
    }
  });
});
