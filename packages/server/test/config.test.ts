// Issue #22: configuration that refuses mistakes. Each mistake the issue
// lists is refused with a message naming it; the CLI exits non-zero with one
// line and no stack trace; docs/configuration.md is what the schema makes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../src/config-load.ts';
import { configurationMarkdown } from '../src/config-docs.ts';
import { DEFAULT_CONFIG } from '../src/config.ts';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const refused = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    parseCommandLine(argv, env);
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'SB_ERR_CONFIG');
    return (err as Error).message;
  }
  assert.fail(`accepted: ${argv.join(' ')}`);
};

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('configuration', () => {
  it('refuses an unknown key in the file, suggesting the known one, and names the file', () => {
    const f = file('typo.json', '{"domian":"example.org"}');
    assert.equal(refused(['--config', f]), `config file ${f}: unknown key "domian" (did you mean domain?)`);
    const nested = file('nested.json', '{"limits":{"maxStanzSize":1000}}');
    assert.match(refused(['--config', nested]), /unknown key "limits\.maxStanzSize" \(did you mean maxStanzaSize\?\)/);
  });

  it('refuses a value of the wrong type naming the key and the file ("maxStanzaSize": "big")', () => {
    const f = file('big.json', '{"limits":{"maxStanzaSize":"big"}}');
    assert.equal(refused(['--config', f]), `config file ${f}: "limits.maxStanzaSize" must be a number, not "big"`);
    assert.match(refused(['--config', file('neg.json', '{"c2sPort":70000}')]), /"c2sPort" .*65535/);
    assert.match(refused(['--config', file('bad.json', '{not json')]), /not valid JSON/);
  });

  it('refuses an unknown flag with a suggestion, and bad flag and environment values', () => {
    assert.equal(refused(['--c2s-prot', '5222']), 'unknown flag --c2s-prot (did you mean --c2s-port?); see --help');
    assert.match(refused(['--c2s-port', 'many']), /--c2s-port: expected a number, got "many"/);
    assert.match(refused(['--role', 'router']), /--role: expected one of all, c2s, sm/);
    assert.match(refused([], { SWITCHBOARD_C2S_PORT: 'x' }), /SWITCHBOARD_C2S_PORT: expected a number/);
    assert.match(refused(['--domain']), /--domain needs a value/);
  });

  it('refuses --tls-cert without --tls-key, and the other way round', () => {
    assert.match(refused(['--tls-cert', '/etc/ssl/cert.pem']), /--tls-cert \(tlsCert\) is set but --tls-key \(tlsKey\) is not/);
    assert.match(refused(['--tls-key', '/etc/ssl/key.pem']), /--tls-key \(tlsKey\) is set but --tls-cert/);
  });

  it('reads the layers in order: defaults, file, environment, flags; every key has a flag and a variable', () => {
    const f = file('ok.json', '{"domain":"file.example","offlineQuota":5,"limits":{"maxDepth":9}}');
    const line = parseCommandLine(['--config', f, '--offline-quota', '7', '--registration', 'user', 'list'], { SWITCHBOARD_DOMAIN: 'env.example', SWITCHBOARD_LIMITS__MAX_DEPTH: '11' });
    assert.equal(line.config.domain, 'env.example');
    assert.equal(line.config.offlineQuota, 7);
    assert.equal(line.config.limits.maxDepth, 11);
    assert.equal(line.config.limits.maxStanzaSize, DEFAULT_CONFIG.limits.maxStanzaSize);
    assert.equal(line.config.registration, true);
    assert.deepEqual(line.positional, ['user', 'list']);
    assert.equal(parseCommandLine(['--registration=false']).config.registration, false);
    assert.equal(parseCommandLine(['--archive', '0']).config.archive, false);
    assert.deepEqual(parseCommandLine(['--nats', 'nats://n:4222', '--nats-prefix', 'p']).config.router, { kind: 'nats', url: 'nats://n:4222', prefix: 'p' });
    assert.match(parseCommandLine([], { SWITCHBOARD_TYPO_PORT: '1' }).warnings.join(), /^unknown environment variable SWITCHBOARD_TYPO_PORT.*ignored$/);
  });

  it('docs/configuration.md is what the schema makes (npm run docs:config)', () => {
    const onDisk = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    assert.equal(onDisk, configurationMarkdown(), 'docs/configuration.md drifted from the schema: run npm run docs:config');
    for (const key of Object.keys(DEFAULT_CONFIG)) assert.match(onDisk, new RegExp(`\\| \`${key}[.\`]`), `${key} documented`);
  });

  it('the CLI: --help and --version print and exit 0; mistakes exit non-zero with one line and no stack trace', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const busyPort = (busy.address() as { port: number }).port;
    const empty = file('empty.crt', '');
    const data = join(dir, 'data');
    const base = ['--data-dir', data, '--c2s-port', '0', '--c2s-tls-port', '-1', '--http.port', '-1', '--admin-socket', ''];
    try {
      const [help, version, typo, proc, emptyCert, taken, onlyCert] = await Promise.all([
        cli(['serve', '--help']),
        cli(['--version']),
        cli(['serve', '--domian', 'x']),
        cli(['serve', ...base, '--data-dir', '/proc/x']),
        cli(['serve', ...base, '--ws-port', '-1', '--tls-cert', empty, '--tls-key', empty]),
        cli(['serve', ...base, '--ws-port', String(busyPort)]),
        cli(['serve', ...base, '--tls-cert', empty]),
      ]);
      assert.equal(help.code, 0);
      assert.match(help.out, /--c2s-port N +TCP client port/);
      assert.equal(version.code, 0);
      assert.equal(version.out, `switchboard ${(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version}\n`);
      assert.equal(typo.code, 2);
      assert.equal(typo.err, 'switchboard: unknown flag --domian (did you mean --domain?); see --help\n');
      assert.equal(proc.code, 2);
      assert.match(proc.err, /^switchboard: data directory \/proc\/x cannot be used: ENOENT/);
      assert.equal(emptyCert.code, 1);
      assert.equal(emptyCert.err, `switchboard: TLS certificate ${empty} is empty\n`);
      assert.equal(taken.code, 1);
      assert.equal(taken.err, `switchboard: cannot listen on 127.0.0.1:${busyPort}: the address is already in use (another server running? choose another port)\n`);
      assert.equal(onlyCert.code, 2);
      for (const r of [typo, proc, emptyCert, taken, onlyCert]) assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    } finally {
      busy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
