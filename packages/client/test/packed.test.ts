// Issue #22: @switchboard/client and @switchboard/jingle used as someone
// outside this repository would. `npm pack` makes the tarballs (prepack
// builds dist/ with tsc), a fresh project installs them from the files, and
// then against a real server started here:
//   - a plain Node ESM script logs in twice (TCP and WebSocket) and chats;
//   - a TypeScript file type-checks against the shipped .d.ts (strict, no skipLibCheck);
//   - the same page bundled by esbuild and by Vite, with no configuration of
//     either, runs in headless Chromium, logs in over wss:// and chats.
// The only registry packages the fresh project needs are the packages'
// own dependencies (tr46, punycode, ws), which `npm ci` of this repository
// has put in npm's cache (--prefer-offline). esbuild, Vite and tsc are this
// repository's, run inside the fresh project: they find the packages there.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '@switchboard/server';
import { launchChromium } from '@switchboard/testkit';
import { Client, message } from '@switchboard/client';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const bin = (path: string) => join(ROOT, 'node_modules', path);
const PACKAGES = ['xml', 'jid', 'protocol', 'client', 'jingle'];

// What a user writes. The page is the same file for both bundlers.
const NODE_SCRIPT = `
import { Client, message } from '@switchboard/client';
import { JingleManager, registerFileTransfer } from '@switchboard/jingle';
import { nodeHasher } from '@switchboard/jingle/node';
const [c2sPort, wsUrl] = process.argv.slice(2);
const account = (username, transport) => ({ domain: 'localhost', username, password: username + '-pw', resource: 'node', transport });
const alice = new Client(account('alice', { kind: 'tcp', host: 'localhost', port: Number(c2sPort) }));
const bob = new Client(account('bob', { kind: 'websocket', url: wsUrl }));
const jids = await Promise.all([alice.connect(), bob.connect()]);
const heard = new Promise((resolve) => bob.on('stanza', (s) => s.name === 'message' && resolve(s)));
alice.send(message({ to: 'bob@localhost', type: 'chat', body: 'hello from npm pack' }));
const got = await heard;
registerFileTransfer(new JingleManager({ selfID: jids[0] }), { hasher: nodeHasher });
await Promise.all([alice.disconnect(), bob.disconnect()]);
console.log(JSON.stringify({ jids, from: got.attrs.from, body: got.getChildText('body') }));
`;

const TS_CHECK = `
import { Client, ClientError, message, type ClientOptions, type IncomingMessage } from '@switchboard/client';
import { JingleManager, attachJingle, registerFileTransfer } from '@switchboard/jingle';
const options: ClientOptions = { domain: 'example.org', username: 'a', password: 'b', transport: { kind: 'websocket', url: 'wss://example.org/ws' } };
const client = new Client(options);
client.on('online', ({ jid }) => jid.toUpperCase());
client.on('message', (m: IncomingMessage) => m.stanza.getChildText('body') ?? m.kind);
client.on('error', (e: ClientError) => e.code);
// @ts-expect-error: not an event of the client
client.on('connected', () => {});
const manager = new JingleManager();
registerFileTransfer(manager);
attachJingle(client, manager);
client.send(message({ to: 'b@example.org', body: 'x' }));
`;

const PAGE_SCRIPT = `
import { Client, message } from '@switchboard/client';
import { JingleManager, attachJingle, registerFileTransfer } from '@switchboard/jingle';
const url = new URLSearchParams(location.search).get('ws');
window.outcome = (async () => {
  const client = new Client({ domain: 'localhost', username: 'carol', password: 'carol-pw', resource: 'page', transport: { kind: 'websocket', url } });
  const jid = await client.connect();
  const manager = new JingleManager({ selfID: jid });
  registerFileTransfer(manager);
  attachJingle(client, manager);
  const echo = new Promise((resolve) => client.on('stanza', (s) => s.name === 'message' && resolve(s.getChildText('body'))));
  client.send(message({ to: 'dave@localhost', type: 'chat', body: 'ping from ' + document.title }));
  const body = await echo;
  await client.disconnect();
  return { jid, body };
})().catch((err) => ({ error: String(err) }));
`;
const PAGE_HTML = (title: string, src: string) => `<!doctype html><title>${title}</title><script type="module" src="${src}"></script>`;

