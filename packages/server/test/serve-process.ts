// `switchboard serve` as an operator runs it, in a process of its own, and
// the `switchboard` CLI beside it: for the admin socket and SIGHUP tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './helpers.ts';

export const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;

export interface ServeProcess {
  child: ChildProcess;
  c2sPort: number;
  /** Direct TLS port, when it was not turned off. */
  directTlsPort: number | undefined;
  /** What the server printed so far (JSON log lines). */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  waitForLog(pattern: RegExp, ms?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts serve and waits for its admin socket (or, with `socket: false`, for its listeners); rejects if it exits first. */
export async function startServe(args: string[], options: { socket?: boolean } = {}): Promise<ServeProcess> {
  const env = {};
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--log.format', 'json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const ready = options.socket === false ? /"event":"server\.started"/ : /"event":"admin\.socket\.started"/;
  await waitFor(() => gone || ready.test(out), 30_000, `serve to start; output: ${out}`);
  const m = /c2s 127\.0\.0\.1:(\d+)(?:, direct TLS 127\.0\.0\.1:(\d+))?/.exec(out);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`serve did not start: ${out}`);
  }
  return {
    child,
    c2sPort: Number(m[1]),
    directTlsPort: m[2] !== undefined ? Number(m[2]) : undefined,
    output: () => out,
    exited,
    waitForLog: (pattern, ms = 10_000) => waitFor(() => pattern.test(out), ms, `${pattern} in the server's output: ${out.slice(-2000)}`),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the CLI; `input` is written to its stdin. */
export function runCli(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(input ?? '');
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
