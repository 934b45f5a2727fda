// The whole server on PostgreSQL (the real one on this machine) instead of
// the embedded SQLite: accounts made through the server, a login, removal.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { RawClient, startTestServer, type TestServer } from './helpers.ts';

const URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('server on PostgreSQL', () => {
  const schema = `sb_test_${randomBytes(4).toString('hex')}`;
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true, storage: { kind: 'postgres', url: URL, schema } });
  });

  after(async () => {
    await server.stop();
    const pool = new pg.Pool({ connectionString: URL, max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('stores accounts in PostgreSQL, logs in against them, removes them', async () => {
    assert.equal(server.storage.kind, 'postgres');
    await server.addUser('dora', 'explorer');
    const pool = new pg.Pool({ connectionString: URL, max: 1 });
    const rows = await pool.query(`SELECT username, credentials FROM "${schema}".accounts`);
    await pool.end();
    assert.deepEqual(rows.rows.map((r) => r.username), ['dora']);
    assert.ok(!JSON.stringify(rows.rows[0].credentials).includes('explorer'), 'no password at rest');
    const c = await RawClient.connect(server.c2sPort);
    assert.equal(await c.login('dora', 'explorer', 'pg'), 'dora@localhost/pg');
    assert.equal(await server.removeUser('dora'), true);
    await c.expect(/<not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    assert.equal(await server.storage.accounts.accountExists('dora', 'localhost'), false);
  });
});
