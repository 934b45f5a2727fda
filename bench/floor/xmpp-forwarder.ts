// forwarder.ts made to pass for an XMPP server, so that the shared tsung
// yardstick can measure Node's floor side by side with ejabberd and Prosody:
// it answers tsung's login dialogue with canned replies (any PLAIN password
// is accepted; no XML parser, no checks, no state beyond a name per socket)
// and copies each <message/> unchanged to the socket of the user named in
// its `to`. Reads and writes use the same Node APIs as the c2s (utf8 'data'
// events, one socket.write per message). A measurement, never a server.
//
//   node --import tsx bench/floor/xmpp-forwarder.ts PORT [DOMAIN]

import { createServer, type Socket } from 'node:net';

const port = Number(process.argv[2] ?? 15263);
const domain = process.argv[3] ?? 'localhost';
const byUser = new Map<string, Socket>();

const header = (id: number): string =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='f${id}' from='${domain}' version='1.0'>`;
const SASL_FEATURES = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;
const BIND_FEATURES = `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`;

let streams = 0;

function serve(socket: Socket): void {
  let carry = '';
  let user = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    carry += chunk;
    for (;;) {
      const start = carry.indexOf('<');
      if (start < 0) return void (carry = '');
      const rest = carry.slice(start);
      if (rest.startsWith('<message')) {
        const end = rest.indexOf('</message>');
        if (end < 0) return void (carry = rest);
        const message = rest.slice(0, end + 10);
        carry = rest.slice(end + 10);
        const to = /to=['"]([^@'"]+)@/.exec(message);
        if (to) byUser.get(to[1]!)?.write(message);
        continue;
      }
      const close = rest.indexOf('>');
      if (close < 0) return void (carry = rest);
      let tag = rest.slice(0, close + 1);
      // Elements with content (auth, iq) are taken whole.
      for (const name of ['auth', 'iq']) {
        if (tag.startsWith(`<${name}`) && !tag.endsWith('/>')) {
          const end = rest.indexOf(`</${name}>`);
          if (end < 0) return void (carry = rest);
          tag = rest.slice(0, end + name.length + 3);
        }
      }
      carry = rest.slice(tag.length);
      answer(tag);
    }
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    if (byUser.get(user) === socket) byUser.delete(user);
  });

  function answer(tag: string): void {
    if (tag.startsWith('<?xml')) return;
    if (tag.startsWith('<stream:stream')) return void socket.write(header(++streams) + (user ? BIND_FEATURES : SASL_FEATURES));
    if (tag.startsWith('</stream:stream')) return void socket.end('</stream:stream>');
    if (tag.startsWith('<auth')) {
      const b64 = tag.slice(tag.indexOf('>') + 1, tag.lastIndexOf('<'));
      user = Buffer.from(b64, 'base64').toString('utf8').split('\0')[1] ?? '';
      return void socket.write(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
    }
    if (tag.startsWith('<iq')) {
      const id = /id=['"]([^'"]*)['"]/.exec(tag)?.[1] ?? '';
      if (tag.includes('xmpp-bind')) {
        byUser.set(user, socket);
        return void socket.write(`<iq type='result' id='${id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>${user}@${domain}/floor</jid></bind></iq>`);
      }
      return void socket.write(`<iq type='result' id='${id}'/>`);
    }
    // presence and anything else: dropped
  }
}

const server = createServer({ noDelay: true }, serve);
server.listen(port, '127.0.0.1', () => process.stderr.write(`xmpp-forwarder: listening on 127.0.0.1:${port}\n`));
