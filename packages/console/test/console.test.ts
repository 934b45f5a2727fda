// Issue #22, "A web console": `switchboard serve --http.console` as an
// operator runs it (its own process, a config file naming an admin), the page
// it serves driven in Debian's headless Chromium (playwright-core), and our
// client library in Node as the other side:
//   - off by default: the listener without the console answers 404 at /;
//   - a user logs in with the keyboard alone (focus order JID → password →
//     button), sees a contact online, chats both ways (the reply lands in the
//     role=log live region), sets its presence; sees no admin section, and an
//     admin command sent by hand from its account is refused (forbidden);
//   - an admin sees live figures change, the session table, kicks the
//     contact's session (whose client gets policy-violation), adds a user
//     who then logs in, changes her password (her session ends with reset,
//     the new one logs in), and removes her (her session ends).
// Screenshots: every main region is photographed on its own and checked in
// the browser (decoded into a canvas): it has a size, lies inside the
// viewport, does not overlap the others, and is not blank (many colours, no
// colour over 99.5 % of it: a region with a heading and a line of text has
// ~2 % ink). That shows the regions are drawn, not that they
// look right: the PNGs are kept in run/console-screenshots/ to look at.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Client, ClientError, IqError, presence, message, xml, type Element } from '@switchboard/client';
import { launchChromium } from '@switchboard/testkit';
import { startHttpListener } from '../../server/src/ops/http-listener.ts';
import { runCli, startServe, type ServeProcess } from '../../server/test/serve-process.ts';

const SHOTS = join(process.cwd(), 'run', 'console-screenshots');
const NS_ROSTER = 'jabber:iq:roster';

