// Converse.js 14 (npm converse.js, its prebuilt dist/) in Debian's headless
// Chromium against `switchboard serve`, configured as a person would: only
// the JID and password, no websocket_url. Converse finds the endpoint itself
// through XEP-0156: it fetches https://DOMAIN/.well-known/host-meta (XRD only,
// wss:// links only). The test cannot bind port 443 for `localhost`, so the
// page's request for that URL is answered with the real response of our
// operator HTTP listener (status, headers — CORS included — and body passed
// through untouched); the wss:// endpoint it names is then reached directly.
// A fulfilled route skips Chromium's CORS check, so CORS is checked by the
// page fetching the listener's host-meta cross-origin itself (and, as the
// control, failing to read /health, which has no CORS headers).
// Our test certificate is not in Chromium's store: --ignore-certificate-errors,
// as the console test does (the alternative, an NSS db per run, tests nothing
// of ours). Our own client library (Node) is the other side of every scenario.
// Screenshots are kept in run/converse-screenshots/ to look at; each is checked to show the text the
// scenario put on the page (found in the DOM, drawn inside the viewport that was photographed, and the PNG is not a blank page).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Client, presence, message, xml, type Element } from '@switchboard/client';
import { launchChromium } from '@switchboard/testkit';
import { runCli, startServe, type ServeProcess } from './serve-process.ts';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '../../../node_modules/converse.js/dist');
const NS_ROSTER = 'jabber:iq:roster';
const SHOTS = join(process.cwd(), 'run', 'converse-screenshots');

const PAGE = (jid: string, password: string): string => `<!doctype html><html><head><meta charset="utf-8"><title>Converse</title>
<link rel="stylesheet" href="/dist/converse.min.css"><script type="module" src="/dist/converse.min.js"></script></head><body class="converse-fullscreen">
<script type="module">
converse.plugins.add('sb-test', { initialize() { window.sb = this._converse; } });
converse.initialize({ jid: ${JSON.stringify(jid)}, password: ${JSON.stringify(password)}, auto_login: true,
  view_mode: 'fullscreen', assets_path: '/dist/', whitelisted_plugins: ['sb-test'], loglevel: 'debug',
  muc_domain: 'conference.localhost', allow_non_roster_messaging: true, auto_reconnect: false });
</script></body></html>`;

