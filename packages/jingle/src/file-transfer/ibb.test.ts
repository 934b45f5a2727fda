import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from '@switchboard/xml';
import { stanzaError, type StanzaError } from '@switchboard/protocol';
import { bytesToBase64 } from '../protocol/base64.ts';
import { parseIbb, type IbbPayload } from '../protocol/xep0047.ts';
import type { Response } from '../session.ts';
import { IbbReceiver, IbbSender } from './ibb.ts';

/** A sender wired straight to a receiver: each request is answered by the receiver's verdict. */
function link(receiver: IbbReceiver): { requests: IbbPayload[]; request: (el: Element) => Promise<Response> } {
  const requests: IbbPayload[] = [];
  return {
    requests,
    request: async (el) => {
      const p = parseIbb(el)!;
      requests.push(p);
      const err = receiver.handle(p);
      return err ? { ok: false, error: err } : { ok: true, iq: el };
    },
  };
}

function collect(r: IbbReceiver): { data: number[]; errors: string[]; ended: boolean } {
  const out = { data: [] as number[], errors: [] as string[], ended: false };
  r.on('data', (c) => out.data.push(...c));
  r.on('error', (e) => out.errors.push(e));
  r.on('end', () => (out.ended = true));
  r.resume();
  return out;
}

describe('IBB (XEP-0047)', () => {
  it('halves the block-size on resource-constraint until the receiver takes it (§2.1)', async () => {
    const receiver = new IbbReceiver('s1', 1000);
    const got = collect(receiver);
    const { requests, request } = link(receiver);
    const sender = new IbbSender('s1', 4096, request, 1);
    assert.equal(await sender.open(), undefined);
    assert.deepEqual(requests.map((r) => (r.kind === 'open' ? r.blockSize : 0)), [4096, 2048, 1024, 512]);
    const bytes = Uint8Array.from({ length: 1500 }, (_, i) => i % 251);
    await sender.write(bytes);
    await sender.end();
    assert.deepEqual(got.data, [...bytes]);
    assert.ok(got.ended);
    assert.deepEqual(requests.filter((r) => r.kind === 'data').map((r) => (r.kind === 'data' ? r.seq : -1)), [0, 1, 2]);
  });

  it('closes the stream on a seq that is not the next one (§2.2)', () => {
    for (const seqs of [[0, 2], [0, 0], [1]]) {
      const r = new IbbReceiver('s', 4096);
      const got = collect(r);
      r.handle({ kind: 'open', sid: 's', blockSize: 4096 });
      let err: StanzaError | undefined;
      for (const seq of seqs) err = r.handle({ kind: 'data', sid: 's', seq, data: 'AAAA' });
      assert.equal(err?.condition, 'unexpected-request', String(seqs));
      assert.equal(got.errors.length, 1);
      assert.equal(r.handle({ kind: 'data', sid: 's', seq: seqs.length, data: 'AAAA' })?.condition, 'item-not-found', 'the stream is gone');
    }
  });

  it('wraps seq from 65535 to 0', () => {
    const r = new IbbReceiver('s', 16);
    const got = collect(r);
    r.handle({ kind: 'open', sid: 's', blockSize: 16 });
    for (let seq = 0; seq <= 65535; seq++) assert.equal(r.handle({ kind: 'data', sid: 's', seq, data: 'AA==' }), undefined);
    assert.equal(r.handle({ kind: 'data', sid: 's', seq: 0, data: 'AA==' }), undefined);
    assert.equal(got.data.length, 65537);
  });

  it('refuses data before open, oversized blocks, bad base64 and a second open', () => {
    const r = new IbbReceiver('s', 8);
    collect(r);
    assert.equal(r.handle({ kind: 'data', sid: 's', seq: 0, data: 'AA==' })?.condition, 'item-not-found');
    assert.equal(r.handle({ kind: 'open', sid: 's', blockSize: 9 })?.condition, 'resource-constraint');
    assert.equal(r.handle({ kind: 'open', sid: 's', blockSize: 4 }), undefined);
    assert.equal(r.handle({ kind: 'open', sid: 's', blockSize: 4 })?.condition, 'not-acceptable');
    assert.equal(r.handle({ kind: 'data', sid: 's', seq: 0, data: bytesToBase64(new Uint8Array(5)) })?.condition, 'bad-request');
    const r2 = new IbbReceiver('s', 8);
    collect(r2);
    r2.handle({ kind: 'open', sid: 's', blockSize: 8 });
    assert.equal(r2.handle({ kind: 'data', sid: 's', seq: 0, data: '!!!!' })?.condition, 'bad-request');
  });

  it('stops sending when a data iq is refused', async () => {
    let n = 0;
    const sender = new IbbSender('s', 4, async (el) => (++n === 3 ? { ok: false, error: stanzaError('not-acceptable') } : { ok: true, iq: el }), 1);
    const errors: string[] = [];
    sender.on('error', (e) => errors.push(e));
    await sender.open();
    await assert.rejects(sender.write(new Uint8Array(40)), /broken: not-acceptable/);
    assert.equal(n, 3);
    assert.deepEqual(errors, ['data refused: not-acceptable']);
  });
});
