import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { Utf8Reads, readText, stopReadingText, wholeCharacters, type ReadPath } from './socket-reads.ts';

// One of each UTF-8 length: 1 (a), 2 (é), 3 (€), 4 (𝄞) bytes.
const MIXED = 'a é € 𝄞 <body>ünïcödé</body>';

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'timed out');
}

describe('Utf8Reads', () => {
  it('gives the same text wherever the bytes are cut', () => {
    const bytes = Buffer.from(MIXED);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const reads = new Utf8Reads();
      const first = bytes.subarray(0, cut);
      const second = bytes.subarray(cut);
      assert.equal(reads.text(first, first.length)! + reads.text(second, second.length)!, MIXED, `cut at ${cut}`);
    }
  });

  it('gives the same text when every byte is its own read', () => {
    const reads = new Utf8Reads();
    let text = '';
    for (const byte of Buffer.from(MIXED)) text += reads.text(Buffer.from([byte]), 1);
    assert.equal(text, MIXED);
  });

  it('reads only the given length, and keeps its own copy of a character cut short', () => {
    const shared = Buffer.alloc(64, 'x');
    shared.write('é€'); // c3 a9 e2 82 ac
    const reads = new Utf8Reads();
    assert.equal(reads.text(shared, 3), 'é', 'é whole, € begun');
    shared.fill('x'); // the next read lands in the same buffer
    assert.equal(reads.text(Buffer.from([0x82, 0xac]), 2), '€');
  });

  it('refuses bytes that are not UTF-8 instead of making them U+FFFD (RFC 6120 §11.6)', () => {
    const cases: [string, number[]][] = [
      ['a stray continuation byte', [0x61, 0x80, 0x62]],
      ['a byte never in UTF-8', [0x61, 0xff]],
      ['a sequence cut by ASCII', [0xe2, 0x82, 0x61]],
      ['an overlong form of /', [0xc0, 0xaf]],
      ['a surrogate', [0xed, 0xa0, 0x80]],
      ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ];
    for (const [what, bytes] of cases) {
      assert.equal(new Utf8Reads().text(Buffer.from(bytes), bytes.length), null, what);
      // Whichever read the bad byte comes in.
      const reads = new Utf8Reads();
      const outs = bytes.map((b) => reads.text(Buffer.from([b]), 1));
      assert.ok(outs.includes(null), `${what}, byte by byte`);
    }
  });
});

describe('Utf8Reads against simdutf', () => {
  it('accepts U+FFFD sent as such, in one read or cut between two', () => {
    const bytes = Buffer.from('a\uFFFDb');
    assert.equal(new Utf8Reads().text(bytes, bytes.length), 'a\uFFFDb');
    const reads = new Utf8Reads();
    assert.equal(reads.text(bytes.subarray(0, 2), 2), 'a');
    assert.equal(reads.text(Buffer.from(bytes.subarray(2)), 3), '\uFFFDb');
  });

  it('refuses exactly what isUtf8 refuses, and decodes the rest as toString does (random bytes)', () => {
    const byte = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xff }), fc.constantFrom(0xef, 0xbf, 0xbd, 0xed, 0xf4, 0xc0));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 24 }), (list) => {
        const bytes = Buffer.from(list);
        const end = wholeCharacters(bytes);
        const out = new Utf8Reads().text(bytes, bytes.length);
        if (!isUtf8(bytes.subarray(0, end))) return out === null;
        return out === bytes.toString('utf8', 0, end);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('wholeCharacters', () => {
  it('holds back only a sequence begun and not finished', () => {
    assert.equal(wholeCharacters(Buffer.from('abc')), 3);
    assert.equal(wholeCharacters(Buffer.from('a€')), 4);
    assert.equal(wholeCharacters(Buffer.from('a€').subarray(0, 3)), 1);
    assert.equal(wholeCharacters(Buffer.from('𝄞').subarray(0, 3)), 0);
    assert.equal(wholeCharacters(Buffer.from([0x61, 0x80])), 2, 'a stray continuation byte is left for U+FFFD');
  });
});

/** A server socket accepted on `server`, with the client socket that connected to it. */
async function accept(server: Server | TlsServer, open: (port: number) => Socket): Promise<{ accepted: Socket; client: Socket }> {
  const event = server instanceof TlsServerClass ? 'secureConnection' : 'connection';
  const accepted = once(server, event) as Promise<[Socket]>;
  const client = open((server.address() as { port: number }).port);
  const pair = { accepted: (await accepted)[0], client };
  opened.push(pair.accepted, pair.client);
  return pair;
}
/** Every socket the tests opened, destroyed at the end even when a test fails halfway. */
const opened: Socket[] = [];
const TlsServerClass = createTlsServer().constructor;

/** What `readText` delivers from a real connection while `client` writes MIXED one byte at a time. */
async function readsByteByByte(server: Server | TlsServer, open: (port: number) => Socket): Promise<{ path: ReadPath; texts: string[] }> {
  const { accepted, client } = await accept(server, open);
  const texts: string[] = [];
  const path = readText(accepted, (text) => texts.push(text ?? '<not UTF-8>'));
  for (const byte of Buffer.from(MIXED)) {
    client.write(Buffer.from([byte]));
    await new Promise((r) => setTimeout(r, 1));
  }
  await until(() => texts.join('') === MIXED);
  client.destroy();
  return { path, texts };
}

describe('readText', () => {
  let plain: Server;
  let tls: TlsServer;
  before(async () => {
    plain = createServer().listen(0, '127.0.0.1');
    tls = createTlsServer({ key: readFileSync('run/test-tls/localhost.key'), cert: readFileSync('run/test-tls/localhost.crt') }).listen(0, '127.0.0.1');
    await Promise.all([once(plain, 'listening'), once(tls, 'listening')]);
  });
  after(() => {
    for (const socket of opened) socket.destroy();
    plain.close();
    tls.close();
  });

  // Node 20 is what we ship on: if an upgrade moves the internals socket-reads.ts relies on, this says so.
  it('reads an accepted TCP socket through the reusable buffer, characters whole across reads', async () => {
    const { path, texts } = await readsByteByByte(plain, (port) => connect(port, '127.0.0.1'));
    assert.equal(path, 'reusable-buffer');
    assert.ok(texts.length > 1, 'the bytes came in several reads');
    assert.ok(!texts.join('').includes('\ufffd'));
  });

  it('reads an accepted TLS socket through the reusable buffer too', async () => {
    const { path } = await readsByteByByte(tls, (port) => tlsConnect({ port, host: '127.0.0.1', servername: 'localhost' }) as TLSSocket);
    assert.equal(path, 'reusable-buffer');
  });

  it('delivers nothing while the socket is paused, and what waited once it resumes', async () => {
    const { accepted, client } = await accept(plain, (port) => connect(port, '127.0.0.1'));
    const texts: string[] = [];
    readText(accepted, (text) => texts.push(text ?? '<not UTF-8>'));
    accepted.pause();
    client.write('<presence/>');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(texts, []);
    accepted.resume();
    await until(() => texts.join('') === '<presence/>');
    client.destroy();
  });

  it('delivers nothing after stopReadingText, and the socket still closes', async () => {
    const { accepted, client } = await accept(plain, (port) => connect(port, '127.0.0.1'));
    const texts: string[] = [];
    readText(accepted, (text) => texts.push(text ?? '<not UTF-8>'));
    client.write('one');
    await until(() => texts.join('') === 'one');
    stopReadingText(accepted);
    client.write('two');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(texts, ['one']);
    const closed = once(accepted, 'close');
    client.end();
    await closed;
  });
});
