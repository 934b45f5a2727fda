// Runs the storage contract on the real PostgreSQL of this machine
// (127.0.0.1:5432, database `test`), each case in a schema of its own.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runStorageContract } from '../contract.ts';
import { openPostgresStorage } from './postgres-storage.ts';
import type { Storage } from '../ports.ts';

const URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

runStorageContract('PostgreSQL', async () => {
  const schema = `sb_test_${randomBytes(4).toString('hex')}`;
  const opened: Storage[] = [await openPostgresStorage(URL, { schema })];
  return {
    storage: opened[0]!,
    reopen: async () => {
      const s = await openPostgresStorage(URL, { schema });
      opened.push(s);
      return s;
    },
    cleanup: async () => {
      for (const s of opened) await s.close().catch(() => {});
      const pool = new pg.Pool({ connectionString: URL, max: 1 });
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
});
