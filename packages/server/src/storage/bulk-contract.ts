// The bulk copy contract (BulkCopy in ports.ts), run on SQLite and PostgreSQL
// by sqlite/sqlite.test.ts and postgres/postgres.test.ts: a store filled
// through the ports is copied by storage/migrate.ts, in pages of two, into a
// fresh store of the same backend, and everything is read back through the
// ports: the same accounts (stored keys, creation time), rosters and versions,
// offline queues with their times, user data, archive (ids, times, full
// text), preferences, rooms and FAST tokens. A second copy writes nothing; a
// copy into a store that holds data is refused. (Across backends: the
// `switchboard migrate` test.)

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deriveScramCredentials } from '../auth/scram-credentials.ts';
import type { ArchiveEntry, MessageArchive } from './archive.ts';
import type { RosterItem, Storage } from './ports.ts';
import { copyStorage, tallyStorage, unfinishedCopy } from './migrate.ts';

const H = 'bulk.example';
const T0 = Date.UTC(2026, 5, 1);
const item = (jid: string, over: Partial<RosterItem> = {}): RosterItem => ({ jid, groups: [], subscription: 'none', ask: false, pendingIn: false, approved: false, visible: true, ...over });
const entry = (username: string, i: number, body?: string): ArchiveEntry => ({
  username,
  host: H,
  id: `0190-${username}-${String(i).padStart(3, '0')}`,
  timestamp: new Date(T0 + i * 1000),
  with: i % 2 ? 'ann@example.net/phone' : 'ben@example.net',
  stanza: `<message id="m${i}"><body>${body ?? `plain ${i}`}</body></message>`,
  ...(body === undefined ? {} : { body }),
});

async function fill(s: Storage): Promise<void> {
  const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
  for (const u of users) assert.deepEqual(await s.accounts.createAccount(u, H, await deriveScramCredentials(`pw-${u}`, 4096)), { ok: true });
  await s.rosters.putItem('alice', H, item('bob@bulk.example', { subscription: 'both', name: 'Bob', groups: ['Friends', 'Work'] }));
  await s.rosters.putItem('alice', H, item('carol@bulk.example', { subscription: 'to', ask: true }));
  await s.rosters.putItem('alice', H, item('mallory@evil.example', { pendingIn: true, visible: false }));
  await s.rosters.putItem('bob', H, item('alice@bulk.example', { subscription: 'both' }));
  await s.rosters.removeItem('bob', H, 'alice@bulk.example');
  for (const u of ['alice', 'carol', 'dave']) for (let i = 0; i < 3; i++) assert.equal(await s.offline.store(u, H, `<message to="${u}@${H}"><body>off ${i}</body></message>`, 100), true);
  await s.userData.set('alice', H, 'vcard', '', '<vCard xmlns="vcard-temp"><FN>Alice</FN></vCard>');
  await s.userData.set('alice', H, 'private', 'storage:bookmarks', '<storage xmlns="storage:bookmarks"/>');
  await s.userData.set('alice', H, 'pepnode', 'urn:xmpp:avatar:metadata', '{}');
  await s.userData.set('alice', H, 'pep:urn:xmpp:avatar:metadata', 'h1', '{"seq":1,"xml":"<metadata/>"}');
  await s.userData.set('bob', H, 'last', '', '{"at":1}');
  const archived: ArchiveEntry[] = [];
  for (let i = 0; i < 9; i++) archived.push(entry('alice', i, i % 3 === 0 ? `kumquat number ${i}` : undefined), entry('bob', i));
  await s.archive.append(archived);
  await s.archive.setPrefs('alice', H, { default: 'roster', always: ['ann@example.net'], never: ['ben@example.net'] });
  await s.muc.putRoom('conference.bulk.example', 'lobby', '{"config":{"persistent":true}}', { public: true, name: 'Lobby' });
  await s.muc.putRoom('conference.bulk.example', 'secret', '{"config":{"public":false}}', { public: false, name: 'Secret' });
  await s.muc.putRoom('conference.bulk.example', 'tea', '{}', { public: true, name: 'Tea' });
  const expires = new Date(Math.floor(Date.now() / 1000) * 1000 + 86_400_000);
  await s.fastTokens.put('alice', H, 'agent-1', { mechanism: 'HT-SHA-256-NONE', key: 'k1', expiresAt: expires });
  assert.equal(await s.fastTokens.use('alice', H, 'agent-1', 'new', 7), true);
  await s.fastTokens.put('alice', H, 'agent-1', { mechanism: 'HT-SHA-256-NONE', key: 'k2', expiresAt: expires });
  await s.fastTokens.put('bob', H, 'agent-2', { mechanism: 'HT-SHA-256-EXPR', key: 'k3', expiresAt: expires });
}

/** Everything the ports show of the filled store, for comparison. */
async function snapshot(s: Storage): Promise<unknown> {
  const users = await s.accounts.listAccounts(H);
  const out: Record<string, unknown> = { users };
  for (const u of users) {
    const archive = await s.archive.query(u, H, { max: 100 });
    const fullText = await s.archive.query(u, H, { max: 100, fullText: 'kumquat' });
    out[u] = {
      account: await s.accounts.getAccount(u, H),
      roster: await s.rosters.getRoster(u, H),
      data: await Promise.all(['vcard', 'private', 'pepnode', 'pep:urn:xmpp:avatar:metadata', 'last'].map((kind) => s.userData.list(u, H, kind))),
      archive: archive.ok ? archive.page : archive,
      fullText: fullText.ok ? fullText.page.messages.map((m) => m.id) : fullText,
      archiveCount: await s.archive.count(u, H),
      prefs: await s.archive.getPrefs(u, H),
      fast: [await s.fastTokens.get(u, H, 'agent-1'), await s.fastTokens.get(u, H, 'agent-2')],
      offlineCount: await s.offline.count(u, H),
    };
  }
  out.rooms = await Promise.all(['lobby', 'secret', 'tea'].map((r) => s.muc.getRoom('conference.bulk.example', r)));
  out.publicRooms = await s.muc.publicRooms('conference.bulk.example', 10);
  return out;
}

