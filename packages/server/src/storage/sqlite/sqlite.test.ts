import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStorageContract } from '../contract.ts';
import { openSqliteStorage } from './sqlite-storage.ts';

runStorageContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-sqlite-'));
  const path = join(dir, 'store.sqlite');
  let current = openSqliteStorage(path);
  return {
    storage: current,
    reopen: async () => (current = openSqliteStorage(path)),
    cleanup: async () => {
      await current.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
