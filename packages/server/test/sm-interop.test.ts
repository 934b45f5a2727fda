// Issue #21: XEP-0198 resumption with a third-party client library. StanzaJS
// (WebSocket, its own stream management) has its socket killed in the middle
// of a burst, with no close frame, resumes, and must have every message
// exactly once and in order; its other resource (StanzaJS with carbons) sees
// each once as a carbon, and the archive holds each once.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as Stanza from 'stanza';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';

const BURST = 200;

function stanzaClient(server: TestServer, resource: string): Stanza.Agent {
  const agent = Stanza.createClient({
    jid: 'alice@localhost',
    password: 'pw',
    resource,
    transports: { websocket: `wss://localhost:${server.wsPort}/xmpp-websocket`, bosh: false },
    autoReconnect: false,
  });
  agent.sasl.disable('SCRAM-SHA-256-PLUS');
  agent.sasl.disable('SCRAM-SHA-1-PLUS');
  return agent;
}

async function start(agent: Stanza.Agent): Promise<void> {
  const started = new Promise((resolve) => agent.once('session:started', resolve));
  agent.connect();
  await started;
}

describe('XEP-0198 resumption with StanzaJS, carbons and the archive on', { timeout: 90_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ archive: true, allowPlaintextOnLoopback: true, timeouts: { resumeSeconds: 30 } });
    for (const u of ['alice', 'bob']) await server.addUser(u, 'pw');
  });
  after(() => server.stop());

  it('a socket killed mid-burst, then resumed: every message once, in order; each once as a carbon; each once in the archive', async () => {
    const phone = stanzaClient(server, 'phone');
    const laptop = stanzaClient(server, 'laptop');
    const got: string[] = [];
    const carbons: string[] = [];
    phone.on('message', (m) => m.body?.startsWith('burst ') && got.push(m.body));
    laptop.on('carbon:received', (m) => {
      const body = m.carbon?.forward.message?.body;
      if (body?.startsWith('burst ')) carbons.push(body);
    });
    await start(laptop);
    await laptop.enableCarbons();
    laptop.sendPresence();
    await start(phone);
    await waitFor(() => phone.sm.started && phone.sm.resumable, 5000, 'StanzaJS enabling resumption');
    phone.sendPresence();

    const bob = await RawClient.connect(server.c2sPort);
    try {
      await bob.login('bob', 'pw', 'b');
      const expected = Array.from({ length: BURST }, (_, i) => `burst ${i}`);
      let resumed = false;
      phone.on('stream:management:resumed', () => (resumed = true));
      // The burst goes out in steps; a quarter of the way in, the phone's socket dies without a close frame.
      for (let i = 0; i < BURST; i++) {
        bob.send(`<message to='alice@localhost/phone' type='chat' id='b${i}'><body>burst ${i}</body></message>`);
        if (i === BURST / 4) {
          await waitFor(() => got.length > 0, 5000, 'the first messages');
          const ws = (phone.transport as unknown as { socket: { _socket: { destroy(): void } } }).socket;
          const gone = new Promise((resolve) => phone.once('disconnected', resolve));
          ws._socket.destroy();
          await gone;
          phone.connect(); // resumes: StanzaJS keeps its stream management state across the reconnect
        }
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(() => got.length >= BURST && carbons.length >= BURST, 20_000, `the burst (${got.length} delivered, ${carbons.length} carbons)`);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(resumed, 'the stream was resumed, not started again');
      assert.deepEqual(got, expected, 'every message once, in order');
      assert.deepEqual(carbons, expected, 'every message once as a carbon to the other resource');
      assert.equal(server.sm.sessions.bare('alice@localhost').length, 2, 'the resumed session is the same one: no third');

      // The archive, read by StanzaJS, holds each once.
      const archived: string[] = [];
      let afterId: string | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const fin = await laptop.searchHistory({ with: 'bob@localhost', paging: { max: 100, ...(afterId ? { after: afterId } : {}) } });
        for (const r of fin.results ?? []) {
          const body = r.item.message?.body;
          if (body?.startsWith('burst ')) archived.push(body);
        }
        if (fin.complete) break;
        afterId = fin.paging!.last;
      }
      assert.deepEqual(archived, expected, 'every message once in the archive');
    } finally {
      bob.close();
      phone.disconnect();
      laptop.disconnect();
    }
  });
});