/** `openFresh` returns a new, empty store each call; the caller removes them when the suite is done. */
export function runBulkContract(name: string, openFresh: () => Promise<Storage>): void {
  describe(`bulk copy contract: ${name}`, () => {
    it('copies every port in pages, reads back the same through the ports, and a second copy writes nothing', async () => {
      const source = await openFresh();
      const target = await openFresh();
      try {
        await fill(source);
        const pages: string[] = [];
        const result = await copyStorage(source, target, { batch: 2, progress: (port, read) => pages.push(`${port}:${read}`) });
        assert.ok(result.ok, JSON.stringify(result));
        assert.deepEqual(result.written, { accounts: 5, rosters: 2, offline: 3, userData: 5, archive: 18, archivePrefs: 1, muc: 3, fastTokens: 3 });
        assert.ok(pages.includes('archive:2') && pages.includes('archive:18'), 'the archive went in pages');
        assert.deepEqual(
          Object.fromEntries(result.counts.map((c) => [c.what, c.target])),
          { accounts: 5, rosters: 2, rosterItems: 3, offlineMessages: 9, userData: 5, archive: 18, archivePrefs: 1, mucRooms: 3, fastTokens: 3 },
        );
        assert.deepEqual(await snapshot(target), await snapshot(source));
        // The offline queues, with the time each was stored, in order (take empties them: last).
        for (const u of ['alice', 'carol', 'dave']) assert.deepEqual(await target.offline.take(u, H), await source.offline.take(u, H));

        // Resumption: everything is there already, so nothing is written and the counts still agree.
        const again = await copyStorage(source, target, { resume: true, batch: 3 });
        assert.ok(again.ok, JSON.stringify(again));
        assert.deepEqual(Object.values(again.written), [0, 0, 0, 0, 0, 0, 0, 0]);
        // Without it, a store that holds data is refused before anything is written.
        const refused = await copyStorage(source, target);
        assert.equal(refused.ok, false);
        assert.equal(!refused.ok && refused.reason, 'target-not-empty');

        // The copy is a working store: a new message archives after the copied ones, and the counter goes on.
        await target.archive.append([entry('alice', 50, 'kumquat late')]);
        const late = await target.archive.query('alice', H, { max: 100, fullText: 'kumquat' });
        assert.ok(late.ok);
        assert.deepEqual(late.page.messages.map((m) => m.id).slice(-2), ['0190-alice-006', '0190-alice-050']);
        assert.equal(await target.archive.count('alice', H), 10);
      } finally {
        await source.close();
        await target.close();
      }
    });

    it('a batch is one transaction: a partly copied page sent again adds only what is missing', async () => {
      const source = await openFresh();
      const target = await openFresh();
      try {
        await fill(source);
        const page = await source.archive.bulk.exportPage(undefined, 10);
        assert.equal(await target.archive.bulk.importRecords(page.records.slice(0, 4)), 4);
        assert.equal(await target.archive.bulk.importRecords(page.records), 6, 'the four already there are skipped');
        const accounts = await source.accounts.bulk.exportPage(undefined, 10);
        assert.equal(await target.accounts.bulk.importRecords(accounts.records.slice(1, 2)), 1);
        const resumed = await copyStorage(source, target, { resume: true });
        assert.ok(resumed.ok, JSON.stringify(resumed));
        assert.equal(resumed.written.archive, 8);
        assert.equal(resumed.written.accounts, 4);
        assert.deepEqual(await tallyStorage(target), await tallyStorage(source));
      } finally {
        await source.close();
        await target.close();
      }
    });

    it('a copy that fails part-way leaves the target marked unfinished, refused without --resume, and a resumption finishes it', async () => {
      const source = await openFresh();
      const target = await openFresh();
      try {
        await fill(source);
        // The target's archive fails on its second page, as a lost connection would.
        let pages = 0;
        const failing: Storage = {
          ...target,
          archive: {
            prefsBulk: target.archive.prefsBulk,
            bulk: {
              ...target.archive.bulk,
              importRecords: (records: readonly ArchiveEntry[]) => (++pages === 2 ? Promise.reject(new Error('connection lost')) : target.archive.bulk.importRecords(records)),
            },
          } as unknown as MessageArchive,
        };
        await assert.rejects(copyStorage(source, failing, { batch: 5, from: 'the source' }), /connection lost/);
        assert.match((await unfinishedCopy(target)) ?? '', /"from":"the source"/);
        assert.equal((await tallyStorage(target)).archive, 5, 'the first page is in, the second is not');
        const refused = await copyStorage(source, target);
        assert.ok(!refused.ok && refused.reason === 'target-not-empty' && refused.unfinished !== undefined);
        // And nobody copies from it.
        const onward = await openFresh();
        try {
          const fromUnfinished = await copyStorage(target, onward);
          assert.ok(!fromUnfinished.ok && fromUnfinished.reason === 'source-unfinished');
        } finally {
          await onward.close();
        }
        const resumed = await copyStorage(source, target, { resume: true, batch: 5 });
        assert.ok(resumed.ok, JSON.stringify(resumed));
        assert.equal(resumed.written.archive, 13);
        assert.equal(await unfinishedCopy(target), undefined, 'the mark goes when the counts agree');
        assert.deepEqual(await snapshot(target), await snapshot(source));
      } finally {
        await source.close();
        await target.close();
      }
    });
  });
}
