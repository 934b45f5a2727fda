// The server's logger: pino, JSON lines on stdout (one object a line, for
// journald, Loki or fail2ban), pretty-printed when stdout is a terminal.
//
// How to use it from any module:
//   import { moduleLogger, connectionLogger } from '../log.ts';
//   moduleLogger('router').warn({ event: 'nats.disconnected', url }, 'NATS connection lost');
//   const log = connectionLogger({ conn: stream.id, remote, transport });  // once per connection
//   log.info({ event: 'auth.failed', mechanism, condition }, 'login failed');
//
// Rules that keep logs safe to ship (issue #22, checked by log-secrets.test.ts):
// - never put a password, SASL payload, token, resumption id or message body
//   in a line below debug; the redact list below is a backstop, not the rule;
// - every line that an operator may alert on has a stable `event` field
//   (`auth.failed`, `tls.failed`, `stream.error`, …): docs/logging.md lists them.
//
// Why loggers are looked up, not held: configureLogging() (called by the CLI
// once the config is read) replaces the root, and pino children keep the level
// of the parent they were made from. moduleLogger() caches a child per name and
// forgets the cache on reconfiguration; connectionLogger() makes its child at
// connection time, after the configuration.

import { pino, stdTimeFunctions, type DestinationStream, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';
export type LogLevel = Level | 'silent';
export type LogFormat = 'json' | 'pretty' | 'auto';

export interface LogOptions {
  level: LogLevel;
  /** auto: pretty when stdout is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Where lines go (tests capture them); stdout by default. */
  destination?: DestinationStream;
}

/** Context of one client connection; fields are added as they become known. */
export interface ConnectionContext {
  /** The c2s stream id (the same id the sm knows the session by). */
  conn: string;
  remote?: string;
  transport?: string;
  /** Full JID, once bound. */
  jid?: string;
  /** The sm's session id, once the session started. */
  sm?: string;
}

/** Paths pino blanks out wherever they appear at the top level or one level down. */
const REDACT = ['password', 'token', 'secret', 'body', 'payload', 'credentials', '*.password', '*.token', '*.secret', '*.body', '*.payload', '*.credentials'];

function createRoot(options: LogOptions): Logger {
  const format = options.format ?? 'auto';
  const usePretty = format === 'pretty' || (format === 'auto' && options.destination === undefined && process.stdout.isTTY === true);
  const destination =
    options.destination ?? (usePretty ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      // Level names, not numbers: fail2ban filters and humans read them.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination,
  );
}

/**
 * The default before configureLogging: info, except inside node's test
 * runner (NODE_TEST_CONTEXT is set in its test processes), where it is silent
 * unless SWITCHBOARD_LOG_LEVEL says otherwise.
 */
function defaultLevel(): LogLevel {
  const fromEnv = process.env.SWITCHBOARD_LOG_LEVEL;
  if (fromEnv && isLogLevel(fromEnv)) return fromEnv;
  return process.env.NODE_TEST_CONTEXT ? 'silent' : 'info';
}

export function isLogLevel(v: string): v is LogLevel {
  return v === 'silent' || v === 'fatal' || v === 'error' || v === 'warn' || v === 'info' || v === 'debug' || v === 'trace';
}

let root: Logger = createRoot({ level: defaultLevel() });
const modules = new Map<string, Logger>();

/** Replaces the root logger; every logger asked for afterwards follows it. */
export function configureLogging(options: LogOptions): Logger {
  root = createRoot(options);
  modules.clear();
  return root;
}

/**
 * Changes the level in a running process (SIGHUP): the root and every module logger at once.
 * A connection's logger, made from the root when the connection opened, keeps the level it had.
 */
export function setLogLevel(level: LogLevel): void {
  root.level = level;
  for (const logger of modules.values()) logger.level = level;
}

export function rootLogger(): Logger {
  return root;
}

/** A logger for one module (`{ module: name }` on each line), cheap to ask for on every use. */
export function moduleLogger(name: string): Logger {
  let logger = modules.get(name);
  if (!logger) {
    logger = root.child({ module: name });
    modules.set(name, logger);
  }
  return logger;
}

/** A logger for one client connection: every line carries its id, address and transport. */
export function connectionLogger(context: ConnectionContext): Logger {
  return root.child({ module: 'c2s', ...context });
}

/** A logger for one sm session. */
export function sessionLogger(context: { jid: string; sm?: string; conn?: string }): Logger {
  return root.child({ module: 'sm', ...context });
}

/** Writes out what is buffered (before exit). */
export function flushLogs(): Promise<void> {
  return new Promise((resolve) => root.flush(() => resolve()));
}
