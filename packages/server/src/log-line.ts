// One-call log lines for code that has no logger of its own: they go to the
// structured logger (log.ts) under module `server`, the error as pino's `err`.

import { moduleLogger } from './log.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export function log(level: LogLevel, message: string, err?: unknown): void {
  const logger = moduleLogger('server');
  if (err === undefined) logger[level](message);
  else logger[level]({ err }, message);
}
