// One contract for the message archive port (storage/archive.ts), run on
// SQLite (sqlite/archive.test.ts) and PostgreSQL (postgres/archive.test.ts).
// Each case works on a host of its own. The paging cases walk a 10,000-message
// archive page by page in both directions under every filter, and compare
// what they collected with the same filter applied to the data in memory.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ArchiveEntry, ArchiveQuery, ArchivedMessage, MessageArchive } from './archive.ts';
import { COUNT_LIMIT, isStorageError } from './archive.ts';
import type { Storage } from './ports.ts';

const T0 = Date.UTC(2026, 0, 1);
const CONTACTS = ['ann@example.net', 'ben@example.net', 'cat@example.net/phone', 'cat@example.net/laptop', 'dan@example.net'];
const WORDS = ['apple', 'banana', 'cherry', 'damson', 'elder', 'fig', 'grape'];

function entry(username: string, host: string, i: number, over: Partial<ArchiveEntry> = {}): ArchiveEntry {
  const body = `message ${i} ${WORDS[i % WORDS.length]} ${i % 10 === 0 ? 'tenth' : ''}`;
  return { username, host, id: `id-${i}`, timestamp: new Date(T0 + i * 1000), with: CONTACTS[i % CONTACTS.length]!, stanza: `<message id="m${i}"><body>${body}</body></message>`, body, ...over };
}

/** Walks every page of `q` forwards (after) or backwards (before), checking the count and the complete flag on the way. */
async function walk(archive: MessageArchive, username: string, host: string, q: Omit<ArchiveQuery, 'max'>, max: number, direction: 'forward' | 'backward'): Promise<ArchivedMessage[]> {
  const out: ArchivedMessage[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const paging = direction === 'forward' ? (cursor === undefined ? {} : { after: cursor }) : { before: cursor ?? '' };
    const r = await archive.query(username, host, { ...q, max, ...paging });
    assert.ok(r.ok);
    const { messages, complete, count } = r.page;
    if (direction === 'forward') out.push(...messages);
    else out.unshift(...messages);
    assert.ok(messages.length <= max);
    if (complete) {
      assert.equal(out.length, count, 'the walk collected the whole result set');
      return out;
    }
    assert.equal(messages.length, max, 'only the last page is short');
    cursor = direction === 'forward' ? messages.at(-1)!.id : messages[0]!.id;
  }
  throw new Error('paging did not end');
}

