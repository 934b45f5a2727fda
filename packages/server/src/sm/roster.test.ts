// Rosters keeps a user's roster in memory exactly while sessions hold it,
// over the real embedded store: every session of a user sees the one object
// that roster changes update.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../config.ts';
import { openStorage } from '../storage/open.ts';
import type { RosterItem, Storage } from '../storage/ports.ts';
import { Rosters } from './roster.ts';

const root = mkdtempSync(join(tmpdir(), 'switchboard-roster-'));
let storage: Storage;

const item = (jid: string): RosterItem => ({ jid, groups: [], subscription: 'both', ask: false, pendingIn: false, approved: false, visible: true });

before(async () => {
  storage = await openStorage({ ...DEFAULT_CONFIG, dataDir: root });
  await storage.rosters.putItem('alice', 'localhost', item('bob@localhost'));
});

after(async () => {
  await storage.close();
  rmSync(root, { recursive: true, force: true });
});

describe('Rosters holds', () => {
  it('two binds racing to load share one roster, kept until the last session lets go', async () => {
    const rosters = new Rosters(storage.rosters, 'localhost');
    const [first, second] = await Promise.all([rosters.retain('alice'), rosters.retain('alice')]);
    assert.equal(first, second);
    assert.ok(first.items.has('bob@localhost'));
    rosters.release('alice');
    await rosters.put('alice', item('carol@localhost'));
    assert.ok(second.items.has('carol@localhost'), 'the session still holding the roster sees the change');
    assert.equal(await rosters.load('alice'), second);
    rosters.release('alice');
    assert.notEqual(await rosters.load('alice'), second, 'read from storage once nobody holds it');
    rosters.release('alice'); // one release too many changes nothing
    assert.ok((await rosters.load('alice')).items.has('carol@localhost'));
  });

  it('a removed account: whoever still holds the roster sees it empty', async () => {
    const rosters = new Rosters(storage.rosters, 'localhost');
    await rosters.retain('alice');
    rosters.accountRemoved('alice');
    assert.equal((await rosters.load('alice')).items.size, 0);
    assert.equal((await rosters.retain('alice')).items.size, 0, 'a bind while the ending sessions hold it');
  });
});
