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

  it('an archive of version 1 (waves 1 and 2) opens at the current version with its messages, ids and full text', async () => {
    const old = join(dir, 'version1.sqlite');
    const db = new Database(old);
    db.exec(ARCHIVE_MIGRATIONS[0]!);
    db.exec('CREATE TABLE archive_schema_version (version INTEGER NOT NULL); INSERT INTO archive_schema_version (version) VALUES (1)');
    const insert = db.prepare('INSERT INTO archive (host, username, id, ts, with_bare, with_full, stanza, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    for (let i = 1; i <= 3; i++) insert.run('h', 'alice', `old-${i}`, 1000 * i, 'bob@h', 'bob@h/r', `<message><body>old words ${i}</body></message>`, `old words ${i}`);
    db.prepare("INSERT INTO archive_counts (host, username, n) VALUES ('h', 'alice', 3)").run();
    db.close();

    const s = openSqliteStorage(old);
    try {
      await s.archive.append([{ username: 'alice', host: 'h', id: 'new-1', timestamp: new Date(4000), with: 'bob@h/r', stanza: '<message><body>new words</body></message>', body: 'new words' }]);
      const all = await s.archive.query('alice', 'h', { max: 10 });
      assert.ok(all.ok);
      assert.deepEqual(all.page.messages.map((m) => m.id), ['old-1', 'old-2', 'old-3', 'new-1']);
      assert.equal(all.page.count, 4);
      const after = await s.archive.query('alice', 'h', { max: 10, after: 'old-2' });
      assert.ok(after.ok);
      assert.deepEqual(after.page.messages.map((m) => m.id), ['old-3', 'new-1']);
      const words = await s.archive.query('alice', 'h', { max: 10, fullText: 'words' });
      assert.ok(words.ok);
      assert.deepEqual(words.page.messages.map((m) => m.id), ['old-1', 'old-2', 'old-3', 'new-1'], 'text indexed before and after the migration');
      await assert.rejects(s.archive.append([{ username: 'alice', host: 'h', id: 'old-1', timestamp: new Date(5000), with: 'bob@h', stanza: '<message/>' }]), /archiving failed/);
      // Retention removes old and new rows from the full-text index too.
      assert.equal(await s.archive.expire(new Date(2500), 10), 2);
      const left = await s.archive.query('alice', 'h', { max: 10, fullText: 'words' });
      assert.ok(left.ok);
      assert.deepEqual(left.page.messages.map((m) => m.id), ['old-3', 'new-1']);
    } finally {
      await s.close();
    }
    const check = new Database(old);
    try {
      assert.equal(check.prepare<[], { version: number }>('SELECT version FROM archive_schema_version').get()!.version, ARCHIVE_MIGRATIONS.length);
      // FTS5 raises SQLITE_CORRUPT_VTAB when its index and the archive disagree.
      assert.doesNotThrow(() => check.prepare("INSERT INTO archive_fts (archive_fts) VALUES ('integrity-check')").run());
    } finally {
      check.close();
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
