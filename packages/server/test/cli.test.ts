// The CLI as an operator runs it: `switchboard user …` against a data
// directory, then `switchboard serve` on it, then a login.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient } from './helpers.ts';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const ROOT = new URL('../../..', import.meta.url).pathname;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('switchboard CLI', () => {
  it('adds, lists, changes and removes users; the store holds no password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
    try {
      const d = ['--data-dir', dir];
      assert.equal(cli(['user', 'add', 'Alice@localhost', 'first-pass', ...d]).status, 0);
      const dup = cli(['user', 'add', 'alice@localhost', 'x', ...d]);
      assert.equal(dup.status, 1);
      assert.match(dup.stderr, /already exists/);
      assert.equal(cli(['user', 'add', 'bob@elsewhere.example', 'x', ...d]).status, 2, 'other domains are refused');
      assert.equal(cli(['user', 'add', 'bad user@localhost', 'x', ...d]).status, 2, 'malformed JIDs are refused');
      assert.equal(cli(['user', 'list', ...d]).stdout, 'alice@localhost\n', 'the localpart is case-folded');
      assert.equal(cli(['user', 'passwd', 'alice@localhost', 'second-pass', ...d]).status, 0);
      assert.ok(!readFileSync(join(dir, 'switchboard.sqlite')).includes('second-pass'));
      assert.equal(cli(['user', 'remove', 'alice@localhost', ...d]).status, 0);
      assert.equal(cli(['user', 'remove', 'alice@localhost', ...d]).status, 1);
      assert.equal(cli(['user', 'list', ...d]).stdout, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve, compiled as npm start runs it, serves a user made by the CLI, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-serve-'));
    const d = ['--data-dir', dir, '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1', '--allow-plaintext-on-loopback'];
    assert.equal(cli(['user', 'add', 'alice@localhost', 'pw', ...d]).status, 0);
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const child = spawn(process.execPath, [join(ROOT, 'dist/switchboard.mjs'), 'serve', ...d], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /c2s 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', () => reject(new Error(`serve exited: ${out}`)));
      });
      const c = await RawClient.connect(port);
      assert.equal(await c.login('alice', 'pw', 'cli'), 'alice@localhost/cli');
      child.kill('SIGTERM');
      // Shutdown ends the stream with system-shutdown (RFC 6120 §4.9.3.17).
      await c.expect(/<system-shutdown xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      const code = await new Promise((r) => child.once('exit', r));
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
