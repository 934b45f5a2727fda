// Issue #19, server side: a stock bot framework logs in with its defaults
// (Debian's slixmpp 1.8.3: -PLUS with tls-unique, then SCRAM with gs2 flag
// 'y', then PLAIN), without weakening downgrade protection; a new stream id
// for every header; -PLUS can be turned off on a listener.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { startTestServer, waitFor, RawClient, type TestServer } from './helpers.ts';

const SCRIPT = fileURLToPath(new URL('./peers/slixmpp_login.py', import.meta.url));
const HEADER = `<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;
const SASL = `xmlns='urn:ietf:params:xml:ns:xmpp-sasl'`;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

interface LoginResult {
  ev: string;
  jid?: string;
  failures?: number;
}

function slixmppLogin(jid: string, password: string, port: number): Promise<LoginResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [SCRIPT, jid, password, '127.0.0.1', String(port), process.env.SWITCHBOARD_TEST_TLS_CERT ?? ''], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill(), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      try {
        resolve(out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LoginResult));
      } catch (e) {
        reject(new Error(`slixmpp said: ${out}\n${err}\n${String(e)}`));
      }
    });
  });
}

/** Which mechanism each successful login used (the c2s's diagnostics channel). */
function watchLogins(): { mechanisms: string[]; stop(): void } {
  const mechanisms: string[] = [];
  const listener = (m: unknown): void => void mechanisms.push((m as { mechanism: string }).mechanism);
  subscribe('switchboard:c2s:authenticated', listener);
  return { mechanisms, stop: () => unsubscribe('switchboard:c2s:authenticated', listener) };
}

describe('SASL interop: slixmpp with its defaults', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await server.addUser('carol', 'carol-pw');
  });
  after(async () => server?.stop());

  it('logs in (tls-unique -PLUS and gs2 y are refused, not counted as wrong passwords, and PLAIN is reached)', async () => {
    const logins = watchLogins();
    try {
      const events = await slixmppLogin('carol@localhost/bot', 'carol-pw', server.c2sPort);
      const online = events.find((e) => e.ev === 'online');
      assert.ok(online, JSON.stringify(events));
      assert.equal(online.jid, 'carol@localhost/bot');
      // Downgrade protection intact: the refused attempts were refused; only PLAIN under TLS got through.
      assert.deepEqual(logins.mechanisms, ['PLAIN']);
    } finally {
      logins.stop();
    }
  });

  it('a wrong password still ends the stream after the configured retries', async () => {
    const events = await slixmppLogin('carol@localhost/bot', 'wrong', server.c2sPort);
    assert.ok(!events.some((e) => e.ev === 'online'), JSON.stringify(events));
  });
});

describe('SASL: channel-binding errors and counting', { timeout: 30_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await server.addUser('dave', 'dave-pw');
  });
  after(async () => server?.stop());

  async function secureStream(): Promise<{ socket: TLSSocket; text: () => string; expect(re: RegExp): Promise<RegExpMatchArray> }> {
    const raw = await RawClient.connect(server.c2sPort);
    raw.send(HEADER);
    await raw.expect(/<\/stream:features>/);
    raw.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await raw.expect(/<proceed/);
    const socket = tlsConnect({ socket: (raw as unknown as { socket: import('node:net').Socket }).socket, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    let received = '';
    socket.setEncoding('utf8').on('data', (d: string) => (received += d));
    socket.write(HEADER);
    const expect = async (re: RegExp): Promise<RegExpMatchArray> => {
      let m: RegExpMatchArray | null = null;
      await waitFor(() => (m = received.match(re)) !== null, 5000, `${re}; got ${received.slice(-300)}`);
      received = received.slice(received.indexOf(m![0]) + m![0].length);
      return m!;
    };
    await expect(/<\/stream:features>/);
    return { socket, text: () => received, expect };
  }

  it('answers -PLUS with tls-unique with invalid-mechanism and the RFC 5802 reason, gs2 y with server-does-support-channel-binding; neither counts', async () => {
    const s = await secureStream();
    for (let i = 0; i < 4; i++) {
      s.socket.write(`<auth ${SASL} mechanism='SCRAM-SHA-256-PLUS'>${b64('p=tls-unique,,n=dave,r=abc')}</auth>`);
      const m = await s.expect(/<failure[^>]*>([\s\S]*?)<\/failure>/);
      assert.match(m[1]!, /<invalid-mechanism\/>/);
      assert.match(m[1]!, /unsupported-channel-binding-type/);
      s.socket.write(`<auth ${SASL} mechanism='SCRAM-SHA-256'>${b64('y,,n=dave,r=abc')}</auth>`);
      const y = await s.expect(/<failure[^>]*>([\s\S]*?)<\/failure>/);
      assert.match(y[1]!, /<not-authorized\/>[\s\S]*server-does-support-channel-binding/);
    }
    // Eight refusals later the stream is open and a password still works.
    s.socket.write(`<auth ${SASL} mechanism='PLAIN'>${b64('\0dave\0dave-pw')}</auth>`);
    await s.expect(/<success/);
    s.socket.destroy();
  });

  it('wrong passwords still count: the third ends the stream', async () => {
    const s = await secureStream();
    for (let i = 0; i < 3; i++) {
      s.socket.write(`<auth ${SASL} mechanism='PLAIN'>${b64('\0dave\0nope')}</auth>`);
      await s.expect(/<failure/);
    }
    await s.expect(/policy-violation/);
    s.socket.destroy();
  });

  it('sends a new stream id in every header: first, after STARTTLS, after SASL', async () => {
    const raw = await RawClient.connect(server.c2sPort);
    raw.send(HEADER);
    const ids: string[] = [];
    ids.push((await raw.expect(/<stream:stream[^>]*\sid=['"]([^'"]+)['"]/))[1]!);
    await raw.expect(/<\/stream:features>/);
    raw.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await raw.expect(/<proceed/);
    const socket = tlsConnect({ socket: (raw as unknown as { socket: import('node:net').Socket }).socket, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    let received = '';
    socket.setEncoding('utf8').on('data', (d: string) => (received += d));
    socket.write(HEADER);
    await waitFor(() => /<\/stream:features>/.test(received));
    ids.push(/<stream:stream[^>]*\sid=['"]([^'"]+)['"]/.exec(received)![1]!);
    received = '';
    socket.write(`<auth ${SASL} mechanism='PLAIN'>${b64('\0dave\0dave-pw')}</auth>`);
    await waitFor(() => /<success/.test(received));
    received = '';
    socket.write(HEADER);
    await waitFor(() => /<\/stream:features>/.test(received));
    ids.push(/<stream:stream[^>]*\sid=['"]([^'"]+)['"]/.exec(received)![1]!);
    socket.destroy();
    assert.equal(new Set(ids).size, 3, ids.join(' '));
  });
});

describe('SASL: channel binding turned off on a listener', { timeout: 30_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ channelBindingOn: ['direct-tls'] });
    await server.addUser('erin', 'erin-pw');
  });
  after(async () => server?.stop());

  it('offers no -PLUS and no XEP-0440 list there, so slixmpp logs in with SCRAM (gs2 y is no downgrade)', async () => {
    const logins = watchLogins();
    try {
      const events = await slixmppLogin('erin@localhost/bot', 'erin-pw', server.c2sPort);
      assert.ok(events.some((e) => e.ev === 'online'), JSON.stringify(events));
      assert.deepEqual(logins.mechanisms, ['SCRAM-SHA-256']);
    } finally {
      logins.stop();
    }
  });
});
