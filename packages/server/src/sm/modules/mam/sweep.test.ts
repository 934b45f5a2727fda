// The retention sweep on a real SQLite store: what it removes, and that it
// gives the event loop a turn between batches (delivery goes on meanwhile).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '../../../storage/sqlite/sqlite-storage.ts';
import type { ArchiveEntry } from '../../../storage/archive.ts';
import { ArchiveSweep } from './sweep.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-sweep-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const NOW = Date.UTC(2026, 5, 1);
const entry = (username: string, i: number, ageSeconds: number): ArchiveEntry => ({
  username,
  host: 'h',
  id: `${username}-${i}`,
  timestamp: new Date(NOW - ageSeconds * 1000),
  with: 'c@x',
  stanza: '<message><body>x</body></message>',
  body: 'x',
});

describe('archive sweep', () => {
  it('expires old messages and trims users over the limit, in batches, yielding between them', async () => {
    const storage = openSqliteStorage(join(dir, 'a.sqlite'));
    try {
      // alice: 3,000 messages a day old and 1,500 recent; bob: 40 recent; carol: 1,200 recent.
      await storage.archive.append([
        ...Array.from({ length: 3000 }, (_, i) => entry('alice', i, 86_400 + 3000 - i)),
        ...Array.from({ length: 1500 }, (_, i) => entry('alice', 3000 + i, 1500 - i)),
        ...Array.from({ length: 40 }, (_, i) => entry('bob', i, 100 - i)),
        ...Array.from({ length: 1200 }, (_, i) => entry('carol', i, 2000 - i)),
      ]);
      const sweep = new ArchiveSweep(storage.archive, { expirySeconds: 3600, maxPerUser: 1000, batch: 200, intervalSeconds: 60, now: () => NOW }, (err) => {
        throw err;
      });
      let turns = 0;
      const ticker = setInterval(() => turns++, 0);
      const report = await sweep.runOnce();
      clearInterval(ticker);
      assert.deepEqual(report, { expired: 3000, trimmed: 500 + 200 });
      // 15 expiry batches and 4 trim batches: the loop ran other work between them.
      assert.ok(turns >= 10, `the loop turned ${turns} times during the sweep`);
      assert.equal(await storage.archive.count('alice', 'h'), 1000);
      assert.equal(await storage.archive.count('bob', 'h'), 40);
      assert.equal(await storage.archive.count('carol', 'h'), 1000);
      const newest = await storage.archive.query('alice', 'h', { max: 1, before: '' });
      assert.ok(newest.ok && newest.page.messages[0]!.id === 'alice-4499', 'the newest messages are kept');
      assert.deepEqual(await sweep.runOnce(), { expired: 0, trimmed: 0 });
    } finally {
      await storage.close();
    }
  });

  it('does nothing when neither retention nor a limit is configured', () => {
    const storage = openSqliteStorage(join(dir, 'b.sqlite'));
    const sweep = new ArchiveSweep(storage.archive, { expirySeconds: 0, maxPerUser: 0, batch: 100, intervalSeconds: 1 }, () => {});
    assert.equal(sweep.enabled, false);
    sweep.start();
    return storage.close();
  });
});
