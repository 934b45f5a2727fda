// The last line of defence: a promise rejection nobody handled, or an
// exception nobody caught, is a bug. The process logs it and exits non-zero,
// so its supervisor restarts it, instead of running on in an unknown state
// (or, as Node's default for rejections once was, silently).

import { flushLogs, moduleLogger } from './log.ts';

/** Exit code for an internal software error (sysexits.h EX_SOFTWARE). */
export const EXIT_SOFTWARE = 70;

export function installProcessGuards(exit: (code: number) => void = (code) => process.exit(code)): void {
  const die = (kind: string) => (err: unknown): void => {
    moduleLogger('process').fatal({ event: `process.${kind}`, err }, `${kind}: exiting`);
    void flushLogs().finally(() => exit(EXIT_SOFTWARE));
  };
  process.on('unhandledRejection', die('unhandledRejection'));
  process.on('uncaughtException', die('uncaughtException'));
}
