// Issue #4: the client bundled for the browser (no Node built-ins on the
// WebSocket path) logs in from headless Chromium over WebSocket, to our
// server (wss) and to Prosody (ws).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { startProsodyServer, startSwitchboard, type ServerUnderTest } from './servers.ts';

const ENTRY = new URL('../src/index.ts', import.meta.url).pathname;

describe('client in a browser (headless Chromium)', () => {
  let outdir: string;
  let http: Server;
  let pageUrl: string;
  let browser: Browser;
  const servers: ServerUnderTest[] = [];

  before(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'switchboard-browser-'));
    const result = await build({
      entryPoints: { client: ENTRY },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      outdir,
      // Only the lazily loaded TCP transport refers to these; a page never loads that chunk.
      external: ['node:*', 'ws'],
      metafile: true,
      logLevel: 'silent',
    });
    // The entry chunk itself must not import anything from Node.
    const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint)!;
    const nodeImports = entry[1].imports.filter((i) => i.path.startsWith('node:') && i.kind === 'import-statement');
    assert.deepEqual(nodeImports, [], 'no static Node import on the WebSocket path');
    http = createServer((req, res) => {
      const path = req.url === '/' ? '/index.html' : req.url!;
      if (path === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><title>switchboard client</title><script type="module">import * as sb from "./client.js"; window.sb = sb; window.ready = true;</script>');
        return;
      }
      try {
        const body = readFileSync(join(outdir, path));
        res.writeHead(200, { 'content-type': extname(path) === '.js' ? 'text/javascript' : 'application/octet-stream' });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    pageUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}/`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--ignore-certificate-errors'],
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => http?.close(r));
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(outdir, { recursive: true, force: true });
  });

  for (const start of [startSwitchboard, startProsodyServer]) {
    it(`logs in over WebSocket to ${start === startSwitchboard ? 'Switchboard' : 'Prosody'} and pings the server`, async () => {
      const server = await start();
      servers.push(server);
      const page = await browser.newPage();
      await page.goto(pageUrl);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      const outcome = await page.evaluate(
        async ({ url, requireTls }) => {
          type Sb = typeof import('../src/index.ts');
          const sb = (window as unknown as { sb: Sb }).sb;
          const client = new sb.Client({ domain: 'localhost', username: 'alice', password: 'alice-pw', resource: 'browser', transport: { kind: 'websocket', url }, requireTls });
          const states: string[] = [];
          client.on('state', ({ to }) => states.push(to));
          const jid = await client.connect();
          const pong = await client.iq(sb.xml('iq', { type: 'get', to: 'localhost' }, sb.xml('ping', { xmlns: 'urn:xmpp:ping' })));
          await client.disconnect();
          return { jid, states, pong: pong.attrs.type, userAgent: navigator.userAgent };
        },
        { url: server.websocketUrl, requireTls: server.websocketTls },
      );
      assert.equal(outcome.jid, 'alice@localhost/browser');
      assert.equal(outcome.pong, 'result');
      assert.deepEqual(outcome.states, ['Connected', 'StreamInit', 'Authenticate', 'Bind', 'Binding', 'Binded', 'Disconnected']);
      assert.match(outcome.userAgent, /HeadlessChrome|Chrome/);
      await page.close();
    });
  }
});
