// The archive contract on the real PostgreSQL of this machine, in a schema of
// its own for this run, dropped afterwards; and the migration of an archive
// made by waves 1 and 2 (version 1).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runArchiveContract } from '../archive-contract.ts';
import { openPostgresStorage } from './postgres-storage.ts';
import { ARCHIVE_MIGRATIONS } from './postgres-archive.ts';

const URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sb_test_${randomBytes(6).toString('hex')}`;
const old = `sb_test_${randomBytes(6).toString('hex')}`;

after(async () => {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS "${old}" CASCADE`);
  } finally {
    await client.end();
  }
});

runArchiveContract('PostgreSQL', () => openPostgresStorage(URL, { schema }));

describe('PostgreSQL archive specifics', () => {
  it('an archive of version 1 opens at the current version with its messages, ids and full text', async () => {
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA "${old}"`);
      await client.query(ARCHIVE_MIGRATIONS[0]!.replaceAll('$S', old));
      await client.query(`CREATE TABLE "${old}".archive_schema_version (version INTEGER NOT NULL); INSERT INTO "${old}".archive_schema_version (version) VALUES (1)`);
      for (let i = 1; i <= 3; i++) {
        await client.query(`INSERT INTO "${old}".archive (host, username, id, ts, with_bare, with_full, stanza, body) VALUES ('h', 'alice', $1, $2, 'bob@h', 'bob@h/r', $3, $4)`, [
          `old-${i}`,
          1000 * i,
          `<message><body>old words ${i}</body></message>`,
          `old words ${i}`,
        ]);
      }
      await client.query(`INSERT INTO "${old}".archive_counts (host, username, n) VALUES ('h', 'alice', 3)`);
    } finally {
      await client.end();
    }
    const s = await openPostgresStorage(URL, { schema: old });
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
      assert.equal(words.page.messages.length, 4);
      await assert.rejects(s.archive.append([{ username: 'alice', host: 'h', id: 'old-1', timestamp: new Date(5000), with: 'bob@h', stanza: '<message/>' }]), /archiving failed/);
    } finally {
      await s.close();
    }
  });
});
