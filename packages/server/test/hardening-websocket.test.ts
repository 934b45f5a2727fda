// Issue #18 over WebSocket (RFC 7395): the limits of the TCP listener hold on
// the other transport too. A client that stops reading is closed at the
// output high-water mark instead of buffered, and bytes that are not UTF-8
// are refused (a text frame by the WebSocket layer, 1007; a binary frame by
// the stream, unsupported-encoding), with nothing of them delivered.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import { RawClient, startTestServer, waitFor } from './helpers.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function held(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>";

/** A WebSocket stream logged in by hand (PLAIN over wss), frames kept as text. */
class WsClient {
  readonly frames: string[] = [];
  closeCode: number | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(data.toString()));
    ws.on('close', (code) => (this.closeCode = code));
    ws.on('error', () => {});
  }

  static async login(port: number, user: string, resource: string): Promise<WsClient> {
    const ws = new WebSocket(`wss://localhost:${port}/xmpp-websocket`, 'xmpp');
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const c = new WsClient(ws);
    ws.send(OPEN);
    await c.expect(/<stream:features/);
    ws.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0pw`).toString('base64')}</auth>`);
    await c.expect(/<success/);
    const seen = c.frames.length;
    ws.send(OPEN);
    await waitFor(() => c.frames.slice(seen).some((f) => f.includes('<stream:features')), 5000, 'features after SASL');
    ws.send(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    await c.expect(/<\/jid>/);
    return c;
  }

  get text(): string {
    return this.frames.join('');
  }

  expect(pattern: RegExp, ms = 5000): Promise<void> {
    return waitFor(() => pattern.test(this.text), ms, `a frame matching ${pattern}`);
  }

  /** Stops reading: the socket under the WebSocket no longer takes bytes, so they pile up on the server's side. */
  pause(): void {
    (this.ws as unknown as { _socket: Socket })._socket.pause();
  }
}

describe('WebSocket hardening (#18)', { timeout: 60_000 }, () => {
  it('closes a WebSocket client that stops reading and asks 800 times for its 30 KB vCard; others are served', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { maxOutputBytes: 1024 * 1024 } });
    try {
      for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, 'pw');
      const alice = await WsClient.login(server.wsPort!, 'alice', 'r');
      alice.ws.send(`<iq type='set' id='set'><vCard xmlns='vcard-temp'><DESC>${'x'.repeat(30_000)}</DESC></vCard></iq>`);
      await alice.expect(/id="set"/);
      const bob = await WsClient.login(server.wsPort!, 'bob', 'b');
      const carol = await RawClient.connect(server.c2sPort);
      await carol.login('carol', 'pw', 'c');

      const before = held();
      alice.pause();
      for (let i = 0; i < 800; i++) alice.ws.send(`<iq type='get' id='g${i}'><vCard xmlns='vcard-temp'/></iq>`);
      await waitFor(() => server.sm.sessions.full('alice@localhost/r') === undefined, 20_000, "alice's session to end");
      const grown = held() - before;
      console.log(`# WebSocket: 800 × 30 KB asked for by a client that does not read: +${(grown / 1e6).toFixed(1)} MB held when it was closed`);
      assert.ok(grown < 8e6, `the server held ${(grown / 1e6).toFixed(1)} MB for a client that does not read`);

      bob.ws.send("<message to='carol@localhost/c' type='chat'><body>still here</body></message>");
      await carol.expect(/<body>still here<\/body>/);
      alice.ws.terminate();
      bob.ws.close();
      carol.close();
    } finally {
      await server.stop();
    }
  });

  it('refuses a binary frame that is not UTF-8 with unsupported-encoding; nothing of it is delivered', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true });
    try {
      await server.addUser('alice', 'pw');
      await server.addUser('bob', 'pw');
      const bob = await RawClient.connect(server.c2sPort);
      await bob.login('bob', 'pw', 'b');
      const alice = await WsClient.login(server.wsPort!, 'alice', 'a');
      alice.ws.send(Buffer.concat([Buffer.from("<message to='bob@localhost/b' type='chat'><body>x"), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from('y</body></message>')]), { binary: true });
      await waitFor(() => alice.closeCode !== undefined, 5000, 'the WebSocket to close');
      assert.match(alice.text, /<stream:error[^>]*><unsupported-encoding xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      await new Promise((r) => setTimeout(r, 200));
      assert.doesNotMatch(bob.received, /<message/, 'nothing reached bob');

      // The server serves the next client as before.
      const again = await WsClient.login(server.wsPort!, 'alice', 'a2');
      again.ws.send("<message to='bob@localhost/b' type='chat'><body>fine</body></message>");
      await bob.expect(/<body>fine<\/body>/);
      again.ws.close();
      bob.close();
    } finally {
      await server.stop();
    }
  });

  it('closes a text frame that is not UTF-8 at the WebSocket layer (1007); nothing of it is delivered', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true });
    try {
      await server.addUser('alice', 'pw');
      await server.addUser('bob', 'pw');
      const bob = await RawClient.connect(server.c2sPort);
      await bob.login('bob', 'pw', 'b');
      const alice = await WsClient.login(server.wsPort!, 'alice', 'a');
      // ws validates what it sends; a hand-made masked text frame carries the bad bytes.
      const payload = Buffer.concat([Buffer.from("<message to='bob@localhost/b' type='chat'><body>x"), Buffer.from([0xc0, 0xaf]), Buffer.from('</body></message>')]);
      (alice.ws as unknown as { _socket: Socket })._socket.write(maskedFrame(0x1, payload));
      await waitFor(() => alice.closeCode !== undefined, 5000, 'the WebSocket to close');
      assert.equal(alice.closeCode, 1007);
      await new Promise((r) => setTimeout(r, 200));
      assert.doesNotMatch(bob.received, /<message/, 'nothing reached bob');
      await waitFor(() => server.sm.sessions.full('alice@localhost/a') === undefined, 5000, "alice's session to end");
      bob.close();
    } finally {
      await server.stop();
    }
  });
});

/** One final WebSocket frame from a client (RFC 6455 §5.2: masked), payload under 64 KiB. */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, 0x80 | payload.length]) : Buffer.from([0x80 | opcode, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([head, mask, body]);
}
