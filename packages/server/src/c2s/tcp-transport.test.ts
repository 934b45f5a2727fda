import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { xml } from '@switchboard/xml';
import { TcpTransport } from './tcp-transport.ts';

/** A TcpTransport on the server end of a loopback connection, and the client socket that reads it. */
async function pair(server: Server): Promise<{ transport: TcpTransport; client: Socket; received: string[] }> {
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const [socket] = await accepted;
  const transport = new TcpTransport(socket, undefined, 60_000);
  transport.setEvents({ data: () => {}, close: () => {}, idle: () => {} });
  const received: string[] = [];
  client.setEncoding('utf8');
  client.on('data', (chunk: string) => received.push(chunk));
  return { transport, client, received };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'timed out');
}

let server: Server;
before(async () => {
  server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
after(() => server.close());

describe('TcpTransport writes', () => {
  it('sends what one tick writes as one write, in order, and a later tick as another', async () => {
    const { transport, client, received } = await pair(server);
    transport.send(xml('message', { id: '1' }));
    transport.send(xml('r', { xmlns: 'urn:xmpp:sm:3' }));
    assert.deepEqual(received, [], 'nothing leaves before the tick ends');
    await until(() => received.length > 0);
    // Both stanzas, in order, and nothing between them.
    assert.deepEqual(received, ['<message id="1"/><r xmlns="urn:xmpp:sm:3"/>']);
    transport.keepalive();
    await until(() => received.length > 1);
    assert.equal(received[1], ' ');
    client.destroy();
  });

  it('writes what is pending before the closing tag, and nothing after it', async () => {
    const { transport, client, received } = await pair(server);
    transport.send(xml('message', { id: '2' }));
    transport.closeStream();
    transport.send(xml('message', { id: 'late' }));
    await once(client, 'end');
    assert.equal(received.join(''), '<message id="2"/></stream:stream>');
    client.destroy();
  });

  it('serves several sockets written in the same tick', async () => {
    const a = await pair(server);
    const b = await pair(server);
    a.transport.send(xml('message', { id: 'a' }));
    b.transport.send(xml('message', { id: 'b' }));
    a.transport.send(xml('message', { id: 'a2' }));
    await until(() => a.received.length > 0 && b.received.length > 0);
    assert.equal(a.received.join(''), '<message id="a"/><message id="a2"/>');
    assert.equal(b.received.join(''), '<message id="b"/>');
    a.client.destroy();
    b.client.destroy();
  });
});

describe('TcpTransport reads', () => {
  it('reads nothing while paused (the rate limit), then what waited, and notices a peer that left meanwhile', async () => {
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    const [socket] = await accepted;
    const transport = new TcpTransport(socket, undefined, 60_000);
    const texts: string[] = [];
    let closed = false;
    transport.setEvents({ data: (text) => texts.push(text), close: () => (closed = true), idle: () => {} });
    assert.equal(transport.readPath, 'reusable-buffer');
    transport.pauseFor(300);
    client.end('<presence/>');
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(texts, [], 'nothing is read during the pause');
    assert.equal(closed, false);
    await until(() => closed);
    assert.equal(texts.join(''), '<presence/>');
  });
});
