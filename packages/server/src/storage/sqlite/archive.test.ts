// The archive contract on the embedded SQLite backend, plus the query plans
// that keep a page one range scan of an index.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runArchiveContract } from '../archive-contract.ts';
import { openSqliteStorage } from './sqlite-storage.ts';
import { ARCHIVE_MIGRATIONS, migrateArchive } from './sqlite-archive.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-archive-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const path = join(dir, 'store.sqlite');
runArchiveContract('SQLite', async () => openSqliteStorage(path));

describe('SQLite archive specifics', () => {
  it('a page is read from an index, never by sorting the archive', () => {
    const db = new Database(':memory:');
    try {
      migrateArchive(db);
      const plan = (sql: string) =>
        db
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all('h', 'u', 'w', 1, 2, 51)
          .map((r) => (r as { detail: string }).detail)
          .join('; ');
      const forward = plan('SELECT id FROM archive WHERE host = ? AND username = ? AND with_bare = ? AND (ts, seq) > (?, ?) ORDER BY ts, seq LIMIT ?');
      assert.match(forward, /USING INDEX archive_by_with/);
      assert.doesNotMatch(forward, /TEMP B-TREE/);
      const backward = plan('SELECT id FROM archive WHERE host = ? AND username = ? AND ? != 0 AND (ts, seq) < (?, ?) ORDER BY ts DESC, seq DESC LIMIT ?');
      assert.match(backward, /USING INDEX archive_by_time/);
      assert.doesNotMatch(backward, /TEMP B-TREE/);
    } finally {
      db.close();
    }
  });

  it('the archive migrates by its own version, once', () => {
    const db = new Database(':memory:');
    try {
      migrateArchive(db);
      migrateArchive(db);
      assert.equal(db.prepare<[], { version: number }>('SELECT version FROM archive_schema_version').get()!.version, ARCHIVE_MIGRATIONS.length);
      db.prepare('UPDATE archive_schema_version SET version = ?').run(ARCHIVE_MIGRATIONS.length + 1);
      assert.throws(() => migrateArchive(db), /newer/);
    } finally {
      db.close();
    }
  });
});
