// Issue #4: the client bundled for the browser (no Node built-ins on the
// WebSocket path) logs in from headless Chromium over WebSocket, to our
// server (wss) and to Prosody (ws).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium, servePage, type ServedPage } from '@switchboard/testkit';
import { boundFor, startProsodyServer, startSwitchboard, type ServerUnderTest } from './servers.ts';

// The browser entry, which the package's `browser` export condition names.
const ENTRY = new URL('../src/browser.ts', import.meta.url).pathname;

describe('client in a browser (headless Chromium)', () => {
  let served: ServedPage;
  let pageUrl: string;
  let browser: Browser;
  const servers: ServerUnderTest[] = [];

  before(async () => {
    served = await servePage({ entry: ENTRY, global: 'sb', title: 'switchboard client' });
    pageUrl = served.url;
    // Nothing from Node in the whole bundle, not even a lazily loaded chunk: no TCP transport, no ws.
    const imports = Object.values(served.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    assert.deepEqual(imports.filter((p) => p.startsWith('node:') || p === 'ws'), [], 'no Node import in the browser entry');
    assert.deepEqual(Object.keys(served.metafile.inputs).filter((i) => /transport\/(tcp|lazy-tcp|node-platform)\.ts$/.test(i)), []);
    // The server's test certificate: NODE_EXTRA_CA_CERTS trusts it in Node; Chromium has its own store.
    browser = await launchChromium(['--ignore-certificate-errors']);
  });

  after(async () => {
    await browser?.close();
    await served?.close();
    await Promise.all(servers.map((s) => s.stop()));
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
          type Sb = typeof import('../src/browser.ts');
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
      assert.ok(boundFor(outcome.jid, 'alice@localhost', 'browser'), outcome.jid);
      assert.equal(outcome.pong, 'result');
      assert.deepEqual(outcome.states, ['Connected', 'StreamInit', 'Authenticate', 'Bind', 'Binding', 'Binded', 'Disconnected']);
      assert.match(outcome.userAgent, /HeadlessChrome|Chrome/);
      await page.close();
    });
  }
});