function serveDir(dir: string): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
  const server = createServer((req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    try {
      const body = readFileSync(join(dir, path));
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

describe('packed @switchboard/client and @switchboard/jingle in a fresh project', { timeout: 120_000 }, () => {
  let tmp: string;
  let app: string;
  let server: RunningServer;
  let wsUrl: string;
  let dave: Client;
  let browser: Browser;
  const pages: Server[] = [];

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'switchboard-packed-'));
    const workspaces = PACKAGES.flatMap((p) => ['-w', `packages/${p}`]);
    await run('npm', ['pack', '--pack-destination', tmp, ...workspaces], { cwd: ROOT });
    const tarballs = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
    assert.equal(tarballs.length, PACKAGES.length, tarballs.join(' '));
    app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-app', private: true, type: 'module' }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs.map((t) => join(tmp, t))], { cwd: app });

    server = await startServer({
      domain: 'localhost',
      c2sPort: 0,
      c2sDirectTlsPort: -1,
      wsPort: 0,
      dataDir: join(tmp, 'data'),
      tlsCert: process.env.SWITCHBOARD_TEST_TLS_CERT,
      tlsKey: process.env.SWITCHBOARD_TEST_TLS_KEY,
    });
    for (const user of ['alice', 'bob', 'carol', 'dave']) await server.addUser(user, `${user}-pw`);
    wsUrl = `wss://localhost:${server.wsPort}/xmpp-websocket`;
    // dave answers every chat message with its body, so a page can show a round trip.
    dave = new Client({ domain: 'localhost', username: 'dave', password: 'dave-pw', transport: { kind: 'tcp', host: 'localhost', port: server.c2sPort } });
    dave.on('stanza', (s) => {
      const body = s.name === 'message' && s.getChildText('body');
      if (body) dave.send(message({ to: s.attrs.from, type: 'chat', body: `echo: ${body}` }));
    });
    await dave.connect();
  });

  after(async () => {
    await browser?.close();
    for (const p of pages) p.close();
    await dave?.disconnect();
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('ships built JavaScript, .d.ts, README and LICENSE, and no TypeScript source or tests', () => {
    for (const p of ['client', 'jingle']) {
      const dir = join(app, 'node_modules', '@switchboard', p);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { license: string; private?: boolean };
      assert.equal(pkg.license, 'MIT');
      assert.equal(pkg.private, undefined);
      const files = readdirSync(dir, { recursive: true }).map(String);
      assert.ok(files.includes('LICENSE') && files.includes('README.md'), p);
      assert.ok(files.includes(join('dist', 'index.js')) && files.includes(join('dist', 'index.d.ts')), p);
      assert.deepEqual(files.filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /\.test\.|(^|\/)test[-/]/.test(f)), [], p);
    }
  });

  it('a plain Node ESM script logs in over TCP and WebSocket and exchanges a message', async () => {
    writeFileSync(join(app, 'chat.mjs'), NODE_SCRIPT);
    const { stdout } = await run(process.execPath, ['chat.mjs', String(server.c2sPort), wsUrl], { cwd: app, env: { ...process.env, NODE_OPTIONS: '' } });
    const out = JSON.parse(stdout) as { jids: string[]; from: string; body: string };
    // Bind 2 (XEP-0386 §3.1): the resource is made from the tag asked for, `node/…`.
    assert.match(out.jids[0]!, /^alice@localhost\/node\/[A-Za-z0-9_-]+$/);
    assert.match(out.jids[1]!, /^bob@localhost\/node\/[A-Za-z0-9_-]+$/);
    assert.deepEqual({ from: out.from, body: out.body }, { from: out.jids[0], body: 'hello from npm pack' });
  });

  it('a TypeScript file type-checks against the shipped declarations', async () => {
    writeFileSync(join(app, 'check.ts'), TS_CHECK);
    // No @types/node in the project: the declarations a browser user sees must not need it.
    const compilerOptions = { noEmit: true, strict: true, skipLibCheck: false, skipDefaultLibCheck: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023', 'dom'], types: [] };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
    const out = await run(process.execPath, [bin('typescript/bin/tsc'), '-p', '.'], { cwd: app }).catch((err: { stdout: string }) => err);
    assert.equal(out.stdout, '');
  });

  it('bundles for the browser with esbuild and with Vite, unconfigured, and chats from headless Chromium', async () => {
    // esbuild: `esbuild main.js --bundle` (its default platform for a bundle is the browser).
    const web = join(app, 'web');
    mkdirSync(web);
    writeFileSync(join(web, 'main.js'), PAGE_SCRIPT);
    mkdirSync(join(app, 'esbuild-out'));
    await run(bin('.bin/esbuild'), ['web/main.js', '--bundle', '--format=esm', '--outfile=esbuild-out/main.js', '--log-level=warning'], { cwd: app });
    writeFileSync(join(app, 'esbuild-out', 'index.html'), PAGE_HTML('esbuild', './main.js'));
    // Vite: `vite build` in a directory with an index.html and no vite.config.
    writeFileSync(join(web, 'index.html'), PAGE_HTML('vite', './main.js'));
    await run(process.execPath, [bin('vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: web });
    for (const out of [join(app, 'esbuild-out', 'main.js'), ...readdirSync(join(web, 'dist', 'assets')).map((f) => join(web, 'dist', 'assets', f))]) {
      assert.doesNotMatch(readFileSync(out, 'utf8'), /node:net|node:tls|from ?"ws"/, out);
    }

    browser = await launchChromium(['--ignore-certificate-errors']);
    for (const [title, dir] of [['esbuild', join(app, 'esbuild-out')], ['vite', join(web, 'dist')]] as const) {
      const served = await serveDir(dir);
      pages.push(served.server);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${served.url}?ws=${encodeURIComponent(wsUrl)}`);
      await page.waitForFunction(() => (window as unknown as { outcome?: unknown }).outcome !== undefined);
      const outcome = await page.evaluate(() => (window as unknown as { outcome: Promise<unknown> }).outcome);
      const { jid, ...rest } = outcome as { jid?: string };
      assert.match(jid ?? JSON.stringify(outcome), /^carol@localhost\/page\/[A-Za-z0-9_-]+$/, `${title}: ${errors.join('; ')}`);
      assert.deepEqual(rest, { body: `echo: ping from ${title}` }, `${title}: ${errors.join('; ')}`);
      await page.close();
    }
  });
});