export function runArchiveContract(name: string, open: () => Promise<Storage>): void {
  let hosts = 0;
  const withStore = (work: (s: Storage, host: string) => Promise<void>) => async () => {
    const storage = await open();
    try {
      await work(storage, `archive${++hosts}.example`);
    } finally {
      await storage.close();
    }
  };

  describe(`archive contract: ${name}`, () => {
    it(
      'appends, reads back in order, and keeps users apart; the total over every archive follows',
      withStore(async (s, host) => {
        const total0 = await s.archive.total();
        await s.archive.append([entry('alice', host, 1), entry('bob', host, 1), entry('alice', host, 2)]);
        const r = await s.archive.query('alice', host, { max: 10 });
        assert.ok(r.ok);
        assert.deepEqual(r.page.messages.map((m) => m.id), ['id-1', 'id-2']);
        assert.equal(r.page.count, 2);
        assert.equal(r.page.complete, true);
        const m = r.page.messages[0]!;
        assert.equal(m.with, CONTACTS[1]);
        assert.equal(m.timestamp.getTime(), T0 + 1000);
        assert.equal(m.stanza, entry('alice', host, 1).stanza);
        assert.equal(await s.archive.count('alice', host), 2);
        assert.equal(await s.archive.count('bob', host), 1);
        assert.equal(await s.archive.count('carol', host), 0);
        assert.equal(await s.archive.total(), total0 + 3);
        const none = await s.archive.query('carol', host, { max: 10 });
        assert.deepEqual(none, { ok: true, page: { messages: [], count: 0, complete: true } });
      }),
    );

    it(
      'an append is all or nothing: a duplicate id rejects the whole batch with a StorageError',
      withStore(async (s, host) => {
        await s.archive.append([entry('alice', host, 1)]);
        await assert.rejects(s.archive.append([entry('alice', host, 2), entry('alice', host, 1)]), (err) => isStorageError(err) && err.code === 'SB_ERR_STORAGE');
        assert.equal(await s.archive.count('alice', host), 1);
        const r = await s.archive.query('alice', host, { max: 10 });
        assert.ok(r.ok);
        assert.deepEqual(r.page.messages.map((m) => m.id), ['id-1']);
      }),
    );

    it(
      'ids that are not in the archive are item-not-found, for the filters and for RSM',
      withStore(async (s, host) => {
        await s.archive.append([entry('alice', host, 1), entry('bob', host, 2)]);
        for (const q of [{ afterId: 'nope' }, { beforeId: 'nope' }, { after: 'nope' }, { before: 'nope' }, { after: 'id-2' }]) {
          assert.deepEqual(await s.archive.query('alice', host, { max: 5, ...q }), { ok: false, reason: 'item-not-found', id: Object.values(q)[0] }, JSON.stringify(q));
        }
        const empty = await s.archive.query('alice', host, { max: 5, before: '' });
        assert.ok(empty.ok && empty.page.messages.length === 1, 'an empty before is the last page, not an id');
      }),
    );

    it(
      'max 0 gives the count alone; ids returns just those, in archive order',
      withStore(async (s, host) => {
        await s.archive.append(Array.from({ length: 20 }, (_, i) => entry('alice', host, i)));
        const r = await s.archive.query('alice', host, { max: 0 });
        assert.ok(r.ok);
        assert.deepEqual([r.page.messages.length, r.page.count, r.page.complete], [0, 20, false]);
        const ids = await s.archive.query('alice', host, { max: 10, ids: ['id-7', 'id-3', 'id-99'] });
        assert.ok(ids.ok);
        assert.deepEqual(ids.page.messages.map((m) => m.id), ['id-3', 'id-7']);
        assert.equal(ids.page.count, 2);
      }),
    );

    describe('paging a 10,000-message archive both ways under every filter', () => {
      const host = `archive-big.example`;
      const all: ArchiveEntry[] = Array.from({ length: 10_000 }, (_, i) => entry('big', host, i));
      // Another user's archive, interleaved, that no query of `big` may see.
      const other: ArchiveEntry[] = Array.from({ length: 2_000 }, (_, i) => entry('other', host, i));
      let storage: Storage;
      before(async () => {
        storage = await open();
        for (let i = 0; i < all.length; i += 2000) await storage.archive.append([...all.slice(i, i + 2000), ...other.slice(i / 5, i / 5 + 400)]);
      });

      const cases: [string, Omit<ArchiveQuery, 'max'>, (e: ArchiveEntry, i: number) => boolean][] = [
        ['no filter', {}, () => true],
        ['with a bare JID', { with: 'cat@example.net' }, (e) => e.with.startsWith('cat@example.net/')],
        ['with a full JID', { with: 'cat@example.net/phone' }, (e) => e.with === 'cat@example.net/phone'],
        ['start and end', { start: new Date(T0 + 1234_000), end: new Date(T0 + 7654_000) }, (_, i) => i >= 1234 && i <= 7654],
        ['after-id and before-id', { afterId: 'id-100', beforeId: 'id-9000' }, (_, i) => i > 100 && i < 9000],
        ['full text', { fullText: 'tenth' }, (_, i) => i % 10 === 0],
        ['full text, two words, with', { fullText: 'tenth apple', with: 'ann@example.net' }, (e, i) => i % 10 === 0 && i % 7 === 0 && e.with === 'ann@example.net'],
      ];
      for (const [label, q, keep] of cases) {
        it(label, async () => {
          const expected = all.filter(keep).map((e) => e.id);
          assert.ok(expected.length > 0);
          const forward = await walk(storage.archive, 'big', host, q, 250, 'forward');
          assert.deepEqual(forward.map((m) => m.id), expected);
          const backward = await walk(storage.archive, 'big', host, q, 333, 'backward');
          assert.deepEqual(backward.map((m) => m.id), expected);
        });
      }

      it('the last page, and the page before an id', async () => {
        const last = await storage.archive.query('big', host, { max: 50, before: '' });
        assert.ok(last.ok);
        assert.deepEqual(last.page.messages.map((m) => m.id), all.slice(-50).map((e) => e.id));
        assert.equal(last.page.count, 10_000);
        assert.equal(last.page.complete, false);
        const mid = await storage.archive.query('big', host, { max: 3, before: 'id-500' });
        assert.ok(mid.ok);
        assert.deepEqual(mid.page.messages.map((m) => m.id), ['id-497', 'id-498', 'id-499']);
      });

      it('a filtered set larger than COUNT_LIMIT is served without a count; the whole archive is always counted', async () => {
        await storage.archive.append([entry('big', host, 10_000)]);
        const everything = await storage.archive.query('big', host, { max: 50, start: new Date(T0) });
        assert.ok(everything.ok);
        assert.equal(everything.page.count, undefined, `${COUNT_LIMIT + 1} in the range: not counted`);
        assert.equal(everything.page.messages.length, 50);
        assert.equal(everything.page.complete, false);
        const fewer = await storage.archive.query('big', host, { max: 50, start: new Date(T0 + 1000_000) });
        assert.ok(fewer.ok && fewer.page.count === 9_001);
        const unfiltered = await storage.archive.query('big', host, { max: 50, before: '' });
        assert.ok(unfiltered.ok && unfiltered.page.count === 10_001);
        await storage.close();
      });
    });

    it(
      'preferences: none until set, then what was set',
      withStore(async (s, host) => {
        assert.equal(await s.archive.getPrefs('alice', host), undefined);
        await s.archive.setPrefs('alice', host, { default: 'roster', always: ['a@x'], never: ['b@x', 'c@x'] });
        assert.deepEqual(await s.archive.getPrefs('alice', host), { default: 'roster', always: ['a@x'], never: ['b@x', 'c@x'] });
        await s.archive.setPrefs('alice', host, { default: 'never', always: [], never: [] });
        assert.deepEqual(await s.archive.getPrefs('alice', host), { default: 'never', always: [], never: [] });
        assert.equal(await s.archive.getPrefs('bob', host), undefined);
      }),
    );

    it(
      'retention removes the oldest messages in batches and keeps the counts right',
      withStore(async (s, host) => {
        // Expiry is global: this case's messages are dated far in the past, before every other case's.
        const old = (u: string, i: number) => entry(u, host, i, { timestamp: new Date(1000 + i * 1000) });
        await s.archive.append([...Array.from({ length: 30 }, (_, i) => old('alice', i)), ...Array.from({ length: 10 }, (_, i) => old('bob', i))]);
        const total0 = await s.archive.total();
        // Messages at 1 s .. 30 s; expire everything before 21 s: alice's 0..19 and bob's 0..9.
        const before = new Date(1000 + 20 * 1000);
        const batches: number[] = [];
        for (;;) {
          const n = await s.archive.expire(before, 7);
          batches.push(n);
          if (n < 7) break;
        }
        assert.deepEqual(batches, [7, 7, 7, 7, 2]);
        assert.equal(await s.archive.total(), total0 - 30);
        assert.equal(await s.archive.count('alice', host), 10);
        assert.equal(await s.archive.count('bob', host), 0);
        const r = await s.archive.query('alice', host, { max: 100 });
        assert.ok(r.ok);
        assert.deepEqual(r.page.messages.map((m) => m.id), Array.from({ length: 10 }, (_, i) => `id-${i + 20}`));
      }),
    );

    it(
      'the per-user limit: users over it are found, and trimmed oldest first in batches',
      withStore(async (s, host) => {
        await s.archive.append([...Array.from({ length: 25 }, (_, i) => entry('alice', host, i)), ...Array.from({ length: 5 }, (_, i) => entry('bob', host, i))]);
        // The walk over every user of every host: find this host's users in it.
        const found = [];
        let from: { host: string; username: string } | undefined;
        for (;;) {
          const r = await s.archive.overLimit(10, 3, from);
          found.push(...r.users.filter((u) => u.host === host));
          if (!r.next) break;
          from = r.next;
        }
        assert.deepEqual(found, [{ host, username: 'alice', count: 25 }]);
        assert.equal(await s.archive.trim('alice', host, 10, 4), 4);
        assert.equal(await s.archive.trim('alice', host, 10, 100), 11);
        assert.equal(await s.archive.trim('alice', host, 10, 100), 0);
        assert.equal(await s.archive.trim('bob', host, 10, 100), 0);
        assert.equal(await s.archive.count('alice', host), 10);
        const r = await s.archive.query('alice', host, { max: 100 });
        assert.ok(r.ok);
        assert.deepEqual(r.page.messages.map((m) => m.id), Array.from({ length: 10 }, (_, i) => `id-${i + 15}`));
      }),
    );

    it(
      'full text: quotes and operators in the words are plain text',
      withStore(async (s, host) => {
        await s.archive.append([entry('alice', host, 1, { body: 'say "hello" OR NOT world*' }), entry('alice', host, 2, { body: 'nothing here' })]);
        for (const text of ['"hello"', 'NOT', 'world*', 'OR hello']) {
          const r = await s.archive.query('alice', host, { max: 10, fullText: text });
          assert.ok(r.ok);
          assert.deepEqual(r.page.messages.map((m) => m.id), ['id-1'], text);
        }
        const none = await s.archive.query('alice', host, { max: 10, fullText: '   ' });
        assert.ok(none.ok && none.page.count === 0);
      }),
    );

    it(
      "removing an account removes its archive and preferences, and no one else's",
      withStore(async (s, host) => {
        const { deriveScramCredentials } = await import('../auth/scram-credentials.ts');
        const creds = await deriveScramCredentials('x', 4096);
        for (const u of ['alice', 'bob']) {
          await s.accounts.createAccount(u, host, creds);
          await s.archive.append([entry(u, host, 1)]);
          await s.archive.setPrefs(u, host, { default: 'always', always: [], never: [] });
        }
        const total0 = await s.archive.total();
        assert.equal(await s.accounts.removeAccount('alice', host), true);
        assert.equal(await s.archive.count('alice', host), 0);
        assert.equal(await s.archive.total(), total0 - 1);
        assert.equal(await s.archive.getPrefs('alice', host), undefined);
        const r = await s.archive.query('alice', host, { max: 10 });
        assert.ok(r.ok && r.page.messages.length === 0);
        assert.equal(await s.archive.count('bob', host), 1);
      }),
    );
  });
}
