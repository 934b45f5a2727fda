// One storage contract, run against every backend (ejabberd's db_tests(DB)):
// sqlite/sqlite.test.ts and postgres/postgres.test.ts call it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deriveScramCredentials } from '../auth/scram-credentials.ts';
import type { Storage } from './ports.ts';

export function runStorageContract(name: string, open: () => Promise<{ storage: Storage; reopen?: () => Promise<Storage>; cleanup: () => Promise<void> }>): void {
  describe(`storage contract: ${name}`, () => {
    it('creates, reads, lists and refuses duplicates', async () => {
      const { storage, cleanup } = await open();
      try {
        const creds = await deriveScramCredentials('secret', 4096);
        assert.deepEqual(await storage.accounts.createAccount('alice', 'localhost', creds), { ok: true });
        assert.deepEqual(await storage.accounts.createAccount('alice', 'localhost', creds), { ok: false, reason: 'exists' });
        assert.deepEqual(await storage.accounts.createAccount('alice', 'other.example', creds), { ok: true }, 'hosts are separate');
        await storage.accounts.createAccount('bob', 'localhost', creds);
        const account = await storage.accounts.getAccount('alice', 'localhost');
        assert.equal(account?.username, 'alice');
        assert.deepEqual(account?.credentials, creds);
        assert.ok(account!.createdAt instanceof Date);
        assert.equal(await storage.accounts.accountExists('alice', 'localhost'), true);
        assert.equal(await storage.accounts.accountExists('nobody', 'localhost'), false);
        assert.equal(await storage.accounts.getAccount('nobody', 'localhost'), undefined);
        assert.deepEqual(await storage.accounts.listAccounts('localhost'), ['alice', 'bob']);
      } finally {
        await cleanup();
      }
    });

    it('stores SCRAM keys and never the password', async () => {
      const { storage, cleanup } = await open();
      try {
        const creds = await deriveScramCredentials('hunter2-unique-password', 4096);
        await storage.accounts.createAccount('carol', 'localhost', creds);
        const stored = JSON.stringify(await storage.accounts.getAccount('carol', 'localhost'));
        assert.ok(!stored.includes('hunter2-unique-password'));
        assert.ok(stored.includes(creds.sha256.storedKey));
      } finally {
        await cleanup();
      }
    });

    it('changes credentials and removes accounts', async () => {
      const { storage, cleanup } = await open();
      try {
        await storage.accounts.createAccount('dave', 'localhost', await deriveScramCredentials('one', 4096));
        const second = await deriveScramCredentials('two', 4096);
        assert.equal(await storage.accounts.setCredentials('dave', 'localhost', second), true);
        assert.deepEqual((await storage.accounts.getAccount('dave', 'localhost'))?.credentials, second);
        assert.equal(await storage.accounts.setCredentials('ghost', 'localhost', second), false);
        assert.equal(await storage.accounts.removeAccount('dave', 'localhost'), true);
        assert.equal(await storage.accounts.removeAccount('dave', 'localhost'), false);
        assert.equal(await storage.accounts.accountExists('dave', 'localhost'), false);
      } finally {
        await cleanup();
      }
    });

    it('rosters: items with their subscription state, a version that increases, removal', async () => {
      const { storage, cleanup } = await open();
      try {
        assert.deepEqual(await storage.rosters.getRoster('alice', 'localhost'), { version: 0, items: [] });
        const bob = { jid: 'bob@localhost', name: 'Bob', groups: ['Friends', 'Work'], subscription: 'to' as const, ask: false, pendingIn: true, approved: false, visible: true };
        const v1 = await storage.rosters.putItem('alice', 'localhost', bob);
        const v2 = await storage.rosters.putItem('alice', 'localhost', { ...bob, jid: 'carol@localhost', name: undefined, groups: [] });
        assert.ok(v2 > v1 && v1 > 0);
        const v3 = await storage.rosters.putItem('alice', 'localhost', { ...bob, subscription: 'both', pendingIn: false });
        const roster = await storage.rosters.getRoster('alice', 'localhost');
        assert.equal(roster.version, v3);
        assert.deepEqual(roster.items.map((i) => [i.jid, i.subscription]), [['bob@localhost', 'both'], ['carol@localhost', 'to']]);
        assert.deepEqual(roster.items[0]!.groups, ['Friends', 'Work']);
        const v4 = await storage.rosters.removeItem('alice', 'localhost', 'carol@localhost');
        assert.ok(v4 > v3);
        assert.equal((await storage.rosters.getRoster('alice', 'localhost')).items.length, 1);
        assert.deepEqual(await storage.rosters.getRoster('bob', 'localhost'), { version: 0, items: [] }, 'rosters are per user');
      } finally {
        await cleanup();
      }
    });

    it('offline messages: in order, up to the quota, taken once', async () => {
      const { storage, cleanup } = await open();
      try {
        for (let i = 0; i < 3; i++) assert.equal(await storage.offline.store('bob', 'localhost', `<message id="${i}"/>`, 3), true);
        assert.equal(await storage.offline.store('bob', 'localhost', '<message id="over"/>', 3), false, 'over quota');
        assert.equal(await storage.offline.count('bob', 'localhost'), 3);
        const taken = await storage.offline.take('bob', 'localhost');
        assert.deepEqual(taken.map((m) => m.stanza), ['<message id="0"/>', '<message id="1"/>', '<message id="2"/>']);
        assert.ok(taken[0]!.storedAt instanceof Date);
        assert.deepEqual(await storage.offline.take('bob', 'localhost'), []);
      } finally {
        await cleanup();
      }
    });

    it('user data: get, set (replace), list in key order, delete', async () => {
      const { storage, cleanup } = await open();
      try {
        const d = storage.userData;
        assert.equal(await d.get('gina', 'localhost', 'private', 'urn:a'), undefined);
        await d.set('gina', 'localhost', 'private', 'urn:b', '<b/>');
        await d.set('gina', 'localhost', 'private', 'urn:a', '<a/>');
        await d.set('gina', 'localhost', 'private', 'urn:a', '<a2/>');
        await d.set('gina', 'localhost', 'vcard', '', '<vCard/>');
        assert.equal(await d.get('gina', 'localhost', 'private', 'urn:a'), '<a2/>');
        assert.deepEqual(await d.list('gina', 'localhost', 'private'), [{ key: 'urn:a', value: '<a2/>' }, { key: 'urn:b', value: '<b/>' }]);
        assert.equal(await d.delete('gina', 'localhost', 'private', 'urn:a'), true);
        assert.equal(await d.delete('gina', 'localhost', 'private', 'urn:a'), false);
        assert.equal(await d.get('gina', 'localhost', 'vcard', ''), '<vCard/>');
      } finally {
        await cleanup();
      }
    });

    it('removing an account removes its roster, offline messages and user data', async () => {
      const { storage, cleanup } = await open();
      try {
        await storage.accounts.createAccount('frank', 'localhost', await deriveScramCredentials('x', 4096));
        await storage.rosters.putItem('frank', 'localhost', { jid: 'a@localhost', groups: [], subscription: 'none', ask: false, pendingIn: false, approved: false, visible: true });
        await storage.offline.store('frank', 'localhost', '<message/>', 10);
        await storage.userData.set('frank', 'localhost', 'vcard', '', '<vCard/>');
        assert.equal(await storage.accounts.removeAccount('frank', 'localhost'), true);
        assert.equal(await storage.userData.get('frank', 'localhost', 'vcard', ''), undefined);
        assert.deepEqual(await storage.rosters.getRoster('frank', 'localhost'), { version: 0, items: [] });
        assert.equal(await storage.offline.count('frank', 'localhost'), 0);
      } finally {
        await cleanup();
      }
    });

    it('keeps data across close and reopen', async () => {
      const { storage, reopen, cleanup } = await open();
      try {
        const creds = await deriveScramCredentials('persist', 4096);
        await storage.accounts.createAccount('erin', 'localhost', creds);
        await storage.close();
        const again = await reopen!();
        assert.deepEqual((await again.accounts.getAccount('erin', 'localhost'))?.credentials, creds);
        await again.close();
      } finally {
        await cleanup();
      }
    });
  });
}
