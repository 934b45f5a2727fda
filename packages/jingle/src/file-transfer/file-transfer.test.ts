import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Element, parseElement, xml } from '@switchboard/xml';
import { JingleManager } from '../manager.ts';
import { NS_JINGLE, NS_JINGLE_FT, NS_JINGLE_IBB } from '../namespaces.ts';
import { actions, wire, type Wire } from '../test-wire.ts';
import { parseJingle, writeJingle, type Reason } from '../protocol/xep0166.ts';
import { bytesToBase64 } from '../protocol/base64.ts';
import { writeIbb } from '../protocol/xep0047.ts';
import type { Session } from '../session.ts';
import { registerFileTransfer, type FileTransfers } from './application.ts';
import type { FileTransferOptions, FileTransferSession } from './file-transfer-session.ts';
import { nodeHasher } from './node-hash.ts';
import { nodeSocks5 } from './node-socks5.ts';
import { webCryptoHasher, type HasherFactory } from './hash.ts';
import type { Socks5Port } from './s5b.ts';

const ALICE = 'alice@example.org/phone';
const BOB = 'bob@example.org/laptop';
const MiB = 1024 * 1024;

interface Ends {
  sender: Reason;
  receiver: Reason;
  data: Uint8Array;
  verified: string | undefined;
  method: string | undefined;
  progress: number[];
  sent: boolean;
}

function setup(optsA: FileTransferOptions, optsB: FileTransferOptions): { a: JingleManager; b: JingleManager; ftA: FileTransfers; net: Wire } {
  const a = new JingleManager({ selfID: ALICE });
  const b = new JingleManager({ selfID: BOB });
  const ftA = registerFileTransfer(a, optsA);
  registerFileTransfer(b, optsB);
  return { a, b, ftA, net: wire(a, b) };
}

