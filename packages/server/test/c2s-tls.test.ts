// Issue #2: TLS is required before authentication by default (RFC 6120 §5,
// §13.9.4), over STARTTLS on TCP; the plaintext development switch applies
// to loopback only.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { connect, type Socket } from 'node:net';
import { startTestServer, waitFor, type TestServer } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

class Conversation {
  received = '';
  constructor(public socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (this.received += d));
    socket.on('error', () => {});
  }
  async expect(pattern: RegExp): Promise<string> {
    await waitFor(() => pattern.test(this.received), 5000, `${pattern} in ${this.received.slice(-400)}`);
    const text = this.received;
    this.received = '';
    return text;
  }
}

describe('c2s TLS policy', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
    await server.addUser('alice', 'pw');
  });
  after(() => server.stop());

  it('offers only STARTTLS (required) before TLS, and refuses SASL with encryption-required', async () => {
    const c = new Conversation(connect({ host: '127.0.0.1', port: server.c2sPort }));
    c.socket.write(HEADER);
    const features = await c.expect(/<\/stream:features>/);
    assert.match(features, /<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required\/><\/starttls>/);
    assert.doesNotMatch(features, /<mechanisms/);
    c.socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0pw').toString('base64')}</auth>`);
    await c.expect(/<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><encryption-required\/><\/failure>/);
    c.socket.destroy();
  });

  it('after STARTTLS offers SCRAM (with -PLUS and tls-exporter under TLS 1.3) and PLAIN', async () => {
    const c = new Conversation(connect({ host: '127.0.0.1', port: server.c2sPort }));
    c.socket.write(HEADER);
    await c.expect(/<\/stream:features>/);
    c.socket.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await c.expect(/<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"\/>/);
    const secure = tlsConnect({ socket: c.socket, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    assert.equal(secure.authorized, true, 'the certificate verifies for localhost');
    const s = new Conversation(secure);
    secure.write(HEADER);
    const features = await s.expect(/<\/stream:features>/);
    // RFC 6120 SASL's list (SASL2's <authentication/> lists the same ones, and XEP-0484's tokens, after it).
    const rfc6120 = /<mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl">([\s\S]*?)<\/mechanisms>/.exec(features)?.[1] ?? '';
    const mechanisms = [...rfc6120.matchAll(/<mechanism>([^<]+)<\/mechanism>/g)].map((m) => m[1]);
    assert.equal(secure.getProtocol(), 'TLSv1.3');
    assert.deepEqual(mechanisms, ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    assert.match(features, /<channel-binding type="tls-exporter"\/>/);
    secure.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0pw').toString('base64')}</auth>`);
    await s.expect(/<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"\/>/);
    secure.write(HEADER);
    const bindFeatures = await s.expect(/<\/stream:features>/);
    assert.match(bindFeatures, /<bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"\/>/);
    secure.write("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
    const bound = await s.expect(/<\/iq>/);
    assert.match(bound, /<jid>alice@localhost\/sb-[A-Za-z0-9_-]+<\/jid>/, 'a server-generated resource');
    // Legacy session establishment is answered for old clients (RFC 6121 Appendix E).
    secure.write("<iq type='set' id='s'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
    await s.expect(/<iq[^>]*type="result"[^>]*id="s"|<iq[^>]*id="s"[^>]*type="result"/);
    secure.destroy();
  });

  // XEP-0368: a client that connects by address sends no SNI and must still get the certificate.
  for (const sni of [undefined, 'localhost']) {
    it(`direct TLS ${sni ? `with SNI ${sni}` : 'by address, without SNI'}: ALPN xmpp-client, then SASL without STARTTLS`, async () => {
      const secure = tlsConnect({ host: '127.0.0.1', port: server.c2sDirectTlsPort!, ALPNProtocols: ['xmpp-client'], ...(sni ? { servername: sni } : { checkServerIdentity: () => undefined }) });
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', reject);
      });
      assert.equal(secure.alpnProtocol, 'xmpp-client');
      const s = new Conversation(secure);
      secure.write(HEADER);
      const features = await s.expect(/<\/stream:features>/);
      assert.doesNotMatch(features, /<starttls/);
      assert.match(features, /<mechanism>PLAIN<\/mechanism>/);
      secure.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0pw').toString('base64')}</auth>`);
      await s.expect(/<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"\/>/);
      secure.destroy();
    });
  }

  it('a bind with an invalid resource gets bad-request', async () => {
    const c = new Conversation(connect({ host: '127.0.0.1', port: server.c2sPort }));
    c.socket.write(HEADER);
    await c.expect(/<\/stream:features>/);
    c.socket.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await c.expect(/<proceed/);
    const secure = tlsConnect({ socket: c.socket, servername: 'localhost' });
    await new Promise((r) => secure.once('secureConnect', r));
    const s = new Conversation(secure);
    secure.write(HEADER);
    await s.expect(/<\/stream:features>/);
    secure.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0pw').toString('base64')}</auth>`);
    await s.expect(/<success/);
    secure.write(HEADER);
    await s.expect(/<\/stream:features>/);
    secure.write("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bad\uE000</resource></bind></iq>");
    await s.expect(/<bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/);
    secure.destroy();
  });
});
