// The store-size gauges' source on a real SQLite store: the store is read at
// most once per maxAgeMs however often it is asked, and a read that does not
// settle within waitMs is not waited for (the last sizes stand).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { storeSizes } from './store-sizes.ts';

describe('store sizes for the gauges', () => {
  it('reads the totals, at most once per maxAgeMs; a stuck read is waited for no longer than waitMs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-sizes-'));
    const storage = openSqliteStorage(join(dir, 'db.sqlite'));
    try {
      let reads = 0;
      let stuck = false;
      const offline = {
        total: (cap: number): Promise<number> => {
          reads++;
          return stuck ? new Promise<number>(() => {}) : storage.offline.total(cap);
        },
      };
      const sizes = storeSizes({ offline: offline as unknown as typeof storage.offline, archive: storage.archive }, { maxAgeMs: 60_000, waitMs: 50 });
      await storage.offline.store('bob', 'localhost', '<message/>', 10);
      await storage.archive.append([{ username: 'bob', host: 'localhost', id: 'a1', timestamp: new Date(), with: 'alice@localhost', stanza: '<message/>', body: 'hi' }]);
      assert.deepEqual(await sizes.read(), { offlineMessages: 1, archiveMessages: 1 });
      await storage.offline.store('bob', 'localhost', '<message/>', 10);
      assert.deepEqual(await sizes.read(), { offlineMessages: 1, archiveMessages: 1 }, 'within maxAgeMs: the sizes read before');
      assert.equal(reads, 1);

      const fresh = storeSizes({ offline: offline as unknown as typeof storage.offline, archive: storage.archive }, { maxAgeMs: 0, waitMs: 50 });
      assert.deepEqual(await fresh.read(), { offlineMessages: 2, archiveMessages: 1 });
      stuck = true;
      assert.deepEqual(await fresh.read(), { offlineMessages: 2, archiveMessages: 1 }, 'the store does not answer: the last sizes, after waitMs');
      assert.deepEqual(await fresh.read(), { offlineMessages: 2, archiveMessages: 1 });
      assert.equal(reads, 3, 'one read in flight at a time: the stuck one is not asked again');
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
