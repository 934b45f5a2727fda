import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ByteStream } from './bytestream.ts';
import { nodeSocks5 } from './node-socks5.ts';
import { S5bNegotiation, type Socks5Listener, type Socks5Port } from './s5b.ts';
import { candidatePriority } from '../protocol/xep0260.ts';

const ALICE = 'alice@example.org/phone';
const BOB = 'bob@example.org/laptop';

/** One end of an in-memory pipe: the network double for the negotiation tests. */
class MemStream extends ByteStream {
  other!: MemStream;
  destroyed = false;
  private resumed = false;
  private readonly held: Uint8Array[] = [];
  async write(chunk: Uint8Array): Promise<void> { this.other.deliver(chunk); }
  async end(): Promise<void> { this.other.emit('end', undefined); }
  destroy(): void { this.destroyed = true; }
  resume(): void { this.resumed = true; for (const c of this.held.splice(0)) this.emit('data', c); }
  private deliver(c: Uint8Array): void { if (this.resumed) this.emit('data', c); else this.held.push(c); }
}

function memNetwork(unreachable: Set<string> = new Set()): Socks5Port {
  const hosts = new Map<string, { dstaddr: string; accepted: ByteStream[] }>();
  let nextPort = 1000;
  return {
    async listen(host, dstaddr): Promise<Socks5Listener> {
      const port = nextPort++;
      const accepted: ByteStream[] = [];
      hosts.set(`${host}:${port}`, { dstaddr, accepted });
      return { host, port, accepted, close: () => {} };
    },
    async connect(host, port, dstaddr) {
      const entry = hosts.get(`${host}:${port}`);
      if (!entry || unreachable.has(host)) throw new Error('unreachable');
      if (entry.dstaddr !== dstaddr) throw new Error('refused: wrong DST.ADDR');
      const a = new MemStream();
      const b = new MemStream();
      a.other = b;
      b.other = a;
      entry.accepted.push(b);
      return a;
    },
  };
}

async function negotiate(port: Socks5Port, hostsA: string[], hostsB: string[]) {
  const nA = new S5bNegotiation({ port, hosts: hostsA }, ALICE, BOB, true, 'tsid');
  const nB = new S5bNegotiation({ port, hosts: hostsB }, BOB, ALICE, false, 'tsid');
  const tA = await nA.offer();
  const tB = await nB.offer();
  const [rA, rB] = await Promise.all([nA.connect(tB), nB.connect(tA)]);
  nA.remoteReport(rB);
  nB.remoteReport(rA);
  return { tA, tB, rA, rB, selA: await nA.selection, selB: await nB.selection };
}

