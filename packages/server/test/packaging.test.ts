// Issue #22: the server as an operator installs it. `npm pack` of
// @switchboard/server (prepack bundles dist/switchboard.mjs, its `bin`), the
// tarball installed into a fresh project, then `npx switchboard` adds a user,
// serves (with the web console built beside the bundle, dist/console/), and
// our client logs in to it; SIGTERM ends it with status 0.
// And the packaging files: the Dockerfile (linted here with dockerfile-utils
// and its structure checked, not built: no container daemon or registry on
// this machine) and the systemd unit.
//
// The install skips better-sqlite3's build script and takes the addon npm ci
// already compiled for this machine from the same version (checked): compiling
// SQLite takes minutes on a loaded 2-core machine, and that compile is
// better-sqlite3's business, not what this test is about.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@switchboard/client';
import { xml } from '@switchboard/xml';
import { freePort, waitForPort } from '@switchboard/testkit';
import { validate } from 'dockerfile-utils';
import { DockerfileParser } from 'dockerfile-ast';
import { DEFAULT_CONFIG } from '../src/config.ts';
import { parseCommandLine } from '../src/config-load.ts';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const ADDON = 'build/Release/better_sqlite3.node';

describe('packed @switchboard/server: npx switchboard', { timeout: 120_000 }, () => {
  let tmp: string;
  let app: string;
  let serve: ChildProcess | undefined;
  const npx = (args: string[]) => run('npx', ['--no-install', 'switchboard', ...args], { cwd: app, env: { ...process.env, NODE_OPTIONS: '' } });

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'switchboard-packed-server-'));
    await run('npm', ['pack', '--pack-destination', tmp, '-w', 'packages/server'], { cwd: ROOT });
    const [tarball] = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
    assert.ok(tarball);
    app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-server', private: true }));
    await run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(tmp, tarball)], { cwd: app });
    const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }).version;
    assert.equal(version(app), version(ROOT), 'the same better-sqlite3 as the repository');
    mkdirSync(dirname(join(app, 'node_modules/better-sqlite3', ADDON)), { recursive: true });
    copyFileSync(join(ROOT, 'node_modules/better-sqlite3', ADDON), join(app, 'node_modules/better-sqlite3', ADDON));
  });

  after(async () => {
    if (serve && serve.exitCode === null) serve.kill('SIGKILL');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('ships the bundle, the web console, LICENSE and package.json only', () => {
    const dir = join(app, 'node_modules/@switchboard/server');
    const consoleFiles = ['console.css', 'console.js', 'index.html'].map((f) => join('dist', 'console', f));
    assert.deepEqual(readdirSync(dir, { recursive: true }).map(String).sort(), ['LICENSE', 'dist', join('dist', 'console'), ...consoleFiles, join('dist', 'switchboard.mjs'), 'package.json']);
  });

  it('--version, user add, serve; a client logs in; SIGTERM exits 0', async () => {
    assert.equal((await npx(['--version'])).stdout.trim(), 'switchboard 0.1.0');
    const dataDir = join(tmp, 'data');
    await npx(['user', 'add', 'alice@localhost', 'alice-pw', '--data-dir', dataDir]);
    const [port, httpPort] = [await freePort(), await freePort()];
    const flags = ['--data-dir', dataDir, '--c2s-port', String(port), '--c2s-tls-port', '-1', '--ws-port', '-1', '--http.port', String(httpPort), '--http.console'];
    const tls = ['--tls-cert', process.env.SWITCHBOARD_TEST_TLS_CERT!, '--tls-key', process.env.SWITCHBOARD_TEST_TLS_KEY!];
    // The bin npx runs, started directly so that SIGTERM reaches the server (npm exec does not pass it on).
    serve = spawn(join(app, 'node_modules/.bin/switchboard'), ['serve', ...flags, ...tls], { cwd: app, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    serve.stderr!.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => serve!.once('exit', (code) => resolve(code)));
    await Promise.race([waitForPort(port, 30_000), exited.then((code) => assert.fail(`serve exited ${code}: ${stderr}`))]);

    const client = new Client({ domain: 'localhost', username: 'alice', password: 'alice-pw', resource: 'npx', transport: { kind: 'tcp', host: 'localhost', port } });
    // A client left connected would keep this file's process alive after a failure (the runner waits for it).
    try {
      // SASL2 + Bind 2 (on by default): the resource is made from the tag, `npx/…` (XEP-0386 §3.1).
      assert.match(await client.connect(), /^alice@localhost\/npx\/[A-Za-z0-9_-]+$/);
      const pong = await client.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.equal(pong.attrs.type, 'result');
    } finally {
      await client.disconnect();
    }
    for (const path of ['/', '/console.js', '/console.css']) assert.equal((await fetch(`http://127.0.0.1:${httpPort}${path}`)).status, 200, path);
    serve.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  });
});

describe('packaging files', () => {
  it('the Dockerfile passes the linter (dockerfile-utils) with nothing to say', () => {
    const text = readFileSync(join(ROOT, 'packaging/Dockerfile'), 'utf8');
    const problems = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    assert.deepEqual(problems, []);
  });

  it('the Dockerfile is pinned, runs as a non-root user, checks /health, exposes the default ports and copies in only the packed server', () => {
    const text = readFileSync(join(ROOT, 'packaging/Dockerfile'), 'utf8');
    const file = DockerfileParser.parse(text);
    const args = (i: { getArguments(): { getValue(): string }[] }): string[] => i.getArguments().map((a) => a.getValue());
    const froms = file.getFROMs();
    const stages = new Set(froms.map((f) => f.getBuildStage()).filter((s) => s !== null));
    // Every base image pinned to one release (x.y.z) or a digest, so a rebuild gets the same Node.
    for (const f of froms) {
      if (stages.has(f.getImageName() ?? '')) continue;
      assert.ok(f.getImageDigest() !== null || /^\d+\.\d+\.\d+(-[\w.-]+)?$/.test(f.getImageTag() ?? ''), `FROM ${f.getImage()} is not pinned to a release or a digest`);
    }
    // The runtime stage: the instructions after the last FROM.
    const all = file.getInstructions();
    const lastFrom = all.lastIndexOf(froms[froms.length - 1]! as unknown as (typeof all)[number]);
    const runtime = all.slice(lastFrom);
    const keyword = (k: string) => runtime.filter((i) => i.getKeyword() === k);

    const users = keyword('USER').map((i) => args(i)[0]!);
    assert.ok(users.length > 0 && !['root', '0'].includes(users[users.length - 1]!.split(':')[0]!), `runs as ${users.at(-1) ?? 'root'}`);
    const userAt = runtime.findIndex((i) => i.getKeyword() === 'USER');
    assert.ok(runtime.findIndex((i) => i.getKeyword() === 'ENTRYPOINT') > userAt, 'USER before ENTRYPOINT');

    const health = keyword('HEALTHCHECK');
    assert.equal(health.length, 1);
    assert.match(health[0]!.getArgumentsContent()!, new RegExp(`^CMD .*http://127\\.0\\.0\\.1:${DEFAULT_CONFIG.http.port}/health\\b`));
    assert.equal(DEFAULT_CONFIG.http.bindAddress, '127.0.0.1', 'the operator listener stays on the container loopback, where the check reaches it');

    const exposed = keyword('EXPOSE').flatMap(args).map(Number);
    assert.deepEqual(exposed, [DEFAULT_CONFIG.c2sPort, DEFAULT_CONFIG.c2sDirectTlsPort, DEFAULT_CONFIG.wsPort]);

    // Every COPY from the build context is the tarball the documented build makes (the server package's name and version);
    // the runtime stage takes only the installed node_modules from the build stage.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/server/package.json'), 'utf8')) as { name: string; version: string; bin: Record<string, string> };
    const tarball = `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`;
    const copies = all.filter((i) => i.getKeyword() === 'COPY') as unknown as { getFlags(): { getName(): string; getValue(): string | null }[]; getArguments(): { getValue(): string }[] }[];
    const fromContext = copies.filter((c) => !c.getFlags().some((f) => f.getName() === 'from')).flatMap((c) => args(c).slice(0, -1));
    assert.deepEqual(fromContext, [tarball]);
    const fromStages = copies.filter((c) => c.getFlags().some((f) => f.getName() === 'from')).map((c) => args(c).slice(0, -1));
    assert.deepEqual(fromStages, [['/opt/switchboard/node_modules']]);
    assert.match(text, /npm pack --pack-destination \.\.\/\.\.\/packaging/);

    // The command is the package's bin, in exec form; the environment it sets is configuration the server accepts.
    assert.ok(pkg.bin.switchboard && text.includes('node_modules/.bin/switchboard'));
    assert.deepEqual(JSON.parse(keyword('ENTRYPOINT')[0]!.getArgumentsContent()!), ['switchboard']);
    assert.deepEqual(JSON.parse(keyword('CMD')[0]!.getArgumentsContent()!), ['serve']);
    const env = Object.fromEntries(keyword('ENV').flatMap(args).map((kv) => kv.split('=') as [string, string]));
    const config = parseCommandLine(['serve'], { ...env }).config;
    assert.equal(config.dataDir, '/var/lib/switchboard');
    assert.equal(config.bindAddress, '0.0.0.0');
    assert.ok(keyword('VOLUME').flatMap(args).includes(config.dataDir), 'the data directory is the volume');
  });

  it('the systemd unit has its sections and runs the packaged command', () => {
    const text = readFileSync(join(ROOT, 'packaging/switchboard.service'), 'utf8');
    const sections = [...text.matchAll(/^\[(\w+)\]$/gm)].map((m) => m[1]);
    assert.deepEqual(sections, ['Unit', 'Service', 'Install']);
    for (const line of text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#') && !l.startsWith('['))) {
      assert.match(line, /^[A-Za-z]+=/, `not a Key=value line: ${line}`);
    }
    const exec = /^ExecStart=(\S+) (\S+) serve/m.exec(text);
    assert.ok(exec && exec[1]!.startsWith('/') && exec[2] === 'switchboard', 'ExecStart runs switchboard serve by an absolute path');
    assert.match(text, /^RestartPreventExitStatus=2$/m, 'a configuration mistake (exit 2) is not restarted in a loop');
  });
});
