// What `serve` checks before it starts anything, and how a failure to start
// is told to the operator: one line naming what and where, no stack trace.

import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isConfigError, ConfigError } from '../config-load.ts';

/**
 * mkdir -p, one level at a time. Node's own `recursive: true` never returns for
 * a path under /proc (mkdir there fails with ENOENT although the parent
 * exists, and Node retries forever: the 99 % CPU of issue #22).
 */
function makeDirs(dir: string): void {
  try {
    statSync(dir);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  mkdirSync(dir);
}

/** The data directory exists (or can be made) and is a writable directory. */
export function checkDataDir(dir: string): void {
  try {
    makeDirs(dir);
    if (!statSync(dir).isDirectory()) throw new ConfigError(`data directory ${dir} is not a directory`);
    accessSync(dir, constants.W_OK | constants.R_OK);
  } catch (err) {
    if (isConfigError(err)) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`data directory ${dir} cannot be used: ${e.code ?? ''} ${e.message.replace(/^[A-Z]+: /, '')}`.replace(/\s+/g, ' '));
  }
}


/** One line for an error that stopped the start. */
export function describeStartError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.code === 'EADDRINUSE') return `cannot listen on ${e.address ?? ''}:${e.port ?? ''}: the address is already in use (another server running? choose another port)`;
  if (e.code === 'EACCES' && e.syscall === 'listen') return `cannot listen on ${e.address ?? ''}:${e.port ?? ''}: permission denied (ports below 1024 need privileges)`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${e.address ?? ''}:${e.port ?? ''}: no such local address`;
  return e.message;
}
