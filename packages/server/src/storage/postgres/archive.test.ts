// The archive contract on the real PostgreSQL of this machine, in a schema of
// its own for this run, dropped afterwards.

import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runArchiveContract } from '../archive-contract.ts';
import { openPostgresStorage } from './postgres-storage.ts';

const URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sb_test_${randomBytes(6).toString('hex')}`;

after(async () => {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
});

runArchiveContract('PostgreSQL', () => openPostgresStorage(URL, { schema }));
