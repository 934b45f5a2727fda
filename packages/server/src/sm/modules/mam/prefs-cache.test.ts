// The preferences cache: hits from memory, storage read once per user, and
// past its limit the entry used longest ago goes (and is read again).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ArchivePrefs, MessageArchive } from '../../../storage/archive.ts';
import { PrefsCache } from './prefs-cache.ts';

const DEFAULTS: ArchivePrefs = { default: 'always', always: [], never: [] };

function countingArchive(): { archive: MessageArchive; reads: string[] } {
  const reads: string[] = [];
  const archive = { getPrefs: async (username: string) => (reads.push(username), username === 'nora' ? { default: 'never', always: [], never: [] } : undefined) } as unknown as MessageArchive;
  return { archive, reads };
}

describe('PrefsCache', () => {
  it('reads each user once, then answers from memory, synchronously', async () => {
    const { archive, reads } = countingArchive();
    const cache = new PrefsCache(archive, 'h', DEFAULTS, 10);
    assert.deepEqual(await cache.get('nora'), { default: 'never', always: [], never: [] });
    assert.deepEqual(await cache.get('amy'), DEFAULTS);
    assert.deepEqual(cache.get('nora'), { default: 'never', always: [], never: [] }, 'a hit is not a promise');
    assert.deepEqual(reads, ['nora', 'amy']);
  });

  it('past its limit forgets the user used longest ago, not the one inserted first', async () => {
    const { archive, reads } = countingArchive();
    const cache = new PrefsCache(archive, 'h', DEFAULTS, 3);
    for (const u of ['a', 'b', 'c']) await cache.get(u);
    cache.get('a'); // a is now the most recently used
    await cache.get('d'); // over the limit: b goes
    reads.length = 0;
    for (const u of ['a', 'c', 'd']) assert.ok(!(cache.get(u) instanceof Promise), `${u} kept`);
    await cache.get('b');
    assert.deepEqual(reads, ['b']);
  });
});
