// The storage contract on the real PostgreSQL of this machine (127.0.0.1:5432,
// database `test`), in a schema of its own for this run, dropped afterwards.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runStorageContract } from '../contract.ts';
import { runFastTokenContract } from '../fast-token-contract.ts';
import { runBulkContract } from '../bulk-contract.ts';
import { openPostgresStorage } from './postgres-storage.ts';

const URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sb_test_${randomBytes(6).toString('hex')}`;

after(async () => {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    for (const s of [schema, ...bulkSchemas]) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
});

runStorageContract('PostgreSQL', () => openPostgresStorage(URL, { schema }));
runFastTokenContract('PostgreSQL', () => openPostgresStorage(URL, { schema }));
const bulkSchemas: string[] = [];
runBulkContract('PostgreSQL', () => {
  bulkSchemas.push(`${schema}_b${bulkSchemas.length}`);
  return openPostgresStorage(URL, { schema: bulkSchemas.at(-1)! });
});

describe('PostgreSQL specifics', () => {
  it('several processes starting at once migrate the schema once', async () => {
    const fresh = `${schema}_m`;
    try {
      const stores = await Promise.all([1, 2, 3].map(() => openPostgresStorage(URL, { schema: fresh })));
      await Promise.all(stores.map((s) => s.close()));
      const client = new pg.Client({ connectionString: URL });
      await client.connect();
      try {
        const r = await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "${fresh}".schema_version`);
        assert.equal(Number(r.rows[0]!.n), 1);
      } finally {
        await client.end();
      }
    } finally {
      const client = new pg.Client({ connectionString: URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
      await client.end();
    }
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await assert.rejects(openPostgresStorage(URL, { schema: 'x"; DROP TABLE y; --' }), /invalid schema name/);
  });

  it('an unreachable server is a rejected start, not a crash', async () => {
    await assert.rejects(openPostgresStorage('postgres://postgres@127.0.0.1:1/test', { schema }));
  });
});
