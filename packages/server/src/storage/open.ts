// The composition root's one call into storage: the configured backend.
// PostgreSQL (and pg) is loaded only when configured.

import { mkdirSync } from 'node:fs';
import { sqlitePath, type ServerConfig } from '../config.ts';
import type { Storage } from './ports.ts';
import { openSqliteStorage } from './sqlite/sqlite-storage.ts';

/** The configured backend: the embedded SQLite file by default, PostgreSQL when a URL is given. */
export async function openStorage(config: ServerConfig): Promise<Storage> {
  if (config.storage.kind === 'postgres') {
    const { openPostgresStorage } = await import('./postgres/postgres-storage.ts');
    return openPostgresStorage(config.storage.url, { ...(config.storage.schema ? { schema: config.storage.schema } : {}), timeoutMs: config.timeouts.storageSeconds * 1000 });
  }
  mkdirSync(config.dataDir, { recursive: true });
  return openSqliteStorage(sqlitePath(config));
}
