// openStorage picks the backend from the configuration.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_CONFIG, sqlitePath, type ServerConfig } from '../config.ts';
import { openStorage } from './open.ts';

const URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const root = mkdtempSync(join(tmpdir(), 'switchboard-open-'));
const schema = `sb_test_${randomBytes(6).toString('hex')}`;

after(async () => {
  rmSync(root, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe('openStorage', () => {
  it('sqlite: creates the data directory and the file at sqlitePath(config)', async () => {
    const config: ServerConfig = { ...DEFAULT_CONFIG, dataDir: join(root, 'nested', 'data') };
    const storage = await openStorage(config);
    try {
      assert.equal(storage.kind, 'sqlite');
      assert.ok(existsSync(sqlitePath(config)));
    } finally {
      await storage.close();
    }
  });

  it('postgres: the URL and schema of the configuration', async () => {
    const storage = await openStorage({ ...DEFAULT_CONFIG, dataDir: join(root, 'unused'), storage: { kind: 'postgres', url: URL, schema } });
    try {
      assert.equal(storage.kind, 'postgres');
      assert.equal(existsSync(join(root, 'unused')), false, 'no data directory for PostgreSQL');
      const client = new pg.Client({ connectionString: URL });
      await client.connect();
      const r = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      await client.end();
      assert.equal(r.rowCount, 1);
    } finally {
      await storage.close();
    }
  });
});
