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
