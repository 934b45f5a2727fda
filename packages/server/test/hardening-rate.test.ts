// Issue #18, fair service: a session's stanzas are rate limited by a token
// bucket (limits.stanzasPerSecond, limits.stanzaBurst). Past the rate each
// stanza is answered resource-constraint; past another burst the stream is
// closed with policy-violation. Other sessions are served meanwhile.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor } from './helpers.ts';

describe('per-session stanza rate (#18)', { timeout: 30_000 }, () => {
  it('answers resource-constraint past the rate, closes the stream past another burst', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { stanzasPerSecond: 10, stanzaBurst: 20 } });
    try {
      for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, 'pw');
      const alice = await RawClient.connect(server.c2sPort);
      await alice.login('alice', 'pw', 'a');
      const bob = await RawClient.connect(server.c2sPort);
      await bob.login('bob', 'pw', 'b');
      const carol = await RawClient.connect(server.c2sPort);
      await carol.login('carol', 'pw', 'c');

      // 30 at once: 20 within the burst, then answered, the stream still open.
      alice.send(Array.from({ length: 30 }, (_, i) => `<message to='bob@localhost/b' id='m${i}' type='chat'><body>m${i}</body></message>`).join(''));
      await alice.expect(/id="m29"[^>]*type="error"|type="error"[^>]*id="m29"/);
      const refused = alice.received.match(/<resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/g)?.length ?? 0;
      // The ones within the burst are delivered once archived (a loop turn each, in the session's order): wait for them all.
      await waitFor(() => (bob.received.match(/<body>m\d+<\/body>/g)?.length ?? 0) + refused >= 30, 5000, 'every stanza delivered or answered').catch(() => undefined);
      const delivered = bob.received.match(/<body>m\d+<\/body>/g)?.length ?? 0;
      console.log(`# 30 stanzas at once, rate 10/s burst 20: ${delivered} delivered, ${refused} answered resource-constraint`);
      assert.ok(delivered >= 20 && delivered < 30, `${delivered} delivered`);
      assert.equal(delivered + refused, 30, 'every stanza delivered or answered');
      assert.equal(alice.closed, false);

      // A well-behaved session is served meanwhile.
      carol.send("<message to='bob@localhost/b' type='chat'><body>from carol</body></message>");
      await bob.expect(/<body>from carol<\/body>/);

      // Going on regardless: closed.
      alice.send(Array.from({ length: 40 }, (_, i) => `<message to='bob@localhost/b' id='n${i}' type='chat'><body>n${i}</body></message>`).join(''));
      await alice.expect(/<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><text[^>]*>stanza rate exceeded/);
      await alice.waitClosed();
      await waitFor(() => server.sm.sessions.full('alice@localhost/a') === undefined);
      for (const c of [bob, carol]) c.close();
    } finally {
      await server.stop();
    }
  });
});