describe('XEP-0260 candidate selection (§2.4)', () => {
  it('offers direct candidates with descending priorities and the sid+offerer+other dstaddr', async () => {
    const n = new S5bNegotiation({ port: memNetwork(), hosts: ['10.0.0.1', '10.0.0.2'] }, ALICE, BOB, true, 'tsid');
    const t = await n.offer();
    assert.equal(t.dstaddr, createHash('sha1').update(`tsid${ALICE}${BOB}`).digest('hex'));
    assert.deepEqual(t.candidates!.map((c) => [c.host, c.type, c.priority, c.jid]), [
      ['10.0.0.1', 'direct', candidatePriority('direct', 65535), ALICE],
      ['10.0.0.2', 'direct', candidatePriority('direct', 65534), ALICE],
    ]);
    n.close();
  });

  it('equal priorities: both sides use the candidate the initiator connected to', async () => {
    const { tB, rA, rB, selA, selB } = await negotiate(memNetwork(), ['a1'], ['b1']);
    assert.ok(rA.candidateUsed && rB.candidateUsed);
    assert.equal(selA?.candidate.cid, tB.candidates![0]!.cid);
    assert.equal(selB?.candidate.cid, tB.candidates![0]!.cid);
    assert.equal(selA?.ours, false);
    assert.equal(selB?.ours, true);
    const got: number[] = [];
    selB!.stream.on('data', (c) => got.push(...c));
    selB!.stream.resume();
    await selA!.stream.write(Uint8Array.of(1, 2, 3));
    assert.deepEqual(got, [1, 2, 3], 'the two ends of the same connection');
  });

  it('different priorities: the higher one wins on both sides', async () => {
    // Bob cannot reach alice's preferred a1, so he uses a2 (lower); alice reaches b1 (higher than a2).
    const { tB, selA, selB } = await negotiate(memNetwork(new Set(['a1'])), ['a1', 'a2'], ['b1']);
    assert.equal(selA?.candidate.cid, tB.candidates![0]!.cid);
    assert.equal(selB?.candidate.cid, tB.candidates![0]!.cid);
    const { tA, selA: s2, selB: s3 } = await negotiate(memNetwork(new Set(['b1'])), ['a1'], ['b1', 'b2']);
    // Alice can only use b2 (lower); Bob uses a1 (higher): a1 wins on both sides.
    assert.equal(s2?.candidate.cid, tA.candidates![0]!.cid);
    assert.equal(s3?.candidate.cid, tA.candidates![0]!.cid);
    assert.equal(s2?.ours, true);
  });

  it('one side used, the other error: the used candidate; both error: no stream', async () => {
    const { tA, rA, rB, selA, selB } = await negotiate(memNetwork(new Set(['b1'])), ['a1'], ['b1']);
    assert.ok(rA.candidateError);
    assert.ok(rB.candidateUsed);
    assert.equal(selA?.candidate.cid, tA.candidates![0]!.cid);
    assert.equal(selB?.candidate.cid, tA.candidates![0]!.cid);
    const none = await negotiate(memNetwork(new Set(['a1', 'b1'])), ['a1'], ['b1']);
    assert.ok(none.rA.candidateError && none.rB.candidateError);
    assert.equal(none.selA, undefined);
    assert.equal(none.selB, undefined);
  });

  it('skips proxy candidates (they need XEP-0065 activation, which we do not do)', async () => {
    const n = new S5bNegotiation({ port: memNetwork(), hosts: [] }, ALICE, BOB, true, 'tsid');
    const r = await n.connect({ kind: 's5b', sid: 'tsid', candidates: [{ cid: 'p', host: 'proxy.example', jid: 'proxy.example', port: 7777, priority: candidatePriority('proxy'), type: 'proxy' }] });
    assert.deepEqual(r, { kind: 's5b', sid: 'tsid', candidateError: true });
    n.close();
  });
});

describe('SOCKS5 over node:net (XEP-0065 §5.3.2)', () => {
  it('accepts only CONNECTs to the expected DST.ADDR and keeps data until resumed', async () => {
    const port = nodeSocks5();
    const dst = createHash('sha1').update('x').digest('hex');
    const listener = await port.listen('127.0.0.1', dst);
    assert.ok(listener.port > 0);
    await assert.rejects(port.connect('127.0.0.1', listener.port, 'f'.repeat(40), 1000), /refused/);
    const client = await port.connect('127.0.0.1', listener.port, dst, 1000);
    await client.write(new TextEncoder().encode('early bytes'));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(listener.accepted.length, 1);
    const server = listener.accepted[0]!;
    const got = new Promise<string>((resolve) => server.on('data', (c) => resolve(new TextDecoder().decode(c))));
    server.resume();
    assert.equal(await got, 'early bytes');
    const back = new Promise<string>((resolve) => client.on('data', (c) => resolve(new TextDecoder().decode(c))));
    client.resume();
    await server.write(new TextEncoder().encode('reply'));
    assert.equal(await back, 'reply');
    client.destroy();
    server.destroy();
    listener.close();
  });

  it('fails fast on a closed port', async () => {
    const port = nodeSocks5();
    const listener = await port.listen('127.0.0.1', 'a'.repeat(40));
    const closedPort = listener.port;
    listener.close();
    await new Promise((r) => setTimeout(r, 10));
    await assert.rejects(port.connect('127.0.0.1', closedPort, 'a'.repeat(40), 1000));
  });
});
