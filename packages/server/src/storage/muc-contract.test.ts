// One MucStore contract (issue #20), run on SQLite and on the machine's
// PostgreSQL (a schema of its own, dropped afterwards).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Storage } from './ports.ts';
import { openSqliteStorage } from './sqlite/sqlite-storage.ts';
import { openPostgresStorage } from './postgres/postgres-storage.ts';

const PG_URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dir = mkdtempSync(join(tmpdir(), 'switchboard-muc-store-'));
const schema = `sb_mucstore_${randomBytes(5).toString('hex')}`;
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

function contract(name: string, open: () => Promise<Storage>): void {
  describe(`MucStore contract: ${name}`, () => {
    it('stores, replaces, lists public rooms in order, deletes, and keeps services apart', async () => {
      const s = await open();
      try {
        const svc = `conf${randomBytes(3).toString('hex')}.example`;
        assert.equal(await s.muc.getRoom(svc, 'a'), undefined);
        await s.muc.putRoom(svc, 'b', '{"v":1}', { public: true, name: 'Bee' });
        await s.muc.putRoom(svc, 'a', '{"v":1,"x":1}', { public: true, name: 'Ay' });
        await s.muc.putRoom(svc, 'hidden', '{}', { public: false, name: 'H' });
        await s.muc.putRoom(`other.${svc}`, 'c', '{}', { public: true, name: 'C' });
        assert.equal(await s.muc.getRoom(svc, 'a'), '{"v":1,"x":1}');
        await s.muc.putRoom(svc, 'a', '{"v":2}', { public: false, name: 'Ay' });
        assert.equal(await s.muc.getRoom(svc, 'a'), '{"v":2}');
        assert.deepEqual(await s.muc.publicRooms(svc, 10), [{ room: 'b', name: 'Bee' }]);
        await s.muc.putRoom(svc, 'a', '{"v":3}', { public: true, name: 'Ay' });
        assert.deepEqual(await s.muc.publicRooms(svc, 10), [{ room: 'a', name: 'Ay' }, { room: 'b', name: 'Bee' }]);
        assert.deepEqual(await s.muc.publicRooms(svc, 1), [{ room: 'a', name: 'Ay' }]);
        assert.equal(await s.muc.deleteRoom(svc, 'a'), true);
        assert.equal(await s.muc.deleteRoom(svc, 'a'), false);
        assert.equal(await s.muc.getRoom(svc, 'a'), undefined);
        assert.deepEqual(await s.muc.publicRooms(`other.${svc}`, 10), [{ room: 'c', name: 'C' }]);
      } finally {
        await s.close();
      }
    });
  });
}

contract('SQLite', async () => openSqliteStorage(join(dir, 'store.sqlite')));
contract('PostgreSQL', () => openPostgresStorage(PG_URL, { schema }));
