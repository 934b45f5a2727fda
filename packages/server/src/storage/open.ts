// The composition root's one call into storage: the configured backend.
// PostgreSQL (and pg) is loaded only when configured.

import { mkdirSync } from 'node:fs';
import { sqlitePath, type ServerConfig } from '../config.ts';
import type { Storage } from './ports.ts';
import { openSqliteStorage } from './sqlite/sqlite-storage.ts';
import { unfinishedCopy } from './migrate.ts';

/**
 * The configured backend: the embedded SQLite file by default, PostgreSQL when a URL is given. A store that
 * `switchboard migrate` is still writing, or left half-written, is refused (storage/migrate.ts).
 */
export async function openStorage(config: ServerConfig): Promise<Storage> {
  const storage = await openBackend(config);
  const unfinished = await unfinishedCopy(storage).catch(async (err: unknown) => {
    await storage.close();
    throw err;
  });
  if (unfinished === undefined) return storage;
  await storage.close();
  throw new Error(
    `this store is the target of a switchboard migrate that has not finished (${unfinished}): run that migrate again with --resume until its counts agree, or start the server on the source`,
  );
}

async function openBackend(config: ServerConfig): Promise<Storage> {
  if (config.storage.kind === 'postgres') {
    const { openPostgresStorage } = await import('./postgres/postgres-storage.ts');
    return openPostgresStorage(config.storage.url, { ...(config.storage.schema ? { schema: config.storage.schema } : {}), timeoutMs: config.timeouts.storageSeconds * 1000 });
  }
  mkdirSync(config.dataDir, { recursive: true });
  return openSqliteStorage(sqlitePath(config));
}
