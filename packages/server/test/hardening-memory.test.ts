// Issue #18: what unauthenticated peers can make the server hold (RFC 6120
// §13.12). Connections that send a stream header and most of a stanza, then
// wait: the server's heap must grow by about the bytes sent, not by a tree
// of them (it grew ~37 bytes per byte when the parser built the tree of an
// unfinished stanza).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect, type Socket } from 'node:net';
import { startTestServer } from './helpers.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function openWith(port: number, text: string): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  socket.on('data', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  await new Promise<void>((resolve) => socket.write(text, () => resolve()));
  return socket;
}

describe('memory held for unauthenticated connections (#18)', { timeout: 60_000 }, () => {
  it('an unfinished stanza of empty elements costs about its bytes', async () => {
    // The parser's own cost is measured here, so the pre-auth stanza limit (32 KiB) is lifted.
    const server = await startTestServer({ allowPlaintextOnLoopback: true, limits: { preAuthStanzaSize: 256 * 1024 } });
    const sockets: Socket[] = [];
    try {
      const connections = 40;
      const stanza = '<message>' + '<a/>'.repeat(50_000); // 200 KB, under the 256 KiB stanza limit
      const sent = connections * stanza.length;
      // One connection first, so what every stream costs anyway is in the baseline.
      sockets.push(await openWith(server.c2sPort, HEADER));
      const before = heap();
      for (let i = 0; i < connections; i++) sockets.push(await openWith(server.c2sPort, HEADER + stanza));
      // The server has read what was written once it stops growing.
      let last = 0;
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const now = heap();
        if (i > 3 && Math.abs(now - last) < 256 * 1024) break;
        last = now;
      }
      const grown = heap() - before;
      const perByte = grown / sent;
      console.log(`# ${connections} connections × ${stanza.length} bytes: heap +${(grown / 1e6).toFixed(1)} MB, ${perByte.toFixed(2)} bytes per byte`);
      assert.equal(server.c2s.connectionCount, connections + 1, 'every connection is still open: the stanzas are within the limit');
      assert.ok(perByte < 4, `heap grew ${perByte.toFixed(2)} bytes per byte received`);
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  });
});
