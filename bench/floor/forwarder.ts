// The least a Node.js chat server can do: accept TCP connections, read
// newline-framed messages `<to>|<payload>` and write each, unchanged, to
// connection <to>. No XML, no XMPP, no session state. Its CPU per message is
// the floor that Node's net stack and the kernel put under any Node server.
//
// `--read-buffer=static` reads every connection into one reused buffer (the
// `onread` option of net.Socket) instead of the fresh 64 KiB buffer Node
// allocates for each read: what that allocation costs per message. Node
// offers `onread` only to sockets it creates itself, so an accepted socket's
// handle is moved into a new Socket here, through the private `_handle`; a
// measurement, not something the server does.

import { createServer, Socket } from 'node:net';

const staticReads = process.argv.includes('--read-buffer=static');
const readBuffer = Buffer.allocUnsafe(64 * 1024);

const sockets: Socket[] = [];

/** Frames lines and forwards them; the first line names the connection. */
function lineReader(socket: Socket): (chunk: string) => void {
  let carry = '';
  let index = -1;
  return (chunk) => {
    carry += chunk;
    let nl: number;
    while ((nl = carry.indexOf('\n')) >= 0) {
      const line = carry.slice(0, nl + 1);
      carry = carry.slice(nl + 1);
      if (index < 0) {
        index = Number(line);
        sockets[index] = socket;
        socket.write('ok\n');
        continue;
      }
      sockets[Number(line.slice(0, line.indexOf('|')))]?.write(line);
    }
  };
}

/** The accepted socket's handle in a new Socket that reads into `readBuffer`, paused until `resume()`. */
function withStaticReads(accepted: Socket, onChunk: (chunk: string) => void): Socket {
  const holder = accepted as unknown as { _handle: unknown };
  const handle = holder._handle;
  holder._handle = null;
  const options = {
    handle,
    readable: true,
    writable: true,
    // The driver sends ASCII only, so a byte is a character.
    onread: { buffer: readBuffer, callback: (n: number, buf: Uint8Array) => onChunk(Buffer.from(buf.buffer, buf.byteOffset, n).toString('latin1')) },
  };
  const socket = new Socket(options as ConstructorParameters<typeof Socket>[0]);
  socket.setNoDelay(true);
  return socket;
}

const server = createServer({ noDelay: true, pauseOnConnect: staticReads }, (accepted) => {
  const socket = staticReads ? withStaticReads(accepted, (chunk) => read(chunk)) : accepted;
  const read = lineReader(socket);
  if (staticReads) {
    socket.resume();
  } else {
    socket.setEncoding('utf8');
    socket.on('data', read);
  }
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
