// The FastTokenStore contract (XEP-0484), run on SQLite and PostgreSQL by
// sqlite/sqlite.test.ts and postgres/postgres.test.ts: the two slots, the
// replay count, revocation, and that a password change or the account's
// removal takes the tokens with it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deriveScramCredentials } from '../auth/scram-credentials.ts';
import type { Storage } from './ports.ts';

const A = '9b2f3c1e-7d4a-4e8b-a1c2-3d4e5f6a7b8c';
const B = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
const later = (days: number): Date => new Date(Math.floor(Date.now() / 1000) * 1000 + days * 86_400_000);
const token = (key: string, days = 14) => ({ mechanism: 'HT-SHA-256-NONE', key, expiresAt: later(days) });

export function runFastTokenContract(name: string, open: () => Promise<Storage>): void {
  let hosts = 0;
  const withStore = (work: (s: Storage, host: string) => Promise<void>) => async () => {
    const storage = await open();
    try {
      await work(storage, `fast${++hosts}.example`);
    } finally {
      await storage.close();
    }
  };

  describe(`FAST token store contract: ${name}`, () => {
    it(
      "keeps a new token in the 'new' slot, replaces an unused one, and moves it to 'current' when used",
      withStore(async (s, host) => {
        const t = s.fastTokens;
        assert.deepEqual(await t.get('alice', host, A), []);
        await t.put('alice', host, A, token('k1'));
        const k2 = token('k2', 10); // its expiry computed once: a second boundary may pass before the check
        await t.put('alice', host, A, k2);
        const fresh = await t.get('alice', host, A);
        assert.deepEqual(fresh, [{ slot: 'new', mechanism: 'HT-SHA-256-NONE', key: 'k2', expiresAt: k2.expiresAt, count: null }], 'an unused new token is replaced');
        assert.equal(await t.use('alice', host, A, 'new', undefined), true);
        assert.deepEqual((await t.get('alice', host, A)).map((r) => [r.slot, r.key]), [['current', 'k2']]);
        // Rotation: a new one next to the current; both are accepted until the new one is used.
        await t.put('alice', host, A, token('k3'));
        assert.deepEqual((await t.get('alice', host, A)).map((r) => [r.slot, r.key]), [['new', 'k3'], ['current', 'k2']]);
        assert.equal(await t.use('alice', host, A, 'current', undefined), true, 'the current token still works');
        assert.equal(await t.use('alice', host, A, 'new', undefined), true);
        assert.deepEqual((await t.get('alice', host, A)).map((r) => [r.slot, r.key]), [['current', 'k3']], 'the older token is gone');
        assert.equal(await t.use('alice', host, A, 'new', undefined), false, 'no new token any more');
        assert.deepEqual(await t.get('alice', host, B), [], 'tokens are per user agent');
        assert.deepEqual(await t.get('bob', host, A), [], 'and per user');
      }),
    );

    it(
      'refuses a count that does not advance, and a missing count once one was used',
      withStore(async (s, host) => {
        const t = s.fastTokens;
        await t.put('alice', host, A, token('k'));
        assert.equal(await t.use('alice', host, A, 'new', 1), true);
        assert.equal(await t.use('alice', host, A, 'current', 1), false, 'the same count again: a replay');
        assert.equal(await t.use('alice', host, A, 'current', 0), false);
        assert.equal(await t.use('alice', host, A, 'current', undefined), false, 'a counted token must keep counting');
        assert.equal(await t.use('alice', host, A, 'current', 5), true);
        assert.equal((await t.get('alice', host, A))[0]?.count, 5);
        const results = await Promise.all([6, 6, 6].map((n) => t.use('alice', host, A, 'current', n)));
        assert.deepEqual(results.filter(Boolean).length, 1, 'of three uses with one count at once, one passes');
      }),
    );

    it(
      "revokes one agent's tokens or all of a user's; drops expired ones when issuing",
      withStore(async (s, host) => {
        const t = s.fastTokens;
        await t.put('alice', host, A, token('a'));
        await t.put('alice', host, B, token('b'));
        await t.put('bob', host, A, token('c'));
        assert.equal(await t.revoke('alice', host, A), 1);
        assert.deepEqual(await t.get('alice', host, A), []);
        assert.equal((await t.get('alice', host, B)).length, 1);
        assert.equal(await t.revoke('alice', host), 1);
        assert.deepEqual(await t.get('alice', host, B), []);
        assert.equal((await t.get('bob', host, A)).length, 1, "bob's stays");
        await t.put('carol', host, A, token('old', -1));
        await t.use('carol', host, A, 'new', undefined);
        await t.put('carol', host, B, token('fresh'));
        assert.deepEqual(await t.get('carol', host, A), [], 'the expired token went when another was issued');
      }),
    );

    it(
      "a password change and the account's removal take the user's tokens",
      withStore(async (s, host) => {
        const creds = await deriveScramCredentials('pw', 4096);
        for (const user of ['dave', 'erin']) {
          await s.accounts.createAccount(user, host, creds);
          await s.fastTokens.put(user, host, A, token('k'));
        }
        assert.equal(await s.accounts.setCredentials('dave', host, creds), true);
        assert.deepEqual(await s.fastTokens.get('dave', host, A), []);
        assert.equal((await s.fastTokens.get('erin', host, A)).length, 1);
        await s.fastTokens.put('dave', host, A, token('k2'));
        assert.equal(await s.accounts.removeAccount('dave', host), true);
        assert.deepEqual(await s.fastTokens.get('dave', host, A), []);
        assert.equal((await s.fastTokens.get('erin', host, A)).length, 1);
      }),
    );
  });
}
