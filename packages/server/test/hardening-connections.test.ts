// Issue #18: limits on unauthenticated connections. Per address and in all,
// a smaller stanza limit and less time before authentication, and a memory
// budget past which new connections are shed while existing ones are served.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

async function opened(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.send(HEADER);
  await c.expect(/<\/stream:features>|<stream:error>/);
  return c;
}

describe('unauthenticated connections (#18)', { timeout: 60_000 }, () => {
  it('refuses past the per-address limit with policy-violation, and counts a connection no more once it authenticates', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { preAuthPerAddress: 3, preAuthExemptLoopback: false } });
    try {
      await server.addUser('alice', 'pw');
      const first = await Promise.all([1, 2, 3].map(() => opened(server.c2sPort)));
      for (const c of first) assert.doesNotMatch(c.received, /stream:error/);
      const fourth = await opened(server.c2sPort);
      assert.match(fourth.received, /<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><text[^>]*>too many unauthenticated connections from your address/);
      await fourth.waitClosed();
      // One of the three logs in: room for one more.
      first[0]!.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0pw').toString('base64')}</auth>`);
      await first[0]!.expect(/<success/);
      first[0]!.send(HEADER);
      await first[0]!.expect(/urn:ietf:params:xml:ns:xmpp-bind/);
      const fifth = await opened(server.c2sPort);
      assert.doesNotMatch(fifth.received, /stream:error/);
      // And one that goes away frees its place too.
      first[1]!.close();
      await waitFor(() => server.c2s.gate.unauthenticated === 2);
      const sixth = await opened(server.c2sPort);
      assert.doesNotMatch(sixth.received, /stream:error/);
      for (const c of [...first, fifth, sixth]) c.close();
    } finally {
      await server.stop();
    }
  });

  it('refuses past the global limit with resource-constraint', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { preAuthTotal: 2 } });
    try {
      const a = await opened(server.c2sPort);
      const b = await opened(server.c2sPort);
      const c = await opened(server.c2sPort);
      assert.match(c.received, /<resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      for (const x of [a, b, c]) x.close();
    } finally {
      await server.stop();
    }
  });

  it('gives less time to authenticate than to log in', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, timeouts: { idleSeconds: 600, loginSeconds: 60, preAuthSeconds: 0.5 } });
    try {
      const c = await opened(server.c2sPort);
      const started = Date.now();
      await c.expect(/<connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><text[^>]*>authentication took too long/, 5000);
      await c.waitClosed();
      assert.ok(Date.now() - started < 3000);
    } finally {
      await server.stop();
    }
  });

  it('holds a smaller stanza before authentication than after it', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { preAuthStanzaSize: 4096 } });
    try {
      await server.addUser('bob', 'pw');
      const c = await opened(server.c2sPort);
      c.send(`<message><body>${'x'.repeat(5000)}`);
      await c.expect(/<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      const bob = await RawClient.connect(server.c2sPort);
      await bob.login('bob', 'pw', 'b');
      bob.send(`<message to='bob@localhost/b'><body>${'y'.repeat(20_000)}</body></message>`);
      await bob.expect(/<body>y{20000}<\/body>/);
      c.close();
      bob.close();
    } finally {
      await server.stop();
    }
  });

  it('sheds new connections past the memory budget', async () => {
    // A budget below what the process already holds: every new connection is refused.
    const server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { memoryBudgetMB: 1 } });
    try {
      const c = await opened(server.c2sPort);
      assert.match(c.received, /<resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><text[^>]*>the server is at its memory budget/);
      c.close();
    } finally {
      await server.stop();
    }
  });
});
