// One log line for the router and liveness code, through the server's logger
// (log.ts), with a stable `event` when the caller has one.

import { moduleLogger } from './log.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export function log(level: LogLevel, message: string, err?: unknown, event?: string): void {
  const fields: Record<string, unknown> = {};
  if (event) fields.event = event;
  if (err !== undefined) fields.err = err;
  moduleLogger('router')[level](fields, message);
}