describe('Converse.js 14 in headless Chromium', { timeout: 90_000 }, () => {
  let tmp: string;
  let serve: ServeProcess;
  let base: string;
  let wsUrl: string;
  let browser: Browser;
  let page: Page;
  let web: Server;
  let webBase: string;
  const logs: string[] = [];
  /** Headers of each host-meta response the page got. */
  const hostMeta: Record<string, string>[] = [];
  const clients: Client[] = [];

  const connect = async (username: string, resource: string): Promise<Client> => {
    const c = new Client({ domain: 'localhost', username, password: `${username}-pw`, resource, transport: { kind: 'websocket', url: wsUrl } });
    clients.push(c);
    await c.connect();
    return c;
  };
  const next = (c: Client, pick: (s: Element) => boolean, what: string): Promise<Element> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
      const off = c.on('stanza', (s) => {
        if (!pick(s)) return;
        clearTimeout(timer);
        off();
        resolve(s);
      });
    });
  const shot = async (name: string, text: string): Promise<void> => {
    const el = page.getByText(text).first();
    await el.waitFor();
    const png = await page.screenshot();
    writeFileSync(join(SHOTS, `${name}.png`), png);
    // The text the scenario produced is drawn inside the photographed viewport, and the photo is not a blank page.
    const box = await el.boundingBox();
    const view = page.viewportSize()!;
    assert.ok(box && box.width > 0 && box.x >= 0 && box.y >= 0 && box.x + box.width <= view.width && box.y + box.height <= view.height, `${name}: "${text}" is in the screenshot (${JSON.stringify(box)})`);
    assert.ok(png.length > 10_000, `${name}: the screenshot has content (${png.length} bytes)`);
  };

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'switchboard-converse-'));
    const config = join(tmp, 'config.json');
    writeFileSync(config, JSON.stringify({ scramIterations: 4096, archive: true, archiveWriteDelayMs: 50 }));
    const [cert, key] = [process.env.SWITCHBOARD_TEST_TLS_CERT!, process.env.SWITCHBOARD_TEST_TLS_KEY!];
    serve = await startServe(['--config', config, '--data-dir', join(tmp, 'data'), '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '0', '--http.port', '0', '--tls-cert', cert, '--tls-key', key]);
    const port = /operator HTTP on 127\.0\.0\.1:(\d+)/.exec(serve.output())?.[1];
    assert.ok(port, serve.output());
    base = `http://127.0.0.1:${port}`;
    wsUrl = /href="([^"]+)"/.exec(await (await fetch(`${base}/.well-known/host-meta`)).text())![1]!;
    assert.match(wsUrl, /^wss:\/\/localhost:\d+\/xmpp-websocket$/);
    for (const user of ['alice', 'bob', 'carol']) {
      const added = await runCli(['user', 'add', `${user}@localhost`, '--password-stdin', '--data-dir', join(tmp, 'data')], `${user}-pw\n`);
      assert.equal(added.code, 0, added.stderr);
    }
    const [alice, bob] = [await connect('alice', 'setup'), await connect('bob', 'setup')];
    for (const [me, other] of [[alice, 'bob@localhost'], [bob, 'alice@localhost']] as const) {
      me.on('stanza', (s) => s.name === 'presence' && s.attrs.type === 'subscribe' && me.send(presence({ to: s.attrs.from!, type: 'subscribed' })));
      me.send(presence({ to: other, type: 'subscribe' }));
    }
    const both = async (c: Client): Promise<boolean> =>
      (await c.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })))).getChild('query', NS_ROSTER)!.getChild('item')?.attrs.subscription === 'both';
    for (let i = 0; !((await both(alice)) && (await both(bob))); i++) {
      assert.ok(i < 50, 'mutual subscription');
      await new Promise((r) => setTimeout(r, 100));
    }
    // History for scenario 4: archived before Converse ever connects.
    bob.send(message({ to: 'alice@localhost', type: 'chat' }, xml('body', {}, 'archived hello from bob')));
    await new Promise((r) => setTimeout(r, 400));
    await alice.disconnect();
    await bob.disconnect();

    mkdirSync(SHOTS, { recursive: true });
    web = createServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE('alice@localhost', 'alice-pw'));
      const file = url.startsWith('/dist/') ? join(DIST, url.slice(6).split('?')[0]!.replace(/\.\.+/g, '')) : '';
      try {
        const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : file.endsWith('.json') ? 'application/json' : file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
        res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', () => resolve()));
    webBase = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
    browser = await launchChromium(['--ignore-certificate-errors']);
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    // XEP-0156 as Converse asks it (https://localhost/.well-known/host-meta), answered by our listener.
    await page.route('https://localhost/.well-known/host-meta*', async (route) => {
      const res = await fetch(`${base}/.well-known/host-meta`, { headers: route.request().headers() });
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => (headers[k] = v));
      hostMeta.push(headers);
      await route.fulfill({ status: res.status, headers, body: await res.text() });
    });
  });

  after(async () => {
    if (process.env.CONVERSE_LOG) console.log(logs.join('\n'));
    await browser?.close();
    await new Promise((r) => (web ? web.close(r) : r(undefined)));
    for (const c of clients) await c.disconnect();
    await serve?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('1. logs in with only a JID and password (endpoint found by XEP-0156)', async () => {
    await page.goto(`${webBase}/`);
    await page.waitForFunction(() => (window as unknown as { sb?: { api: { connection: { connected(): boolean } } } }).sb?.api.connection.connected() === true, undefined, { timeout: 20_000 });
    const url = await page.evaluate(() => (window as unknown as { sb: { api: { settings: { get(k: string): string } } } }).sb.api.settings.get('websocket_url'));
    assert.equal(url, wsUrl);
    assert.equal(hostMeta.length, 1);
    assert.equal(hostMeta[0]!['access-control-allow-origin'], '*');
    // A response fulfilled by page.route skips the browser's CORS check (tried: without the header Converse
    // still logs in), so the same request Converse makes is sent by the page itself to the listener, cross-origin.
    const read = await page.evaluate(async (u) => (await fetch(u, { mode: 'cors', headers: { Accept: 'application/xrd+xml, text/xml' } })).text(), `${base}/.well-known/host-meta`);
    assert.ok(read.includes(wsUrl), read);
    // The control: a path of the same listener without CORS headers (/health) cannot be read by the page.
    const control = await page.evaluate(async (u) => fetch(u, { mode: 'cors' }).then(() => 'read', () => 'refused'), `${base}/health`);
    assert.equal(control, 'refused');
    await shot('1-login', 'bob');
  });

  /** Runs an async expression in the page, with `sb` (Converse's _converse, through our plugin) and `api` in scope. */
  const ev = <T>(body: string): Promise<T> => page.evaluate(`(async () => { const sb = window.sb, api = window.sb.api; ${body} })()`) as Promise<T>;
  const poll = async <T>(body: string, ok: (v: T) => boolean, what: string): Promise<T> => {
    for (let i = 0; ; i++) {
      const v = await ev<T>(body);
      if (ok(v)) return v;
      assert.ok(i < 100, `${what}: last seen ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const messages = (jid: string): string => `const c = await api.chats.get(${JSON.stringify(jid)}); return c ? c.messages.models.map((m) => [m.get('sender'), m.get('body') ?? null]) : [];`;
  const roomMessages = (jid: string): string => `const c = await api.rooms.get(${JSON.stringify(jid)}); return c ? c.messages.models.map((m) => [m.get('nick'), m.get('body') ?? null, m.get('sender')]) : [];`;

  it("2. shows the roster and the contact's presence", async () => {
    const bob = await connect('bob', 'laptop');
    bob.send(presence({}, xml('show', {}, 'away')));
    const status = await poll<string>(`const c = await api.contacts.get('bob@localhost'); return c ? c.getStatus() : 'none';`, (v) => v === 'away', 'bob away in Converse');
    assert.equal(status, 'away');
    // And Converse's presence reaches bob.
    const seen = await ev<string>(`const c = await api.contacts.get('bob@localhost'); return c.get('subscription');`);
    assert.equal(seen, 'both');
    await shot('2-roster', 'bob');
    await bob.disconnect();
  });

  it('3. chats with someone not in the roster, both ways; loads and uses the block list (XEP-0191)', async () => {
    const carol = await connect('carol', 'desk');
    const got = next(carol, (s) => s.name === 'message' && s.getChildText('body') === 'hello carol from converse', 'Converse message at carol');
    await ev(`const c = await api.chats.open('carol@localhost'); await c.sendMessage({ body: 'hello carol from converse' }); return true;`);
    const m = await got;
    assert.match(m.attrs.from ?? '', /^alice@localhost\//);
    carol.send(message({ to: 'alice@localhost', type: 'chat' }, xml('body', {}, 'hi alice from carol')));
    await poll<string[][]>(messages('carol@localhost'), (v) => v.some((x) => x[0] === 'them' && x[1] === 'hi alice from carol'), 'carol\'s reply in Converse');
    await ev(`await api.chats.open('carol@localhost', {}, true); return true;`);
    await shot('3-stranger-chat', 'hi alice from carol');
    // The block list: Converse loaded it (the server advertises urn:xmpp:blocking on its disco#info) and blocking works.
    assert.equal(await ev<boolean>(`return await api.disco.supports('urn:xmpp:blocking', 'localhost');`), true);
    await ev(`await api.blocklist.add('carol@localhost'); return true;`);
    await poll<string[]>(`const l = await api.blocklist.get(); return l.models.map((m) => m.get('jid'));`, (v) => v.includes('carol@localhost'), 'carol in the block list');
    const bounced = next(carol, (s) => s.name === 'message' && s.attrs.type === 'error', 'error for a blocked recipient');
    carol.send(message({ to: 'alice@localhost', type: 'chat', id: 'blocked-1' }, xml('body', {}, 'you blocked me')));
    assert.ok((await bounced).getChild('error')?.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'), 'a blocked sender gets service-unavailable');
    await ev(`await api.blocklist.remove('carol@localhost'); return true;`);
    await carol.disconnect();
  });

  it('4. shows a carbon of a message sent from another resource, and loads history from the archive (MAM)', async () => {
    const history = await poll<string[][]>(`const c = await api.chats.open('bob@localhost'); await c.fetchArchivedMessages?.({}); return c.messages.models.map((m) => [m.get('sender'), m.get('body') ?? null]);`, (v) => v.some((x) => x[1] === 'archived hello from bob'), 'archived message in the chat');
    assert.ok(history.some((x) => x[0] === 'them' && x[1] === 'archived hello from bob'));
    const phone = await connect('alice', 'phone');
    const bob = await connect('bob', 'laptop2');
    const atBob = next(bob, (s) => s.name === 'message' && s.getChildText('body') === 'sent from alice phone', 'alice phone message at bob');
    phone.send(message({ to: 'bob@localhost', type: 'chat' }, xml('body', {}, 'sent from alice phone')));
    await atBob;
    await poll<string[][]>(messages('bob@localhost'), (v) => v.some((x) => x[0] === 'me' && x[1] === 'sent from alice phone'), 'sent carbon shown as sent');
    await ev(`await api.chats.open('bob@localhost', {}, true); return true;`);
    await shot('4-carbons-mam', 'sent from alice phone');
    await phone.disconnect();
    await bob.disconnect();
  });

  it('5. joins a room on conference.localhost and exchanges groupchat messages with another occupant', async () => {
    const bob = await connect('bob', 'muc');
    const room = 'lobby@conference.localhost';
    bob.send(presence({ to: `${room}/bob` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
    await next(bob, (s) => s.name === 'presence' && s.attrs.from === `${room}/bob`, 'bob in the room');
    // A new room stays locked until its owner configures it (XEP-0045 §10.1.2): bob accepts the defaults (an instant room).
    await bob.iq(xml('iq', { type: 'set', to: room }, xml('query', { xmlns: 'http://jabber.org/protocol/muc#owner' }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }))));
    await ev(`await api.rooms.open('${room}', { nick: 'alice' }); return true;`);
    await poll<string>(`const r = await api.rooms.get('${room}'); return r ? String(r.session?.get('connection_status') ?? r.get('connection_status')) : 'none';`, (v) => v === '5', 'Converse entered the room');
    const atBob = next(bob, (s) => s.name === 'message' && s.attrs.type === 'groupchat' && s.getChildText('body') === 'hello room from converse', 'groupchat at bob');
    await ev(`const r = await api.rooms.get('${room}'); await r.sendMessage({ body: 'hello room from converse' }); return true;`);
    assert.equal((await atBob).attrs.from, `${room}/alice`);
    bob.send(message({ to: room, type: 'groupchat' }, xml('body', {}, 'hello alice from bob in the room')));
    await poll<string[][]>(roomMessages(room), (v) => v.some((x) => x[0] === 'bob' && x[1] === 'hello alice from bob in the room'), 'bob\'s groupchat in Converse');
    await ev(`await api.rooms.open('${room}', {}, true); return true;`);
    await shot('5-groupchat', 'hello alice from bob in the room');
    await bob.disconnect();
  });
});
