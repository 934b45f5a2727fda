// XEP-0065 direct connections over node:net: the StreamHost side (a SOCKS5
// listener that only accepts CONNECT to the expected DST.ADDR) and the
// Target side. Listeners bind to the address they are given (127.0.0.1 in
// tests) on port 0. Streams stay paused after the handshake until the
// negotiation picks one and resumes it.

import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import {
  MORE, REPLY_GENERAL_FAILURE, REPLY_SUCCEEDED, CONNECT, clientGreeting, connectReply, connectRequest, methodChoice,
  readClientGreeting, readConnectReply, readConnectRequest, readMethodChoice, type Read,
} from '../protocol/xep0065.ts';
import { ByteStream } from './bytestream.ts';
import type { Socks5Listener, Socks5Port } from './s5b.ts';

class SocketStream extends ByteStream {
  private resumed = false;
  private failed: string | undefined;

  constructor(private readonly socket: Socket, leftover: Uint8Array) {
    super();
    socket.pause();
    if (leftover.length > 0) socket.unshift(leftover);
    socket.on('data', (chunk: Buffer) => this.emit('data', new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    socket.on('end', () => this.emit('end', undefined));
    socket.on('error', (err) => {
      this.failed = err.message;
      this.emit('error', err.message);
    });
    socket.on('close', (hadError) => {
      if (!hadError && !this.failed) this.failed = 'closed';
    });
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.failed) return Promise.reject(new Error(`socket ${this.failed}`));
    return new Promise((resolve, reject) => {
      const ok = this.socket.write(chunk, (err) => {
        if (err) reject(err);
        else if (ok) resolve();
      });
      if (!ok) this.socket.once('drain', () => resolve());
    });
  }

  end(): Promise<void> {
    return new Promise((resolve) => this.socket.end(() => resolve()));
  }

  destroy(): void {
    this.socket.destroy();
  }

  resume(): void {
    if (this.resumed) return;
    this.resumed = true;
    this.socket.resume();
  }
}

/** Reads one handshake message from the socket, keeping what follows it. */
function readMessage<T>(socket: Socket, state: { buf: Uint8Array }, read: (b: Uint8Array) => Read<T>): Promise<T & { ok: true; length: number }> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const r = read(state.buf);
      if (r === MORE) return false;
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (!r.ok) reject(new Error(r.reason));
      else {
        state.buf = state.buf.subarray(r.length);
        resolve(r);
      }
      return true;
    };
    const onData = (chunk: Buffer) => {
      const next = new Uint8Array(state.buf.length + chunk.length);
      next.set(state.buf);
      next.set(chunk, state.buf.length);
      state.buf = next;
      attempt();
    };
    const onError = (err: Error) => reject(err);
    const onClose = () => reject(new Error('closed during SOCKS5 handshake'));
    if (attempt()) return;
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/** RFC 1928 server side, as XEP-0065 §5.3.2 has the StreamHost answer. */
async function serverHandshake(socket: Socket, dstaddr: string): Promise<SocketStream | undefined> {
  const state = { buf: new Uint8Array(0) };
  const greeting = await readMessage(socket, state, readClientGreeting);
  socket.write(methodChoice(greeting.noAuth));
  if (!greeting.noAuth) return undefined;
  const request = await readMessage(socket, state, readConnectRequest);
  const match = request.command === CONNECT && request.host === dstaddr && request.port === 0;
  socket.write(connectReply(match ? REPLY_SUCCEEDED : REPLY_GENERAL_FAILURE, request.host));
  return match ? new SocketStream(socket, state.buf) : undefined;
}

export function nodeSocks5(): Socks5Port {
  return {
    async listen(host, dstaddr): Promise<Socks5Listener> {
      const accepted: SocketStream[] = [];
      const server: Server = createServer((socket) => {
        serverHandshake(socket, dstaddr).then(
          (stream) => (stream ? accepted.push(stream) : socket.end()),
          () => socket.destroy(),
        );
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => resolve());
      });
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      return { host, port, accepted, close: () => server.close() };
    },

    async connect(host, port, dstaddr, timeoutMs) {
      const socket = netConnect({ host, port });
      const timer = setTimeout(() => socket.destroy(new Error('SOCKS5 connect timed out')), timeoutMs);
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        });
        const state = { buf: new Uint8Array(0) };
        socket.write(clientGreeting());
        const choice = await readMessage(socket, state, readMethodChoice);
        if (!choice.noAuth) throw new Error('StreamHost wants authentication');
        socket.write(connectRequest(dstaddr));
        const reply = await readMessage(socket, state, readConnectReply);
        if (reply.status !== REPLY_SUCCEEDED) throw new Error(`StreamHost refused (${reply.status})`);
        return new SocketStream(socket, state.buf);
      } catch (err) {
        socket.destroy();
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
