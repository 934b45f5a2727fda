// BlockLists keeps a user's list in memory exactly while sessions hold it,
// over the real embedded store.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jid } from '@switchboard/jid';
import { DEFAULT_CONFIG } from '../../../config.ts';
import { openStorage } from '../../../storage/open.ts';
import type { Storage } from '../../../storage/ports.ts';
import { SessionTable } from '../../sessions.ts';
import { BlockLists } from './block-lists.ts';

const root = mkdtempSync(join(tmpdir(), 'switchboard-blocking-'));
let storage: Storage;

before(async () => {
  storage = await openStorage({ ...DEFAULT_CONFIG, dataDir: root });
  await storage.userData.set('alice', 'localhost', 'block', 'mallory@localhost', '');
});

after(async () => {
  await storage.close();
  rmSync(root, { recursive: true, force: true });
});

function lists(): BlockLists {
  return new BlockLists({ domain: 'localhost', userData: storage.userData, sessions: new SessionTable(), sendTo: () => {}, sendUnavailableTo: () => {} });
}

describe('BlockLists holds', () => {
  it('two binds racing to load share one list, and it stays until the last session lets go', async () => {
    const blocking = lists();
    await Promise.all([blocking.retain('alice'), blocking.retain('alice')]);
    assert.equal(blocking.anyHeldBlocks, true);
    assert.equal(blocking.blockedSync('alice', jid('mallory@localhost/x')), true);
    blocking.release('alice');
    assert.equal(blocking.blockedSync('alice', jid('mallory@localhost')), true, 'one session still holds it');
    blocking.release('alice');
    assert.equal(blocking.blockedSync('alice', jid('mallory@localhost')), undefined, 'not in memory once nobody holds it');
    assert.equal(blocking.anyHeldBlocks, false);
  });

  it('anyHeldBlocks counts only held lists that are not empty', async () => {
    const blocking = lists();
    await blocking.retain('bob');
    assert.equal(blocking.anyHeldBlocks, false, 'bob blocks nobody');
    assert.equal(blocking.blockedSync('bob', jid('mallory@localhost')), false);
    await blocking.retain('alice');
    assert.equal(blocking.anyHeldBlocks, true);
    blocking.accountRemoved('alice');
    assert.equal(blocking.anyHeldBlocks, false, 'a removed account blocks nobody, even while its ending sessions hold the list');
    assert.equal(blocking.blockedSync('alice', jid('mallory@localhost')), false);
    blocking.release('alice');
    blocking.release('bob');
    blocking.release('bob'); // one release too many changes nothing
    assert.equal(blocking.anyHeldBlocks, false);
  });
});
