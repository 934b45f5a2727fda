// Where the CLI gets a password from, so it need not sit in argv (where any
// local user reads it in `ps`, and the shell keeps it in its history):
// `--password-stdin` takes the first line of stdin (for scripts and secret
// managers: `pass show x | switchboard user passwd JID --password-stdin`);
// on a terminal, a prompt that does not echo, asked twice. A password given
// as an argument still works, with a warning.

import type { Readable, Writable } from 'node:stream';

export interface PasswordIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  /** Where the prompt goes (stderr, so stdout stays the command's output). */
  prompt: Writable;
}

const defaultIo = (): PasswordIo => ({ stdin: process.stdin, prompt: process.stderr });

/** The first line of stdin (without its line ending); undefined when stdin is empty. */
export function readPasswordLine(io: PasswordIo = defaultIo()): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (): void => {
      io.stdin.off('data', onData);
      io.stdin.off('end', onEnd);
      io.stdin.off('error', reject);
      io.stdin.pause();
      const nl = text.indexOf('\n');
      const line = nl >= 0 ? text.slice(0, nl) : text;
      resolve(text === '' ? undefined : line.replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      if (text.includes('\n')) done();
    };
    const onEnd = (): void => done();
    io.stdin.on('data', onData);
    io.stdin.once('end', onEnd);
    io.stdin.once('error', reject);
    io.stdin.resume();
  });
}

/** Reads one line from a terminal in raw mode, echoing nothing; Ctrl-C or Ctrl-D abandons. */
function readHidden(question: string, io: PasswordIo): Promise<string | undefined> {
  return new Promise((resolve) => {
    io.prompt.write(question);
    io.stdin.setRawMode?.(true);
    let value = '';
    const finish = (result: string | undefined): void => {
      io.stdin.off('data', onData);
      io.stdin.setRawMode?.(false);
      io.stdin.pause();
      io.prompt.write('\n');
      resolve(result);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return finish(value);
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined);
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    io.stdin.on('data', onData);
    io.stdin.resume();
  });
}

/** The prompt, twice; undefined when abandoned or when the two differ (the error says which). */
export async function promptPassword(io: PasswordIo = defaultIo()): Promise<{ password: string } | { error: string }> {
  if (!io.stdin.isTTY) return { error: 'no password given: pipe it in with --password-stdin, or run on a terminal to be asked' };
  const first = await readHidden('Password: ', io);
  if (first === undefined) return { error: 'abandoned' };
  const again = await readHidden('Again: ', io);
  if (again === undefined) return { error: 'abandoned' };
  if (first !== again) return { error: 'the two passwords differ' };
  return { password: first };
}

export const ARGV_PASSWORD_WARNING =
  'warning: a password on the command line can be read by other local users (ps) and stays in shell history; use --password-stdin or the prompt';