/** Pixels of a PNG, read by the browser itself: size, distinct colours (4 bits a channel) and the share of the most common one. */
async function pixelStats(page: Page, png: Buffer): Promise<{ width: number; height: number; colours: number; dominant: number }> {
  return page.evaluate(async (data) => {
    const img = new Image();
    img.src = `data:image/png;base64,${data}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, img.width, img.height).data;
    const counts = new Map<number, number>();
    for (let i = 0; i < px.length; i += 4) {
      const key = ((px[i]! >> 4) << 8) | ((px[i + 1]! >> 4) << 4) | (px[i + 2]! >> 4);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return { width: img.width, height: img.height, colours: counts.size, dominant: Math.max(...counts.values()) / (px.length / 4) };
  }, png.toString('base64'));
}

/** Photographs each region, keeps the PNGs, and checks them as the header says (decoded in a blank page: the console's CSP allows no data: image). */
async function checkRegions(page: Page, name: string, selectors: string[]): Promise<void> {
  const decoder = await page.context().browser()!.newPage();
  // The control: a blank page fails the check.
  const blank = await pixelStats(decoder, await decoder.screenshot());
  assert.ok(blank.dominant >= 0.995, `a blank page reads as blank (${JSON.stringify(blank)})`);
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(join(SHOTS, `${name}.png`), await page.screenshot({ fullPage: true }));
  const viewport = page.viewportSize()!;
  const boxes: { sel: string; x: number; y: number; width: number; height: number }[] = [];
  for (const sel of selectors) {
    const el = page.locator(sel);
    const box = await el.boundingBox();
    assert.ok(box && box.width > 50 && box.height > 20, `${name}: ${sel} has a size (${JSON.stringify(box)})`);
    assert.ok(box.x >= 0 && box.x + box.width <= viewport.width + 1, `${name}: ${sel} lies across the viewport`);
    for (const other of boxes) {
      const overlap = box.x < other.x + other.width && other.x < box.x + box.width && box.y < other.y + other.height && other.y < box.y + box.height;
      assert.ok(!overlap, `${name}: ${sel} overlaps ${other.sel}`);
    }
    boxes.push({ sel, ...box });
    const png = await el.screenshot();
    writeFileSync(join(SHOTS, `${name}-${sel.replace(/\W/g, '')}.png`), png);
    const stats = await pixelStats(decoder, png);
    assert.ok(stats.colours >= 6 && stats.dominant < 0.995, `${name}: ${sel} is not blank (${JSON.stringify(stats)})`);
  }
  await decoder.close();
}

describe('web console (http.console) in headless Chromium', { timeout: 90_000 }, () => {
  let tmp: string;
  let serve: ServeProcess;
  let base: string;
  let wsUrl: string;
  let browser: Browser;
  const clients: Client[] = [];

  const connect = async (username: string, password: string, resource: string, retry = 0): Promise<Client> => {
    const c = new Client({ domain: 'localhost', username, password, resource, transport: { kind: 'websocket', url: wsUrl }, retry: { maxAttempts: retry } });
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
  const streamEnd = (c: Client): Promise<string | undefined> =>
    new Promise((resolve) => c.on('error', (e: ClientError) => e.code === 'SB_ERR_STREAM' && resolve(e.detail?.streamError?.condition)));
  const login = async (page: Page, jid: string, password: string): Promise<void> => {
    const form = page.getByRole('region', { name: 'Log in' });
    await form.getByLabel('JID').fill(jid);
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Log in' }).click();
  };

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'switchboard-console-'));
    const config = join(tmp, 'config.json');
    writeFileSync(config, JSON.stringify({ admins: ['admin@localhost'], scramIterations: 4096 }));
    const [cert, key] = [process.env.SWITCHBOARD_TEST_TLS_CERT!, process.env.SWITCHBOARD_TEST_TLS_KEY!];
    serve = await startServe(['--config', config, '--data-dir', join(tmp, 'data'), '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '0', '--http.port', '0', '--http.console', '--tls-cert', cert, '--tls-key', key]);
    const port = /operator HTTP on 127\.0\.0\.1:(\d+)/.exec(serve.output())?.[1];
    assert.ok(port, serve.output());
    base = `http://127.0.0.1:${port}`;
    // The page finds the endpoint here (XEP-0156); so do the Node clients.
    wsUrl = ((await (await fetch(`${base}/.well-known/host-meta.json`)).json()) as { links: { href: string }[] }).links[0]!.href;
    assert.match(wsUrl, /^wss:\/\/localhost:\d+\/xmpp-websocket$/);
    const added = await runCli(['user', 'add', 'admin@localhost', '--password-stdin', '--data-dir', join(tmp, 'data')], 'admin-pw\n');
    assert.equal(added.code, 0, added.stderr);
    // alice and bob, made by the admin over XEP-0133, then subscribed to each other (RFC 6121 §3).
    const admin = await connect('admin', 'admin-pw', 'setup');
    for (const user of ['alice', 'bob']) {
      await admin.iq(
        xml('iq', { type: 'set', to: 'localhost' }, xml('command', { xmlns: 'http://jabber.org/protocol/commands', node: 'http://jabber.org/protocol/admin#add-user', action: 'execute' },
          xml('x', { xmlns: 'jabber:x:data', type: 'submit' }, xml('field', { var: 'accountjid' }, xml('value', {}, `${user}@localhost`)), xml('field', { var: 'password' }, xml('value', {}, `${user}-pw`))))),
      );
    }
    await admin.disconnect();
    const [alice, bob] = [await connect('alice', 'alice-pw', 'setup'), await connect('bob', 'bob-pw', 'setup')];
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
    await alice.disconnect();
    await bob.disconnect();
    browser = await launchChromium(['--ignore-certificate-errors']);
  });
  const newPage = async (height: number): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1100, height } });
    page.setDefaultTimeout(10_000);
    return page;
  };

  after(async () => {
    await browser?.close();
    for (const c of clients) await c.disconnect();
    await serve?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('is off by default: the operator listener answers 404 at / without it', async () => {
    const http = await startHttpListener({ host: '127.0.0.1', port: 0, websocketUrl: wsUrl, ready: () => true });
    try {
      assert.equal((await fetch(`http://127.0.0.1:${http.port}/`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${http.port}/console.js`)).status, 404);
    } finally {
      await http.close();
    }
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<label for="login-jid">JID<\/label>/);
  });

  it('a user logs in by keyboard, sees a contact online, chats both ways, sets presence, and has no admin section', async () => {
    const bob = await connect('bob', 'bob-pw', 'phone', 5);
    const page = await newPage(800);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    const focused = (): Promise<string> => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || '');

    // A wrong password: said in the alert, focus back on the password.
    await login(page, 'alice@localhost', 'wrong');
    await page.getByRole('alert').filter({ hasText: 'Wrong JID or password' }).waitFor();
    assert.equal(await focused(), 'login-password');

    // The keyboard alone, in the page's focus order.
    await page.getByRole('region', { name: 'Log in' }).getByLabel('JID').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('alice@localhost');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'login-password');
    await page.keyboard.type('alice-pw');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Log in');
    await page.keyboard.press('Enter');

    const contact = page.getByRole('button', { name: /bob@localhost.*online/ });
    await contact.waitFor();
    assert.equal(await focused(), 'roster-title', 'focus moves to the contacts after logging in');
    await page.getByText(/^alice@localhost\/console/).waitFor();
    assert.equal(await page.locator('#admin').isVisible(), false, 'no admin section for a non-admin');

    // Choose bob with the keyboard; focus lands in the message input.
    await contact.focus();
    await page.keyboard.press('Enter');
    assert.equal(await focused(), 'chat-input');
    const got = next(bob, (s) => s.name === 'message' && s.getChildText('body') !== undefined, 'alice → bob');
    await page.keyboard.type('hello bob <b>');
    await page.keyboard.press('Enter');
    const m = await got;
    assert.match(m.attrs.from!, /^alice@localhost\/console/);
    assert.equal(m.getChildText('body'), 'hello bob <b>');
    bob.send(message({ to: m.attrs.from!, type: 'chat', body: 'hi alice' }));
    const log = page.getByRole('log');
    await log.getByText('hi alice').waitFor();
    assert.equal(await log.getAttribute('aria-live'), 'polite');
    assert.equal(await log.locator('.msg').count(), 2);
    assert.match((await log.textContent()) ?? '', /hello bob <b>/, 'text stays text');

    // Own presence, seen by bob.
    const seen = next(bob, (s) => s.name === 'presence' && s.getChildText('show') === 'away', 'alice away');
    await page.getByLabel('Availability').selectOption('away');
    await page.getByLabel('Status message').fill('lunch');
    await page.getByRole('button', { name: 'Set presence' }).click();
    assert.equal((await seen).getChildText('status'), 'lunch');

    // Admin commands sent by hand from alice's account: the server refuses them, whatever the page shows.
    const hand = await connect('alice', 'alice-pw', 'by-hand');
    for (const node of ['http://jabber.org/protocol/admin#add-user', 'http://jabber.org/protocol/admin#end-user-session', 'urn:switchboard:admin:0#sessions']) {
      await assert.rejects(
        hand.iq(xml('iq', { type: 'set', to: 'localhost' }, xml('command', { xmlns: 'http://jabber.org/protocol/commands', node, action: 'execute' }))),
        (e: unknown) => e instanceof IqError && e.condition === 'forbidden',
        node,
      );
    }
    await hand.disconnect();

    await checkRegions(page, 'user', ['header.top', '#me', '#roster', '#chat']);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('an admin sees live figures and sessions, kicks a session, adds a user who logs in, changes her password, and removes her', async () => {
    const bob = await connect('bob', 'bob-pw', 'laptop');
    // Bind 2 (XEP-0386 §3.1) made the resource from the tag: `laptop/…`.
    const bobJid = bob.jid!;
    const escaped = bobJid.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const page = await newPage(900);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${base}/`);
    await login(page, 'admin@localhost', 'admin-pw');
    await page.locator('#admin').waitFor({ state: 'visible' });

    // Live: the admin's own refreshes are stanzas in, so the figure moves between two-second refreshes.
    const stanzasIn = page.locator('#metric-stanzas-in');
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('metric-stanzas-in')?.textContent ?? ''));
    const first = Number(await stanzasIn.textContent());
    await page.waitForFunction((n) => Number(document.getElementById('metric-stanzas-in')?.textContent) > n, first, { timeout: 8000 });
    assert.match((await page.locator('#metric-eventloop-lag-p99-ms').textContent()) ?? '', /^\d+(\.\d)?$/);

    const kick = page.getByRole('button', { name: new RegExp(`^Kick ${escaped}`) });
    await kick.waitFor();
    const rows = page.locator('#sessions tbody tr');
    assert.equal(await page.locator('#metric-sessions').textContent(), String(await rows.count()));
    const ended = streamEnd(bob);
    await kick.click();
    assert.equal(await ended, 'policy-violation', "bob's stream ends");
    await page.locator('#admin-status').filter({ hasText: new RegExp(`kicked ${escaped}; 1 session ended`) }).waitFor();
    await kick.waitFor({ state: 'detached' });

    // Add a user, who can then log in.
    await page.getByRole('group', { name: 'Add a user' }).getByLabel('JID').fill('carol@localhost');
    await page.getByRole('group', { name: 'Add a user' }).getByLabel('Password').fill('carol-pw');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.locator('#admin-status').filter({ hasText: 'added carol@localhost' }).waitFor();
    await page.getByRole('button', { name: 'Remove carol@localhost' }).waitFor();
    const carolFirst = await connect('carol', 'carol-pw', 'new');
    assert.match(carolFirst.jid ?? '', /^carol@localhost\/new/);

    // A new password: her session ends with <reset/> (RFC 6120 §4.9.3.16), the new one logs in.
    const reset = streamEnd(carolFirst);
    const passwd = page.getByRole('group', { name: 'Change a password' });
    await passwd.getByLabel('JID').fill('carol@localhost');
    await passwd.getByLabel('New password').fill('carol-pw2');
    await passwd.getByRole('button', { name: 'Change password' }).click();
    assert.equal(await reset, 'reset');
    await page.locator('#admin-status').filter({ hasText: 'password changed for carol@localhost; 1 session ended' }).waitFor();
    await carolFirst.disconnect();
    const carol = await connect('carol', 'carol-pw2', 'again');

    await checkRegions(page, 'admin', ['header.top', '#roster', '#chat', '#admin']);

    // Remove her: her session ends (not-authorized) and she is gone from the list.
    const gone = streamEnd(carol);
    await page.getByRole('button', { name: 'Remove carol@localhost' }).click();
    assert.equal(await gone, 'not-authorized');
    await page.getByRole('button', { name: 'Remove carol@localhost' }).waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
