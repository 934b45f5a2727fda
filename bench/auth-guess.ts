// Password guessing from one address (issue #18): CONCURRENCY connections at
// a time, a fresh one per PLAIN guess, for SECONDS; counts the passwords the
// server actually checked (not-authorized) and the attempts it refused
// (temporary-auth-failure). `--no-throttle` sets the free failures so high
// that nothing backs off: the server as it was before the throttle.
//   node --import tsx bench/auth-guess.ts [SECONDS=10] [CONCURRENCY=32] [--no-throttle]

import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../packages/server/src/server.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const SECONDS = Number(args[0] ?? 10);
const CONCURRENCY = Number(args[1] ?? 32);
const throttle = !process.argv.includes('--no-throttle');
const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-guess-'));
const server = await startServer({
  domain: 'localhost', bindAddress: '127.0.0.1', c2sPort: 0, c2sDirectTlsPort: -1, wsPort: -1, dataDir,
  allowPlaintextOnLoopback: true, logAuthFailures: false,
  ...(throttle ? {} : { authThrottle: { addressFreeFailures: 1e9, accountFreeFailures: 1e9 } }),
});
await server.addUser('alice', 'the real one');

function guess(n: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: server.c2sPort });
    let got = '';
    let sent = false;
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(HEADER));
    socket.on('data', (d: string) => {
      got += d;
      if (!sent && got.includes('</stream:features>')) {
        sent = true;
        socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0alice\0guess${n}`).toString('base64')}</auth>`);
      }
      const m = /<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><([a-z-]+)/.exec(got);
      if (m) {
        socket.destroy();
        resolve(m[1]!);
      }
    });
    socket.on('error', () => resolve('socket-error'));
    socket.on('close', () => resolve('closed'));
  });
}

const counts = new Map<string, number>();
const until = Date.now() + SECONDS * 1000;
let n = 0;
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (Date.now() < until) {
    const outcome = await guess(n++);
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }
}));
const checked = counts.get('not-authorized') ?? 0;
console.log(`throttle ${throttle ? 'on (defaults)' : 'off'}: ${SECONDS} s, ${CONCURRENCY} at a time from 127.0.0.1`);
console.log(`passwords checked: ${checked} (${(checked / SECONDS).toFixed(1)}/s); outcomes: ${JSON.stringify(Object.fromEntries(counts))}`);
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
