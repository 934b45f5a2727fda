// XEP-0515 (TLS Channel-Binding Downgrade Protection) on the wire, with raw
// streams: the server states the TLS version of the connection as t= in
// SCRAM's server-first message (§4.1: four lowercase hex digits, '0304' for
// TLS 1.3), through RFC 6120 SASL and SASL2 alike, over STARTTLS, direct TLS
// and wss, after XEP-0474's h=; a client that speaks TLS 1.2 reads '0303'.
// Without TLS in this process (plaintext on loopback) nothing is claimed.
// Each exchange is then finished with a proof over the message as received,
// so the attribute is shown to be part of a login the server accepts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureVersion, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { secureRaw, startTestServer, waitFor, type TestServer } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_SASL2 = 'urn:xmpp:sasl:2';

/** One raw stream, features read: what it sends and expects, and the TLS version Node says this end speaks. */
interface Wire {
  send(text: string): void;
  expect(re: RegExp): Promise<RegExpMatchArray>;
  close(): void;
  /** 'TLSv1.3', 'TLSv1.2', or null without TLS. */
  protocol: string | null;
}

function wireOver(socket: Socket | TLSSocket, protocol: string | null): Wire {
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  socket.on('error', () => {});
  return {
    send: (t) => void socket.write(t),
    async expect(re) {
      let m: RegExpMatchArray | null = null;
      await waitFor(() => (m = text.match(re)) !== null, 5000, `${re}; got ${text.slice(-400)}`);
      text = text.slice(text.indexOf(m![0]) + m![0].length);
      return m!;
    },
    close: () => socket.destroy(),
    protocol,
  };
}

async function plaintext(port: number): Promise<Wire> {
  const socket = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const wire = wireOver(socket, null);
  wire.send(HEADER);
  await wire.expect(/<\/stream:features>/);
  return wire;
}

async function directTls(port: number, maxVersion?: SecureVersion): Promise<Wire> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ALPNProtocols: ['xmpp-client'], ...(maxVersion ? { maxVersion } : {}) });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const wire = wireOver(socket, socket.getProtocol());
  wire.send(HEADER);
  await wire.expect(/<\/stream:features>/);
  return wire;
}

async function startTls(port: number, maxVersion?: SecureVersion): Promise<Wire> {
  const raw = await secureRaw(port, maxVersion ? { maxVersion } : {});
  await raw.expect(/<\/stream:features>/);
  return { send: (t) => void raw.socket.write(t), expect: raw.expect, close: () => raw.socket.destroy(), protocol: raw.socket.getProtocol() };
}

async function websocket(port: number): Promise<Wire> {
  const ws = new WebSocket(`wss://localhost:${port}/xmpp-websocket`, 'xmpp');
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let text = '';
  ws.on('message', (data) => (text += data.toString()));
  const protocol = ((ws as unknown as { _socket: TLSSocket })._socket).getProtocol();
  const wire: Wire = {
    send: (t) => ws.send(t),
    async expect(re) {
      let m: RegExpMatchArray | null = null;
      await waitFor(() => (m = text.match(re)) !== null, 5000, `${re}; got ${text.slice(-400)}`);
      text = text.slice(text.indexOf(m![0]) + m![0].length);
      return m!;
    },
    close: () => ws.terminate(),
    protocol,
  };
  wire.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>");
  await wire.expect(/<\/stream:features>/);
  return wire;
}

/** RFC 5802 §3, as a client computes it: the client-final message for this server-first. */
function clientFinal(password: string, clientFirstBare: string, serverFirst: string): string {
  const attrs = new Map(serverFirst.split(',').map((p) => [p[0]!, p.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(attrs.get('s')!, 'base64'), Number(attrs.get('i')), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=biws,r=${attrs.get('r')}`;
  const signature = createHmac('sha256', storedKey).update(`${clientFirstBare},${serverFirst},${withoutProof}`).digest();
  return `${withoutProof},p=${Buffer.from(clientKey.map((x, i) => x ^ signature[i]!)).toString('base64')}`;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** SCRAM-SHA-256 (gs2 'n') through RFC 6120 SASL or SASL2 to success; resolves with the server-first message. */
async function scramLogin(wire: Wire, profile: 'sasl' | 'sasl2'): Promise<string> {
  const bare = `n=alice,r=${randomBytes(12).toString('hex')}`;
  const ns = profile === 'sasl' ? NS_SASL : NS_SASL2;
  wire.send(
    profile === 'sasl'
      ? `<auth xmlns='${NS_SASL}' mechanism='SCRAM-SHA-256'>${b64(`n,,${bare}`)}</auth>`
      : `<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-256'><initial-response>${b64(`n,,${bare}`)}</initial-response><user-agent id='9f2c2c3e-5a0e-4c55-9b36-0a8d5d3b7c11'/></authenticate>`,
  );
  const challenge = await wire.expect(new RegExp(`<challenge xmlns="${ns}">([^<]+)</challenge>`));
  const serverFirst = Buffer.from(challenge[1]!, 'base64').toString();
  wire.send(`<response xmlns='${ns}'>${b64(clientFinal('alice-pw', bare, serverFirst))}</response>`);
  await wire.expect(new RegExp(`<success xmlns="${ns}"`));
  return serverFirst;
}

describe('XEP-0515: t= in the SCRAM server-first message, on the wire', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    await server.addUser('alice', 'alice-pw');
  });
  after(() => server.stop());

  const cases: { name: string; open: () => Promise<Wire>; t: string }[] = [
    { name: 'STARTTLS, TLS 1.3', open: () => startTls(server.c2sPort), t: '0304' },
    { name: 'STARTTLS, the client capped at TLS 1.2', open: () => startTls(server.c2sPort, 'TLSv1.2'), t: '0303' },
    { name: 'direct TLS (XEP-0368), TLS 1.3', open: () => directTls(server.c2sDirectTlsPort!), t: '0304' },
    { name: 'direct TLS, the client capped at TLS 1.2', open: () => directTls(server.c2sDirectTlsPort!, 'TLSv1.2'), t: '0303' },
    { name: 'wss (RFC 7395), TLS 1.3', open: () => websocket(server.wsPort!), t: '0304' },
  ];

  for (const profile of ['sasl', 'sasl2'] as const) {
    for (const c of cases) {
      it(`${profile === 'sasl' ? 'RFC 6120 SASL' : 'SASL2'} over ${c.name}: t=${c.t}, after h=, and the login succeeds`, async () => {
        const wire = await c.open();
        try {
          assert.equal(wire.protocol, c.t === '0304' ? 'TLSv1.3' : 'TLSv1.2', 'the TLS version this end speaks');
          const serverFirst = await scramLogin(wire, profile);
          assert.match(serverFirst, new RegExp(`^r=[^,]+,s=[^,]+,i=\\d+,h=[A-Za-z0-9+/=]+,t=${c.t}$`), serverFirst);
        } finally {
          wire.close();
        }
      });
    }
  }

  it('plaintext on loopback (no TLS in this process): no t= at all, the login as before', async () => {
    const wire = await plaintext(server.c2sPort);
    try {
      const serverFirst = await scramLogin(wire, 'sasl');
      assert.match(serverFirst, /^r=[^,]+,s=[^,]+,i=\d+,h=[A-Za-z0-9+/=]+$/, serverFirst);
    } finally {
      wire.close();
    }
  });
});
