// Issue #18: the bytes of a stream. Bytes that are not UTF-8 are refused with
// RFC 6120 §4.9.3.22 unsupported-encoding (§11.6), never turned into U+FFFD
// and delivered; a byte order mark and the XML declaration may come in
// separate reads.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { RawClient, startTestServer, waitFor } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

describe('stream bytes (#18)', { timeout: 30_000 }, () => {
  it('refuses a message with bytes that are not UTF-8; nothing of it is delivered', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true });
    try {
      await server.addUser('alice', 'pw');
      await server.addUser('bob', 'pw');
      const bob = await RawClient.connect(server.c2sPort);
      await bob.login('bob', 'pw', 'b');
      const socket = connect({ host: '127.0.0.1', port: server.c2sPort });
      let received = '';
      let closed = false;
      socket.on('data', (d) => (received += d.toString('latin1')));
      socket.on('close', () => (closed = true));
      socket.on('error', () => {});
      // alice logs in on a raw socket so that she can write any byte.
      socket.write(HEADER);
      await waitFor(() => received.includes('</stream:features>'));
      socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0pw').toString('base64')}</auth>`);
      await waitFor(() => received.includes('<success'));
      socket.write(HEADER);
      await waitFor(() => received.split('</stream:features>').length === 3);
      socket.write("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>a</resource></bind></iq>");
      await waitFor(() => received.includes('</jid>'));
      socket.write(Buffer.concat([Buffer.from("<message to='bob@localhost/b' type='chat'><body>x"), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from('y</body></message>')]));
      await waitFor(() => closed, 5000, 'the stream to be closed');
      assert.match(received, /<stream:error><unsupported-encoding xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      await new Promise((r) => setTimeout(r, 200));
      assert.doesNotMatch(bob.received, /<message/, 'nothing reached bob');
      bob.close();
    } finally {
      await server.stop();
    }
  });

  it('accepts a byte order mark and the XML declaration in separate reads', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true });
    try {
      const c = await RawClient.connect(server.c2sPort);
      c.send('\ufeff');
      await new Promise((r) => setTimeout(r, 100));
      c.send("<?xml version='1.0'?>");
      await new Promise((r) => setTimeout(r, 100));
      c.send(HEADER.slice("<?xml version='1.0'?>".length));
      await c.expect(/<\/stream:features>/);
      assert.doesNotMatch(c.received, /stream:error/);
      c.close();
    } finally {
      await server.stop();
    }
  });
});
