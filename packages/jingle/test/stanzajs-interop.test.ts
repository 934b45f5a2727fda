// Issue #5: our client and a StanzaJS client (npm stanza 12.22, a real
// third-party Jingle implementation) transfer a file in each direction,
// through our server. StanzaJS's only file transfer is XEP-0234 over a WebRTC
// data channel and needs a browser, so both clients run in headless Chromium
// (one page each), bundled with esbuild, logged in over wss to a Switchboard
// server on loopback ports. Every Jingle iq goes through the server; the
// bytes go over the data channel between the two pages. A third page, a
// second client of ours, checks our offer against our own answerer too.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '@switchboard/server';
import { launchChromium, servePage, type ServedPage } from '@switchboard/testkit';
import type * as Harness from './stanzajs-interop-page.ts';

const HARNESS = new URL('./stanzajs-interop-page.ts', import.meta.url).pathname;
const KiB = 1024;

type Win = { harness: typeof Harness };

describe('file transfer with StanzaJS over a WebRTC data channel, through Switchboard (headless Chromium)', () => {
  let server: RunningServer;
  let dataDir: string;
  let served: ServedPage;
  let browser: Browser;
  let ours: Page;
  let theirs: Page;
  let carol: Page;
  let oursJid: string;
  let theirsJid: string;
  let carolJid: string;
  const pageErrors: string[] = [];

  const pageLog = async (): Promise<string> => {
    const [a, b, c] = await Promise.all([ours, theirs, carol].map((p) => p.evaluate(() => (window as unknown as Win).harness.log.join('\n'))));
    return `ours (alice):\n${a}\nStanzaJS (bob):\n${b}\nours (carol):\n${c}\npage errors:\n${pageErrors.join('\n')}`;
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-jingle-interop-'));
    server = await startServer({
      domain: 'localhost',
      bindAddress: '127.0.0.1',
      c2sPort: 0,
      c2sDirectTlsPort: 0,
      wsPort: 0,
      dataDir,
      tlsCert: process.env.SWITCHBOARD_TEST_TLS_CERT,
      tlsKey: process.env.SWITCHBOARD_TEST_TLS_KEY,
    });
    await server.addUser('alice', 'alice-pw');
    await server.addUser('bob', 'bob-pw');
    await server.addUser('carol', 'carol-pw');

    // @switchboard/client loads its TCP transport lazily (a chunk of its own); a page never takes that path.
    served = await servePage({ entry: HARNESS, global: 'harness', title: 'jingle interop' });
    const pageUrl = served.url;
    browser = await launchChromium([
      // The server's test certificate (NODE_EXTRA_CA_CERTS trusts it in Node; Chromium has its own store).
      '--ignore-certificate-errors',
      // ICE between the two pages: plain host addresses instead of mDNS names (resolving those needs
      // multicast, which a test machine may not have), and loopback candidates, for machines with no other interface.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--allow-loopback-in-peer-connection',
    ]);
    [ours, theirs, carol] = await Promise.all([browser.newPage(), browser.newPage(), browser.newPage()]);
    for (const [name, page] of [['alice', ours], ['bob', theirs], ['carol', carol]] as const) {
      page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
      await page.goto(pageUrl);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    }
    const url = `wss://localhost:${server.wsPort}/xmpp-websocket`;
    // Plain arrow functions only in evaluate(): they travel to the page as text.
    oursJid = await ours.evaluate((u) => (window as unknown as Win).harness.oursLogin(u, 'alice', 'alice-pw', 'ours'), url);
    theirsJid = await theirs.evaluate((u) => (window as unknown as Win).harness.stanzaLogin(u, 'bob@localhost', 'bob-pw', 'stanzajs'), url);
    carolJid = await carol.evaluate((u) => (window as unknown as Win).harness.oursLogin(u, 'carol', 'carol-pw', 'ours'), url);
  });

  after(async () => {
    await ours?.evaluate(() => (window as unknown as Win).harness.oursLogout()).catch(() => {});
    await theirs?.evaluate(() => (window as unknown as Win).harness.stanzaLogout()).catch(() => {});
    await carol?.evaluate(() => (window as unknown as Win).harness.oursLogout()).catch(() => {});
    await browser?.close();
    await served?.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs all three in through our server; StanzaJS finds the data channel transport in our disco#info', async () => {
    // Our client logs in with SASL2 + Bind 2: the resource is made from its tag (XEP-0386 §3.1); StanzaJS binds as RFC 6120 does.
    assert.match(oursJid, /^alice@localhost\/ours\/[A-Za-z0-9_-]+$/);
    assert.equal(theirsJid, 'bob@localhost/stanzajs');
    assert.match(carolJid, /^carol@localhost\/ours\/[A-Za-z0-9_-]+$/);
    const features = await theirs.evaluate((jid) => (window as unknown as Win).harness.stanzaDisco(jid), oursJid);
    for (const f of ['urn:xmpp:jingle:1', 'urn:xmpp:jingle:apps:file-transfer:5', 'urn:xmpp:jingle:transports:ice-udp:1', 'urn:xmpp:jingle:apps:dtls:0', 'urn:xmpp:jingle:transports:dtls-sctp:1']) {
      assert.ok(features.includes(f), `${f} in ${features.join(' ')}`);
    }
  });

  it('sends 512 KiB from our client to StanzaJS', { timeout: 60_000 }, async () => {
    const data = randomBytes(512 * KiB);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const theirsNext = theirs.evaluate(() => (window as unknown as Win).harness.stanzaNext());
    const oursNext = ours.evaluate(() => (window as unknown as Win).harness.oursNext());
    await ours.evaluate((a) => (window as unknown as Win).harness.oursSend(a.to, 'from-switchboard.bin', a.data), { to: theirsJid, data: data.toString('base64') });
    const [receiver, sender] = await Promise.all([theirsNext, oursNext]);
    const trace = `\n${await pageLog()}`;
    assert.deepEqual(pageErrors, [], `no uncaught error in a page${trace}`);

    assert.equal(receiver.role, 'receiver');
    assert.equal(receiver.reason, 'success', `StanzaJS ended with ${receiver.reason} ${receiver.text ?? ''}${trace}`);
    assert.equal(receiver.name, 'from-switchboard.bin');
    assert.equal(receiver.size, data.length);
    assert.ok(receiver.data !== undefined, 'StanzaJS emitted receivedFile');
    assert.ok(Buffer.from(receiver.data, 'base64').equals(data), 'the bytes StanzaJS received are the bytes we sent');
    // StanzaJS hashes with the first algorithm of our offer and emits receivedFile only when it matches our <hash/>.
    assert.deepEqual(receiver.hash, { algo: 'sha-256', hex: sha256 });

    assert.equal(sender.role, 'sender');
    assert.equal(sender.sid, receiver.sid);
    assert.equal(sender.reason, 'success');
    assert.equal(sender.by, 'peer', 'the receiver ends the session (XEP-0234 §6.2)');
    assert.equal(sender.method, 'datachannel');
    assert.equal(sender.sent, true);
  });

  it('receives 512 KiB from StanzaJS in our client', { timeout: 60_000 }, async () => {
    const data = randomBytes(512 * KiB + 123);
    const sha1 = createHash('sha1').update(data).digest('hex');
    const oursNext = ours.evaluate(() => (window as unknown as Win).harness.oursNext());
    const theirsNext = theirs.evaluate(() => (window as unknown as Win).harness.stanzaNext());
    const sid = await theirs.evaluate((a) => (window as unknown as Win).harness.stanzaSend(a.to, 'from-stanzajs.bin', a.data), { to: oursJid, data: data.toString('base64') });
    const [receiver, sender] = await Promise.all([oursNext, theirsNext]);
    const trace = `\n${await pageLog()}`;
    assert.deepEqual(pageErrors, [], `no uncaught error in a page${trace}`);

    assert.equal(receiver.role, 'receiver');
    assert.equal(receiver.sid, sid);
    assert.equal(receiver.reason, 'success', `we ended with ${receiver.reason} ${receiver.text ?? ''}${trace}`);
    assert.equal(receiver.by, 'local');
    assert.equal(receiver.method, 'datachannel');
    assert.equal(receiver.name, 'from-stanzajs.bin');
    assert.equal(receiver.size, data.length);
    assert.ok(receiver.data !== undefined, 'we emitted received');
    assert.ok(Buffer.from(receiver.data, 'base64').equals(data), 'the bytes we received are the bytes StanzaJS sent');
    // StanzaJS offers only <hash-used algo='sha-1'/>; the value comes in its checksum session-info after the last byte.
    assert.deepEqual(receiver.hash, { algo: 'sha-1', hex: sha1 });

    assert.equal(sender.role, 'sender');
    assert.equal(sender.sid, sid);
    assert.equal(sender.reason, 'success');
    assert.equal(sender.sent, true, 'StanzaJS emitted sentFile');
  });

  it('sends 1 MiB between two of our clients over the data channel (our offer, our answer)', { timeout: 60_000 }, async () => {
    const data = randomBytes(1024 * KiB);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const carolNext = carol.evaluate(() => (window as unknown as Win).harness.oursNext());
    const aliceNext = ours.evaluate(() => (window as unknown as Win).harness.oursNext());
    await ours.evaluate((a) => (window as unknown as Win).harness.oursSend(a.to, 'to-carol.bin', a.data), { to: carolJid, data: data.toString('base64') });
    const [receiver, sender] = await Promise.all([carolNext, aliceNext]);
    const trace = `\n${await pageLog()}`;
    assert.deepEqual(pageErrors, [], `no uncaught error in a page${trace}`);

    assert.equal(receiver.role, 'receiver');
    assert.equal(receiver.reason, 'success', `carol ended with ${receiver.reason} ${receiver.text ?? ''}${trace}`);
    assert.equal(receiver.method, 'datachannel');
    assert.ok(receiver.data !== undefined && Buffer.from(receiver.data, 'base64').equals(data), 'the bytes arrived intact');
    assert.deepEqual(receiver.hash, { algo: 'sha-256', hex: sha256 });
    assert.equal(sender.sid, receiver.sid);
    assert.equal(sender.reason, 'success');
    assert.equal(sender.by, 'peer');
    assert.equal(sender.method, 'datachannel');
    assert.equal(sender.sent, true);
  });
});
