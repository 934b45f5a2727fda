// Issue #22: the WebSocket listener behind a reverse proxy that terminates
// TLS. Debian's nginx runs docs/examples/nginx-switchboard.conf (ports and
// certificate paths filled in) in the foreground with its own prefix; our
// client logs in through it over wss://. The proxy connects from 127.0.0.2,
// the only trusted proxy address, so the same listener reached directly from
// 127.0.0.1 is a plain, untrusted connection: no SASL offered, even when the
// request claims `X-Forwarded-Proto: https`.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { Client } from '@switchboard/client';
import { xml } from '@switchboard/xml';
import { freePort, waitForPort } from '@switchboard/testkit';
import { startServer, type RunningServer } from '../src/index.ts';
import { forwardedPeer, trustedProxies } from '../src/c2s/forwarded.ts';

const NGINX = '/usr/sbin/nginx';
const EXAMPLE = new URL('../../../docs/examples/nginx-switchboard.conf', import.meta.url);
const PROXY_ADDRESS = '127.0.0.2';

/** The example, pointed at this test's ports and certificate, its upstream connections made from PROXY_ADDRESS. */
function nginxConfig(dir: string, listenPort: number, wsPort: number): string {
  let site = readFileSync(EXAMPLE, 'utf8');
  const swaps: [RegExp, string][] = [
    [/listen 443 ssl;/, `listen 127.0.0.1:${listenPort} ssl;`],
    [/\n\s*listen \[::\]:443 ssl;/, ''],
    [/ssl_certificate \s*\S+;/, `ssl_certificate ${process.env.SWITCHBOARD_TEST_TLS_CERT};`],
    [/ssl_certificate_key \S+;/, `ssl_certificate_key ${process.env.SWITCHBOARD_TEST_TLS_KEY};`],
    [/proxy_pass http:\/\/127\.0\.0\.1:5280;/, `proxy_pass http://127.0.0.1:${wsPort};\n        proxy_bind ${PROXY_ADDRESS};`],
  ];
  for (const [from, to] of swaps) {
    assert.match(site, from, `the example still has ${from}`);
    site = site.replace(from, to);
  }
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join('\n  ');
  return `daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  ${temp}
${site}
}
`;
}

/** Opens an RFC 7395 stream and returns the features the server offers (or the stream error it sends). */
function featuresOver(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'xmpp', { headers });
    ws.on('open', () => ws.send(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>`));
    ws.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('<open')) return;
      ws.terminate();
      resolve(text);
    });
    ws.on('error', reject);
  });
}

describe('WebSocket behind nginx terminating TLS (wsTls false, wsTrustedProxies)', { skip: !existsSync(NGINX) && 'Debian nginx missing (scripts/test-env.sh)' }, () => {
  let dir: string;
  let server: RunningServer;
  let nginx: ChildProcess;
  let proxyPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-nginx-'));
    server = await startServer({
      domain: 'localhost',
      c2sPort: 0,
      c2sDirectTlsPort: -1,
      wsPort: 0,
      wsTls: false,
      wsTrustedProxies: [PROXY_ADDRESS],
      dataDir: join(dir, 'data'),
      tlsCert: process.env.SWITCHBOARD_TEST_TLS_CERT,
      tlsKey: process.env.SWITCHBOARD_TEST_TLS_KEY,
    });
    await server.addUser('alice', 'alice-pw');
    proxyPort = await freePort();
    mkdirSync(join(dir, 'nginx'));
    writeFileSync(join(dir, 'nginx', 'nginx.conf'), nginxConfig(join(dir, 'nginx'), proxyPort, server.wsPort!));
    nginx = spawn(NGINX, ['-p', join(dir, 'nginx'), '-c', join(dir, 'nginx', 'nginx.conf'), '-e', join(dir, 'nginx', 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    nginx.stderr!.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<never>((_, reject) => nginx.once('exit', (code) => reject(new Error(`nginx exited ${code}: ${stderr}`))));
    await Promise.race([waitForPort(proxyPort), exited]);
  });

  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const gone = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await gone;
    }
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs in over wss:// through nginx, seen as secure and from the client address', async () => {
    const logins: { remote?: string; transport: string; mechanism: string }[] = [];
    const onLogin = (m: unknown) => logins.push(m as (typeof logins)[number]);
    subscribe('switchboard:c2s:authenticated', onLogin);
    try {
      const client = new Client({ domain: 'localhost', username: 'alice', password: 'alice-pw', resource: 'proxied', transport: { kind: 'websocket', url: `wss://localhost:${proxyPort}/xmpp-websocket` } });
      // Bind 2 (XEP-0386 §3.1): `proxied/…`.
      assert.match(await client.connect(), /^alice@localhost\/proxied\/[A-Za-z0-9_-]+$/);
      const pong = await client.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.equal(pong.attrs.type, 'result');
      await client.disconnect();
    } finally {
      unsubscribe('switchboard:c2s:authenticated', onLogin);
    }
    // SCRAM without -PLUS: the TLS is nginx's, so there is no channel to bind to.
    assert.deepEqual(logins, [{ ...logins[0], transport: 'websocket', mechanism: 'SCRAM-SHA-256', remote: '127.0.0.1' }]);
  });

  it('a direct plain connection from an untrusted address gets no SASL, even claiming https', async () => {
    const direct = `ws://127.0.0.1:${server.wsPort}/xmpp-websocket`;
    const claims: Record<string, string>[] = [{}, { 'X-Forwarded-Proto': 'https' }, { Forwarded: 'for=192.0.2.1;proto=https' }];
    for (const headers of claims) {
      const answer = await featuresOver(direct, headers);
      assert.match(answer, /policy-violation/, JSON.stringify(headers));
      assert.doesNotMatch(answer, /mechanism/);
    }
    // The same listener through nginx offers SASL.
    assert.match(await featuresOver(`wss://localhost:${proxyPort}/xmpp-websocket`), /<mechanism>SCRAM-SHA-256<\/mechanism>/);
  });

  it('believes Forwarded and X-Forwarded-* only from the configured proxies', () => {
    const proxies = trustedProxies(['127.0.0.2', '10.0.0.0/8', '::1']);
    const https = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7, 203.0.113.9' };
    assert.deepEqual(forwardedPeer('127.0.0.2', https, proxies), { remoteAddress: '203.0.113.9', secure: true, viaProxy: true });
    assert.deepEqual(forwardedPeer('::ffff:10.1.2.3', https, proxies), { remoteAddress: '203.0.113.9', secure: true, viaProxy: true });
    assert.deepEqual(forwardedPeer('127.0.0.1', https, proxies), { remoteAddress: '127.0.0.1', secure: false, viaProxy: false });
    assert.deepEqual(forwardedPeer('127.0.0.2', https, undefined), { remoteAddress: '127.0.0.2', secure: false, viaProxy: false });
    // RFC 7239: the last element is the nearest proxy's; quoted IPv6 with a port.
    const forwarded = { forwarded: 'for=192.0.2.60;proto=http, for="[2001:db8::1]:4711";proto=https' };
    assert.deepEqual(forwardedPeer('::1', forwarded, proxies), { remoteAddress: '2001:db8::1', secure: true, viaProxy: true });
    assert.deepEqual(forwardedPeer('::1', { 'x-forwarded-proto': 'http' }, proxies), { remoteAddress: '::1', secure: false, viaProxy: true });
  });
});
