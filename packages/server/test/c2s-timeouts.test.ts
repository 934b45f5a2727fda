// Idle streams are closed with connection-timeout (RFC 6120 §4.9.3.4);
// whitespace keepalives (§4.6.1) keep a stream alive. Only what the client
// sends counts: stanzas the server writes to it do not.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { RawClient, startTestServer, waitFor } from './helpers.ts';

describe('c2s timeouts', () => {
  it('closes a stream that sends nothing, even while it receives, but not one that sends keepalives', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, timeouts: { idleSeconds: 0.6, loginSeconds: 60 } });
    try {
      await server.addUser('alice', 'pw');
      const idle = await RawClient.connect(server.c2sPort);
      const lively = await RawClient.connect(server.c2sPort);
      await idle.login('alice', 'pw', 'idle');
      await lively.login('alice', 'pw', 'lively');
      const keepalive = setInterval(() => {
        lively.send(' ');
        lively.send("<message to='alice@localhost/idle' type='chat'><body>still there?</body></message>");
      }, 200);
      try {
        await idle.expect(/<connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
        await idle.waitClosed();
        assert.equal(server.sm.sessions.full('alice@localhost/idle'), undefined, 'the sm ended the idle session');
        assert.equal(lively.closed, false);
        assert.ok(server.sm.sessions.full('alice@localhost/lively'));
      } finally {
        clearInterval(keepalive);
        lively.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('closes a silent WebSocket stream with connection-timeout (RFC 7395 framing)', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, timeouts: { idleSeconds: 0.4, loginSeconds: 60 } });
    try {
      const ws = new WebSocket(`wss://localhost:${server.wsPort}/xmpp-websocket`, 'xmpp');
      const received: string[] = [];
      let closed = false;
      ws.on('message', (data) => received.push(data.toString()));
      ws.on('close', () => (closed = true));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>");
      await waitFor(() => closed, 5000, 'the server to close the idle WebSocket');
      assert.ok(received.some((m) => m.includes('<connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>')), received.join('\n'));
    } finally {
      await server.stop();
    }
  });

  it('closes a connection that does not log in within the login timeout', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, timeouts: { idleSeconds: 600, loginSeconds: 0.4 } });
    try {
      const slow = await RawClient.connect(server.c2sPort);
      slow.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
      await slow.expect(/<connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      await slow.waitClosed();
    } finally {
      await server.stop();
    }
  });
});