/** Alice offers `data` to Bob, Bob accepts, both wait for the end. */
async function transfer(a: JingleManager, b: JingleManager, ftA: FileTransfers, data: Uint8Array, method?: 's5b' | 'ibb'): Promise<Ends> {
  const progress: number[] = [];
  let sent = false;
  const received = new Promise<{ data: Uint8Array; verified: string | undefined; method: string | undefined; reason: Reason }>((resolve) => {
    b.on('incoming', (session) => {
      const ft = session as FileTransferSession;
      assert.equal(ft.file?.name, 'random.bin');
      assert.equal(ft.file?.size, data.length);
      let got: { data: Uint8Array; verified: string | undefined } | undefined;
      ft.on('progress', ({ transferred }) => progress.push(transferred));
      ft.on('received', ({ data: d, verified }) => (got = { data: d, verified: verified?.algo }));
      ft.on('terminated', ({ reason }) => resolve({ data: got?.data ?? new Uint8Array(0), verified: got?.verified, method: ft.method, reason }));
      void ft.accept();
    });
  });
  const session = await ftA.offer(BOB, { name: 'random.bin', data, mediaType: 'application/octet-stream' }, method);
  session.on('sent', () => (sent = true));
  const senderEnd = new Promise<Reason>((resolve) => session.on('terminated', ({ reason }) => resolve(reason)));
  const [r, senderReason] = await Promise.all([received, senderEnd]);
  return { sender: senderReason, receiver: r.reason, data: r.data, verified: r.verified, method: r.method, progress, sent };
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function jingles(net: Wire, from: string, action: string): Element[] {
  return net.log.filter((r) => r.from === from).map((r) => r.iq.getChild('jingle')).filter((j): j is Element => j?.attrs.action === action);
}

describe('file transfer (XEP-0234) over IBB (XEP-0261/XEP-0047)', () => {
  it('moves 5 MiB between two managers, hash checked, with progress', async () => {
    const { a, b, ftA, net } = setup({ hasher: nodeHasher }, { hasher: webCryptoHasher });
    const data = new Uint8Array(randomBytes(5 * MiB));
    const t0 = performance.now();
    const end = await transfer(a, b, ftA, data);
    const ms = performance.now() - t0;
    assert.equal(end.receiver.condition, 'success');
    assert.equal(end.sender.condition, 'success');
    assert.equal(end.method, 'ibb');
    assert.equal(end.verified, 'sha-256');
    assert.equal(sha256(end.data), sha256(data));
    assert.ok(end.sent);
    assert.equal(end.progress.at(-1), data.length);
    assert.ok(end.progress.every((p, i) => i === 0 || p > end.progress[i - 1]!), 'progress only grows');
    const dataIqs = net.log.filter((r) => r.iq.getChild('data', 'http://jabber.org/protocol/ibb'));
    assert.equal(dataIqs.length, Math.ceil(data.length / 4096));
    assert.equal(dataIqs.at(-1)!.iq.getChild('data')!.attrs.seq, String((dataIqs.length - 1) % 65536));
    assert.ok(net.log.some((r) => r.iq.getChild('open', 'http://jabber.org/protocol/ibb')?.attrs['block-size'] === '4096'));
    assert.ok(net.log.some((r) => r.iq.getChild('close', 'http://jabber.org/protocol/ibb')));
    const offer = parseJingle(jingles(net, ALICE, 'session-initiate')[0]!);
    assert.ok(offer.ok);
    const desc = offer.jingle.contents[0]!.description;
    assert.equal(desc?.kind === 'file-transfer' && desc.file.hashes?.[0]?.value, createHash('sha256').update(data).digest('base64'));
    console.log(`  IBB 5 MiB: ${ms.toFixed(0)} ms, ${dataIqs.length} data iqs`);
  });

  it('uses the smaller block-size the receiver accepts (XEP-0261 §2)', async () => {
    const { a, b, ftA, net } = setup({ blockSize: 8192 }, { blockSize: 2048 });
    const data = new Uint8Array(randomBytes(50_000));
    const end = await transfer(a, b, ftA, data, 'ibb');
    assert.equal(end.receiver.condition, 'success');
    const accept = parseJingle(jingles(net, BOB, 'session-accept')[0]!);
    assert.ok(accept.ok);
    assert.deepEqual(accept.jingle.contents[0]!.transport, { kind: 'ibb', sid: (accept.jingle.contents[0]!.transport as { sid: string }).sid, blockSize: 2048 });
    const sizes = net.log.flatMap((r) => { const d = r.iq.getChild('data', 'http://jabber.org/protocol/ibb'); return d ? [Buffer.from(d.text(), 'base64').length] : []; });
    assert.equal(Math.max(...sizes), 2048);
    assert.equal(sizes.length, Math.ceil(data.length / 2048));
  });

  it('ends with media-error when the hash does not match', async () => {
    const lying: HasherFactory = (algo) => { const h = webCryptoHasher(algo); return { update: h.update, digest: async () => new Uint8Array(32) }; };
    const { a, b, ftA } = setup({ hasher: lying }, {});
    const end = await transfer(a, b, ftA, new Uint8Array(randomBytes(10_000)));
    assert.equal(end.receiver.condition, 'media-error');
    assert.equal(end.sender.condition, 'media-error');
    assert.equal(end.verified, undefined);
  });
});

describe('file transfer over SOCKS5 (XEP-0260/XEP-0065)', () => {
  const socks5 = { port: nodeSocks5(), hosts: ['127.0.0.1'], connectTimeoutMs: 2000 };

  it('moves 5 MiB over a direct loopback connection, hash checked', async () => {
    const { a, b, ftA, net } = setup({ socks5, hasher: nodeHasher }, { socks5, hasher: nodeHasher });
    const data = new Uint8Array(randomBytes(5 * MiB));
    const t0 = performance.now();
    const end = await transfer(a, b, ftA, data);
    const ms = performance.now() - t0;
    assert.equal(end.method, 's5b');
    assert.equal(end.receiver.condition, 'success');
    assert.equal(end.sender.condition, 'success');
    assert.equal(end.verified, 'sha-256');
    assert.equal(sha256(end.data), sha256(data));
    assert.equal(end.progress.at(-1), data.length);
    assert.ok(!net.log.some((r) => r.iq.getChild('data', 'http://jabber.org/protocol/ibb')), 'no byte went in-band');
    // Both offered a direct candidate on 127.0.0.1 and both reported candidate-used.
    for (const [who, action] of [[ALICE, 'session-initiate'], [BOB, 'session-accept']] as const) {
      const j = parseJingle(jingles(net, who, action)[0]!);
      assert.ok(j.ok);
      const t = j.jingle.contents[0]!.transport;
      assert.ok(t?.kind === 's5b');
      assert.equal(t.candidates?.[0]?.host, '127.0.0.1');
      assert.equal(t.candidates?.[0]?.type, 'direct');
      assert.equal(t.candidates?.[0]?.jid, who);
      const expected = createHash('sha1').update(t.sid + who + (who === ALICE ? BOB : ALICE)).digest('hex');
      assert.equal(t.dstaddr, expected, 'XEP-0260 §2.2 dstaddr: sid + offerer + other');
    }
    for (const who of [ALICE, BOB]) {
      const info = parseJingle(jingles(net, who, 'transport-info')[0]!);
      assert.ok(info.ok);
      const t = info.jingle.contents[0]!.transport;
      assert.ok(t?.kind === 's5b' && t.candidateUsed !== undefined, `${who} reports candidate-used`);
    }
    console.log(`  SOCKS5 5 MiB: ${ms.toFixed(0)} ms`);
  });

  it('falls back to IBB through transport-replace when no candidate connects (XEP-0260 §3)', async () => {
    const firewalled: Socks5Port = { listen: (h, d) => socks5.port.listen(h, d), connect: () => Promise.reject(new Error('ECONNREFUSED')) };
    const opts = { socks5: { ...socks5, port: firewalled } };
    const { a, b, ftA, net } = setup(opts, opts);
    const data = new Uint8Array(randomBytes(200_000));
    const end = await transfer(a, b, ftA, data);
    assert.equal(end.receiver.condition, 'success');
    assert.equal(end.method, 'ibb');
    assert.equal(sha256(end.data), sha256(data));
    const flow = actions(net.log).filter((l) => !l.endsWith('result'));
    assert.deepEqual(flow.slice(0, 2), ['alice session-initiate', 'bob session-accept']);
    assert.deepEqual(flow.slice(2, 4).sort(), ['alice transport-info', 'bob transport-info'], 'both report, in either order');
    assert.deepEqual(flow.slice(4, 6), ['alice transport-replace', 'bob transport-accept']);
    const errors = [...jingles(net, ALICE, 'transport-info'), ...jingles(net, BOB, 'transport-info')].map((j) => j.getChild('content')!.getChild('transport')!.getChild('candidate-error'));
    assert.ok(errors.every((e) => e !== undefined), 'both report candidate-error');
    const replace = parseJingle(jingles(net, ALICE, 'transport-replace')[0]!);
    assert.ok(replace.ok);
    assert.equal(replace.jingle.contents[0]!.transport?.kind, 'ibb');
  });

  it('falls back to IBB when the receiver has no SOCKS5 at all', async () => {
    const { a, b, ftA } = setup({ socks5 }, {});
    const data = new Uint8Array(randomBytes(30_000));
    const end = await transfer(a, b, ftA, data, 's5b');
    assert.equal(end.receiver.condition, 'success');
    assert.equal(end.method, 'ibb');
  });
});

describe('receiving from a sender that announces hash-used and sends a checksum later (as StanzaJS does)', () => {
  it('verifies against the checksum session-info', async () => {
    const b = new JingleManager({ selfID: BOB });
    registerFileTransfer(b, {});
    const out: Element[] = [];
    b.on('send', (iq) => out.push(iq));
    const received = new Promise<{ algo: string | undefined; reason: string }>((resolve) => {
      b.on('incoming', (s) => {
        let algo: string | undefined;
        s.on('received' as never, (e: { verified?: { algo: string } }) => (algo = e.verified?.algo));
        s.on('terminated', ({ reason }) => resolve({ algo, reason: reason.condition }));
        void (s as Session).accept();
      });
    });
    const data = new Uint8Array(randomBytes(3000));
    const feed = (payload: Element, id: string) => b.process(parseElement(xml('iq', { type: 'set', id, from: ALICE, to: BOB }, payload).toString()) as Element);
    feed(writeJingle({
      action: 'session-initiate', sid: 'ft1', initiator: ALICE,
      contents: [{ creator: 'initiator', name: 'f', senders: 'initiator', description: { kind: 'file-transfer', file: { name: 'x.bin', size: data.length, hashesUsed: ['sha-1'] } }, transport: { kind: 'ibb', sid: 'ibb1', blockSize: 1024 } }],
    }), 'i1');
    await new Promise((r) => setImmediate(r));
    feed(writeIbb({ kind: 'open', sid: 'ibb1', blockSize: 1024 }), 'o1');
    for (let i = 0; i * 1024 < data.length; i++) feed(writeIbb({ kind: 'data', sid: 'ibb1', seq: i, data: bytesToBase64(data.subarray(i * 1024, (i + 1) * 1024)) }), `d${i}`);
    feed(writeIbb({ kind: 'close', sid: 'ibb1' }), 'c1');
    await new Promise((r) => setImmediate(r));
    feed(writeJingle({ action: 'session-info', sid: 'ft1', contents: [], info: { kind: 'checksum', creator: 'initiator', name: 'f', file: { hashes: [{ algo: 'sha-1', value: createHash('sha1').update(data).digest('base64') }] } } }), 'k1');
    const r = await received;
    assert.deepEqual(r, { algo: 'sha-1', reason: 'success' });
    const errors = out.filter((iq) => iq.attrs.type === 'error');
    assert.deepEqual(errors, [], 'every iq acknowledged');
    // initiate, open, three data, close, checksum
    assert.equal(out.filter((iq) => iq.attrs.type === 'result').length, 7);
    const accept = out.find((iq) => iq.getChild('jingle')?.attrs.action === 'session-accept')!;
    assert.equal(accept.getChild('jingle')!.getChild('content')!.getChild('transport', NS_JINGLE_IBB)!.attrs['block-size'], '1024');
    assert.ok(accept.getChild('jingle', NS_JINGLE)!.getChild('content')!.getChild('description', NS_JINGLE_FT));
  });

  it('passes IBB for a sid no session owns, for another module (or the client default) to answer', () => {
    const b = new JingleManager({ selfID: BOB });
    registerFileTransfer(b, {});
    const out: Element[] = [];
    b.on('send', (iq) => out.push(iq));
    assert.equal(b.process(xml('iq', { type: 'set', id: 'x', from: ALICE, to: BOB }, writeIbb({ kind: 'data', sid: 'nope', seq: 0, data: '' }))), 'pass');
    assert.equal(out.length, 0, 'not ours: the client answers service-unavailable as for any unhandled iq');
  });
});
