// Issue #18: output is bounded by configuration, not by a client. A client
// that stops reading while asking for large answers is closed instead of
// buffered without limit, and the XEP-0198 queue of unacknowledged stanzas is
// capped in count and bytes, connected or hibernating; what it held goes back
// to the sm and reaches the user later (nothing is lost).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RawClient, startTestServer, waitFor } from './helpers.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** What the process holds in the heap and outside it (socket buffers), after a full GC. */
function held(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

describe('output back-pressure and XEP-0198 queue caps (#18)', { timeout: 60_000 }, () => {
  it('closes a client that stops reading and asks 800 times for its 30 KB vCard; others are served', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { maxOutputBytes: 1024 * 1024 } });
    try {
      await server.addUser('alice', 'pw');
      await server.addUser('bob', 'pw');
      await server.addUser('carol', 'pw');
      const alice = await RawClient.connect(server.c2sPort);
      await alice.login('alice', 'pw', 'r');
      alice.send(`<iq type='set' id='set'><vCard xmlns='vcard-temp'><DESC>${'x'.repeat(30_000)}</DESC></vCard></iq>`);
      await alice.expect(/id="set"/);
      const bob = await RawClient.connect(server.c2sPort);
      await bob.login('bob', 'pw', 'b');
      const carol = await RawClient.connect(server.c2sPort);
      await carol.login('carol', 'pw', 'c');

      const before = held();
      alice.pause();
      alice.send(Array.from({ length: 800 }, (_, i) => `<iq type='get' id='g${i}'><vCard xmlns='vcard-temp'/></iq>`).join(''));
      await waitFor(() => server.sm.sessions.full('alice@localhost/r') === undefined, 20_000, "alice's session to end");
      const grown = held() - before;
      console.log(`# 800 × 30 KB asked for by a client that does not read: +${(grown / 1e6).toFixed(1)} MB held when it was closed`);
      assert.ok(grown < 8e6, `the server held ${(grown / 1e6).toFixed(1)} MB for a client that does not read`);

      // Everyone else is served as before.
      bob.send("<message to='carol@localhost/c' type='chat'><body>still here</body></message>");
      await carol.expect(/<body>still here<\/body>/);
      alice.close();
      bob.close();
      carol.close();
    } finally {
      await server.stop();
    }
  });

  it('ends a stream whose client reads but never acknowledges, past the queue cap; the stanzas reach it later', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { smQueueStanzas: 20 } });
    try {
      await server.addUser('dave', 'pw');
      await server.addUser('erin', 'pw');
      const dave = await RawClient.connect(server.c2sPort);
      await dave.login('dave', 'pw', 'd');
      dave.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
      await dave.expect(/<enabled/);
      const erin = await RawClient.connect(server.c2sPort);
      await erin.login('erin', 'pw', 'e');
      for (let i = 0; i < 30; i++) erin.send(`<message to='dave@localhost/d' type='chat'><body>m${i}</body></message>`);
      await dave.expect(/<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><text[^>]*>too many unacknowledged/);
      await dave.waitClosed();
      await waitFor(() => server.sm.sessions.full('dave@localhost/d') === undefined, 5000, "dave's session to end");
      // What dave never acknowledged, and what came after, is stored for him.
      const back = await RawClient.connect(server.c2sPort);
      await back.login('dave', 'pw', 'again');
      back.send('<presence/>');
      await back.expect(/<body>m29<\/body>/);
      for (let i = 0; i < 30; i++) assert.match(back.received, new RegExp(`<body>m${i}</body>`), `m${i} reached dave`);
      back.close();
      erin.close();
    } finally {
      await server.stop();
    }
  });

  it('ends a hibernating session when its queue is full instead of holding it for the whole wait', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { smQueueStanzas: 1000, smQueueBytes: 64 * 1024 } });
    try {
      await server.addUser('frank', 'pw');
      await server.addUser('gina', 'pw');
      const frank = await RawClient.connect(server.c2sPort);
      await frank.login('frank', 'pw', 'f');
      frank.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
      await frank.expect(/<enabled/);
      frank.close();
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(server.sm.sessions.full('frank@localhost/f'), 'the session hibernates');
      const gina = await RawClient.connect(server.c2sPort);
      await gina.login('gina', 'pw', 'g');
      // 20 × 5 KB: past the 64 KB cap well before the 300 s wait is over.
      for (let i = 0; i < 20; i++) gina.send(`<message to='frank@localhost/f' type='chat'><body>n${i} ${'y'.repeat(5000)}</body></message>`);
      await waitFor(() => server.sm.sessions.full('frank@localhost/f') === undefined, 5000, "frank's session to end");
      const back = await RawClient.connect(server.c2sPort);
      await back.login('frank', 'pw', 'again');
      back.send('<presence/>');
      await back.expect(/<body>n19 /);
      for (let i = 0; i < 20; i++) assert.match(back.received, new RegExp(`<body>n${i} `), `n${i} reached frank`);
      back.close();
      gina.close();
    } finally {
      await server.stop();
    }
  });
});
