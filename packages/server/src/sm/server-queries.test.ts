import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type Element } from '@switchboard/xml';
import { ServerQueries } from './server-queries.ts';

describe('ServerQueries', () => {
  it('sends unpredictable ids and takes an answer only from the entity asked', async () => {
    const q = new ServerQueries('localhost', { timeoutMs: 200 });
    const sent: Element[] = [];
    const answer = q.ask('bob@localhost/pc', xml('query', { xmlns: 'x' }), (iq) => sent.push(iq));
    void q.ask('bob@localhost/phone', xml('query', { xmlns: 'x' }), (iq) => sent.push(iq));
    const [first, second] = sent.map((iq) => iq.attrs.id!);
    assert.match(first!, /^sb-[A-Za-z0-9_-]{16}$/);
    assert.notEqual(first, second);
    // Someone else using the right id, and bob's other resource: not the answer.
    assert.equal(q.answer(xml('iq', { type: 'result', id: first, from: 'mallory@localhost/x' })), false);
    assert.equal(q.answer(xml('iq', { type: 'result', id: first, from: 'bob@localhost/phone' })), false);
    assert.equal(q.answer(xml('iq', { type: 'result', id: first, from: 'bob@localhost/pc' }, xml('query', { xmlns: 'x', node: 'real' }))), true);
    assert.equal((await answer)?.getChild('query')?.attrs.node, 'real');
    assert.equal(q.answer(xml('iq', { type: 'result', id: first, from: 'bob@localhost/pc' })), false, 'answered once');
  });

  it('bounds the queries outstanding to one entity', async () => {
    const q = new ServerQueries('localhost', { timeoutMs: 50, perEntity: 2 });
    let sent = 0;
    const asks = [1, 2, 3].map(() => q.ask('eve@localhost/r', xml('query'), () => sent++));
    assert.equal(sent, 2);
    assert.equal(await asks[2], undefined);
    // The timers are unref'd (they must not hold a stopping server up): keep the loop alive past them.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await Promise.all(asks.slice(0, 2)), [undefined, undefined], 'timed out');
    void q.ask('eve@localhost/r', xml('query'), () => sent++);
    assert.equal(sent, 3, 'a slot is free again after the timeouts');
  });
});
