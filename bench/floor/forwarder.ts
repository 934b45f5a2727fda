// The least a Node.js chat server can do: accept TCP connections, read
// newline-framed messages `<to>|<payload>` and write each, unchanged, to
// connection <to>. No XML, no XMPP, no session state. Its CPU per message is
// the floor that Node's net stack and the kernel put under any Node server.

import { createServer, type Socket } from 'node:net';

const sockets: Socket[] = [];
const server = createServer({ noDelay: true }, (socket) => {
  socket.setEncoding('utf8');
  let carry = '';
  let index = -1;
  socket.on('data', (chunk: string) => {
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
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
