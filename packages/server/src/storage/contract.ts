// One storage contract, run against every backend (ejabberd's db_tests(DB)):
// sqlite/sqlite.test.ts and postgres/postgres.test.ts call it.
//
// `open` returns a new handle on the same store each time it is called (the
// same SQLite file, the same PostgreSQL schema), so "close and reopen" is two
// calls. The cases share that store: each one works on a host of its own, and
// the caller removes the store when the suite is done.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deriveScramCredentials } from '../auth/scram-credentials.ts';
import type { RosterItem, ScramCredentials, Storage } from './ports.ts';

/** Fixed credentials: the contract is about storage, not PBKDF2 (one derivation per suite). */
let sharedCredentials: Promise<ScramCredentials> | undefined;
const credentials = (): Promise<ScramCredentials> => (sharedCredentials ??= deriveScramCredentials('secret', 4096));

const item = (jid: string, over: Partial<RosterItem> = {}): RosterItem => ({ jid, groups: [], subscription: 'none', ask: false, pendingIn: false, approved: false, visible: true, ...over });

export function runStorageContract(name: string, open: () => Promise<Storage>): void {
  let hosts = 0;
  /** Runs one case on a fresh handle and a host no other case uses. */
  const withStore = (work: (s: Storage, host: string) => Promise<void>) => async () => {
    const storage = await open();
    try {
      await work(storage, `case${++hosts}.example`);
    } finally {
      await storage.close();
    }
  };

  describe(`storage contract: ${name}`, () => {
    it(
      'creates, reads, lists and refuses duplicates',
      withStore(async (s, host) => {
        const creds = await credentials();
        assert.deepEqual(await s.accounts.listAccounts(host), []);
        assert.deepEqual(await s.accounts.createAccount('alice', host, creds), { ok: true });
        assert.deepEqual(await s.accounts.createAccount('alice', host, creds), { ok: false, reason: 'exists' });
        assert.deepEqual(await s.accounts.createAccount('alice', `other.${host}`, creds), { ok: true }, 'hosts are separate');
        assert.deepEqual(await s.accounts.createAccount('bob', host, creds), { ok: true });
        const before = Date.now();
        const account = await s.accounts.getAccount('alice', host);
        assert.equal(account?.username, 'alice');
        assert.equal(account?.host, host);
        assert.deepEqual(account?.credentials, creds);
        assert.ok(account!.createdAt instanceof Date);
        assert.ok(Math.abs(account!.createdAt.getTime() - before) < 60_000, 'createdAt is about now');
        assert.equal(await s.accounts.accountExists('alice', host), true);
        assert.equal(await s.accounts.accountExists('nobody', host), false);
        assert.equal(await s.accounts.getAccount('nobody', host), undefined);
        assert.deepEqual(await s.accounts.listAccounts(host), ['alice', 'bob']);
        assert.deepEqual(await s.accounts.listAccounts(`other.${host}`), ['alice']);
      }),
    );

    it(
      'lets exactly one of several concurrent creations of one account succeed',
      withStore(async (s, host) => {
        const creds = await credentials();
        const results = await Promise.all(Array.from({ length: 5 }, () => s.accounts.createAccount('race', host, creds)));
        assert.equal(results.filter((r) => r.ok).length, 1);
        assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'exists'));
      }),
    );

    it(
      'stores SCRAM keys and never the password',
      withStore(async (s, host) => {
        const creds = await deriveScramCredentials('hunter2-unique-password', 4096);
        await s.accounts.createAccount('carol', host, creds);
        const stored = JSON.stringify(await s.accounts.getAccount('carol', host));
        assert.ok(!stored.includes('hunter2-unique-password'));
        assert.ok(stored.includes(creds.sha256.storedKey));
      }),
    );

    it(
      'changes credentials; removes accounts, and a missing one is false',
      withStore(async (s, host) => {
        await s.accounts.createAccount('dave', host, await credentials());
        const second = await deriveScramCredentials('two', 4096);
        assert.equal(await s.accounts.setCredentials('dave', host, second), true);
        assert.deepEqual((await s.accounts.getAccount('dave', host))?.credentials, second);
        assert.equal(await s.accounts.setCredentials('ghost', host, second), false);
        assert.equal(await s.accounts.accountExists('ghost', host), false, 'setCredentials creates nothing');
        assert.equal(await s.accounts.removeAccount('dave', `other.${host}`), false, 'the host is part of the key');
        assert.equal(await s.accounts.removeAccount('dave', host), true);
        assert.equal(await s.accounts.removeAccount('dave', host), false);
        assert.equal(await s.accounts.removeAccount('never', host), false);
        assert.equal(await s.accounts.accountExists('dave', host), false);
        assert.deepEqual(await s.accounts.listAccounts(host), []);
      }),
    );

    it(
      'rosters: items with their subscription state, a version that increases, removal',
      withStore(async (s, host) => {
        assert.deepEqual(await s.rosters.getRoster('alice', host), { version: 0, items: [] });
        const bob = item(`bob@${host}`, { name: 'Bob', groups: ['Friends', 'Work'], subscription: 'to', pendingIn: true });
        const v1 = await s.rosters.putItem('alice', host, bob);
        const v2 = await s.rosters.putItem('alice', host, item(`carol@${host}`, { subscription: 'to' }));
        assert.ok(v2 > v1 && v1 > 0);
        const v3 = await s.rosters.putItem('alice', host, { ...bob, subscription: 'both', pendingIn: false });
        const roster = await s.rosters.getRoster('alice', host);
        assert.equal(roster.version, v3);
        assert.deepEqual(roster.items.map((i) => [i.jid, i.subscription]), [[`bob@${host}`, 'both'], [`carol@${host}`, 'to']]);
        assert.deepEqual(roster.items[0], { ...bob, subscription: 'both', pendingIn: false });
        const v4 = await s.rosters.removeItem('alice', host, `carol@${host}`);
        assert.ok(v4 > v3);
        assert.equal((await s.rosters.getRoster('alice', host)).items.length, 1);
        assert.deepEqual(await s.rosters.getRoster('bob', host), { version: 0, items: [] }, 'rosters are per user');
      }),
    );

    it(
      'offline messages: in order, up to the quota, taken once; the total over all users, up to a cap',
      withStore(async (s, host) => {
        const total0 = await s.offline.total(1_000_000);
        for (let i = 0; i < 3; i++) assert.equal(await s.offline.store('bob', host, `<message id="${i}"/>`, 3), true);
        assert.equal(await s.offline.total(1_000_000), total0 + 3);
        assert.equal(await s.offline.total(total0 + 1), total0 + 1, 'counted no further than the cap');
        assert.equal(await s.offline.store('bob', host, '<message id="over"/>', 3), false, 'over quota');
        assert.equal(await s.offline.count('bob', host), 3);
        const taken = await s.offline.take('bob', host);
        assert.deepEqual(taken.map((m) => m.stanza), ['<message id="0"/>', '<message id="1"/>', '<message id="2"/>']);
        assert.ok(taken[0]!.storedAt instanceof Date);
        assert.deepEqual(await s.offline.take('bob', host), []);
        assert.equal(await s.offline.count('bob', host), 0);
        assert.equal(await s.offline.total(1_000_000), total0);
      }),
    );

    it(
      'offline messages: the bytes quota counts UTF-8 bytes of what is stored',
      withStore(async (s, host) => {
        const m = (i: number): string => `<message id="${i}"><body>ééé</body></message>`; // 45 bytes, 42 characters
        assert.equal(await s.offline.store('dan', host, m(0), 100, 90), true);
        assert.equal(await s.offline.store('dan', host, m(1), 100, 90), true, 'exactly at the limit');
        assert.equal(await s.offline.store('dan', host, m(2), 100, 90), false, 'past the limit');
        assert.equal(await s.offline.count('dan', host), 2);
        assert.equal(await s.offline.store('dan', host, m(3), 100), true, 'no byte limit given: count only');
      }),
    );

    it(
      'offline messages: concurrent stores never exceed the quota',
      withStore(async (s, host) => {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.offline.store('eve', host, `<message id="${i}"/>`, 5)));
        assert.equal(results.filter(Boolean).length, 5);
        assert.equal(await s.offline.count('eve', host), 5);
      }),
    );

    it(
      'user data: get, set (replace), list in key order, delete',
      withStore(async (s, host) => {
        const d = s.userData;
        assert.equal(await d.get('gina', host, 'private', 'urn:a'), undefined);
        await d.set('gina', host, 'private', 'urn:b', '<b/>');
        await d.set('gina', host, 'private', 'urn:a', '<a/>');
        await d.set('gina', host, 'private', 'urn:a', '<a2/>');
        await d.set('gina', host, 'vcard', '', '<vCard/>');
        assert.equal(await d.get('gina', host, 'private', 'urn:a'), '<a2/>');
        assert.deepEqual(await d.list('gina', host, 'private'), [{ key: 'urn:a', value: '<a2/>' }, { key: 'urn:b', value: '<b/>' }]);
        assert.deepEqual(await d.list('gina', host, 'nothing'), []);
        assert.equal(await d.delete('gina', host, 'private', 'urn:a'), true);
        assert.equal(await d.delete('gina', host, 'private', 'urn:a'), false);
        assert.equal(await d.get('gina', host, 'vcard', ''), '<vCard/>');
      }),
    );

    it(
      "removing an account removes its roster, offline messages and user data, and no one else's",
      withStore(async (s, host) => {
        for (const user of ['frank', 'other']) {
          await s.accounts.createAccount(user, host, await credentials());
          await s.rosters.putItem(user, host, item(`a@${host}`));
          await s.offline.store(user, host, '<message/>', 10);
          await s.userData.set(user, host, 'vcard', '', '<vCard/>');
        }
        assert.equal(await s.accounts.removeAccount('frank', host), true);
        assert.equal(await s.userData.get('frank', host, 'vcard', ''), undefined);
        assert.deepEqual(await s.rosters.getRoster('frank', host), { version: 0, items: [] });
        assert.equal(await s.offline.count('frank', host), 0);
        assert.equal(await s.userData.get('other', host, 'vcard', ''), '<vCard/>');
        assert.equal((await s.rosters.getRoster('other', host)).items.length, 1);
        assert.equal(await s.offline.count('other', host), 1);
      }),
    );

    it('keeps data across close and reopen', async () => {
      const host = `case${++hosts}.example`;
      const creds = await credentials();
      const first = await open();
      try {
        await first.accounts.createAccount('erin', host, creds);
        await first.rosters.putItem('erin', host, item(`f@${host}`));
      } finally {
        await first.close();
      }
      const again = await open();
      try {
        assert.deepEqual((await again.accounts.getAccount('erin', host))?.credentials, creds);
        assert.equal((await again.rosters.getRoster('erin', host)).items[0]?.jid, `f@${host}`);
      } finally {
        await again.close();
      }
    });
  });
}
