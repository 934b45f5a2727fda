// Minimal log lines on stderr, one per event, until the structured logger
// lands: `switchboard: <level> <message>`.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export function log(level: LogLevel, message: string, err?: unknown): void {
  const detail = err === undefined ? '' : ` ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  process.stderr.write(`switchboard: ${level} ${message}${detail}\n`);
}
