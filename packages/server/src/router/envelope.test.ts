import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseElement, xml, type Element } from '@switchboard/xml';
import {
  decodeEnvelope,
  encodeEnvelope,
  failedReply,
  readControl,
  sessionControl,
  sessionsControl,
  END_REASONS,
  type Envelope,
} from './envelope.ts';
import { InProcessRouter } from './in-process.ts';

function wireRoundTrip(envelope: Envelope): Envelope {
  const text = encodeEnvelope(envelope).toString();
  const parsed = parseElement(text);
  assert.ok(!('condition' in parsed), 'the wire form parses');
  const decoded = decodeEnvelope(parsed as Element);
  assert.ok(decoded);
  return decoded;
}

describe('envelope codec', () => {
  it('round-trips a stanza envelope with both session ids', () => {
    const stanza = xml('message', { to: 'bob@localhost', from: 'alice@localhost/a', type: 'chat' }, xml('body', {}, 'a < b & "c"'));
    const back = wireRoundTrip({ to: 'sm', from: 'c2s/1', c2s: 'c1', sm: 's1', payload: stanza });
    assert.equal(back.to, 'sm');
    assert.equal(back.from, 'c2s/1');
    assert.equal(back.c2s, 'c1');
    assert.equal(back.sm, 's1');
    assert.equal(back.payload.toString(), stanza.toString());
    assert.equal(readControl(back.payload), undefined, 'a stanza is not a control');
  });

  it('round-trips a stanza one shard passed on to its owner (forwarded), and leaves it off otherwise', () => {
    const stanza = xml('message', { to: 'bob@localhost', from: 'alice@localhost/a', type: 'chat' });
    assert.equal(wireRoundTrip({ to: 'sm/shard-1', from: 'sm/shard-0', payload: stanza, forwarded: true }).forwarded, true);
    assert.equal(wireRoundTrip({ to: 'sm/shard-1', from: 'sm/shard-0', payload: stanza }).forwarded, undefined);
    assert.equal(encodeEnvelope({ to: 'sm/shard-1', from: 'sm/shard-0', payload: stanza }).attrs.forwarded, undefined);
  });

  for (const action of ['start', 'started', 'end', 'ended'] as const) {
    it(`round-trips sm:session ${action}`, () => {
      const back = wireRoundTrip({ to: 'sm', from: 'c2s/1', c2s: 'c1', payload: sessionControl(action, 'alice@localhost/r') });
      assert.deepEqual(readControl(back.payload), { ns: 'session', action, target: 'alice@localhost/r', failed: false });
    });
  }

  for (const action of ['create', 'created', 'delete', 'deleted'] as const) {
    it(`round-trips sm:sessions ${action}`, () => {
      const back = wireRoundTrip({ to: 'sm', from: 'c2s/1', payload: sessionsControl(action, 'alice@localhost') });
      assert.deepEqual(readControl(back.payload), { ns: 'sessions', action, target: 'alice@localhost', failed: false });
    });
  }

  it("round-trips the Bind 2 requests in start and the <bound/> children in started (XEP-0386, XEP-0313 metadata)", () => {
    const request = [xml('enable', { xmlns: 'urn:xmpp:carbons:2' }), xml('metadata', { xmlns: 'urn:xmpp:mam:2' })];
    const start = readControl(wireRoundTrip({ to: 'sm', from: 'c2s/1', c2s: 'c1', payload: sessionControl('start', 'a@b/c', { features: request }) }).payload);
    assert.deepEqual(start?.ns === 'session' && start.features?.map((f) => f.toString()), request.map((f) => f.toString()));
    const metadata = xml('metadata', { xmlns: 'urn:xmpp:mam:2' }, xml('start', { id: 'x1', timestamp: '2026-01-01T00:00:00.000Z' }), xml('end', { id: 'x9', timestamp: '2026-01-02T00:00:00.000Z' }));
    const started = readControl(wireRoundTrip({ to: 'c2s/1', from: 'sm', c2s: 'c1', sm: 's1', payload: sessionControl('started', 'a@b/c', { bound: [metadata] }) }).payload);
    assert.deepEqual(started?.ns === 'session' && started.bound?.map((f) => f.toString()), [metadata.toString()]);
  });

  it('carries every end reason', () => {
    for (const reason of END_REASONS) {
      const back = wireRoundTrip({ to: 'c2s/1', from: 'sm', c2s: 'c1', sm: 's1', payload: sessionControl('ended', 'a@b/c', { reason }) });
      assert.equal(readControl(back.payload)?.ns === 'session' && (readControl(back.payload) as { reason?: string }).reason, reason);
    }
  });

  it('answers a failed action with failed=1 to the sender, and never answers a failure', () => {
    const request: Envelope = { to: 'sm', from: 'c2s/1', c2s: 'c1', payload: sessionControl('start', 'x@localhost/r') };
    const control = readControl(request.payload)!;
    const reply = failedReply(request, control)!;
    assert.equal(reply.to, 'c2s/1');
    assert.equal(reply.from, 'sm');
    assert.equal(reply.c2s, 'c1');
    const replyControl = readControl(reply.payload)!;
    assert.equal(replyControl.failed, true);
    assert.equal(failedReply(reply, replyControl), undefined, 'no bounce');
  });

  it('rejects malformed envelopes and unknown actions', () => {
    assert.equal(decodeEnvelope(xml('route', { xmlns: 'urn:switchboard:route', to: 'sm' }, xml('message'))), undefined, 'missing from');
    assert.equal(decodeEnvelope(xml('route', { xmlns: 'urn:switchboard:route', to: 'sm', from: 'x' })), undefined, 'no payload');
    assert.equal(decodeEnvelope(xml('route', { xmlns: 'urn:switchboard:route', to: 'sm', from: 'x' }, xml('a'), xml('b'))), undefined, 'two payloads');
    assert.equal(decodeEnvelope(xml('route', { to: 'sm', from: 'x' }, xml('a'))), undefined, 'wrong namespace');
    assert.equal(readControl(xml('session', { xmlns: 'urn:switchboard:sm:session', action: 'explode', target: 'a' })), undefined);
  });
});

describe('in-process router', () => {
  it('hands envelopes to the attached component by direct call, with the same element', async () => {
    const router = new InProcessRouter();
    const got: Envelope[] = [];
    await router.attach('sm', (e) => got.push(e));
    const payload = xml('message');
    router.route({ to: 'sm', from: 'c2s/1', payload });
    assert.equal(got.length, 1);
    assert.equal(got[0]!.payload, payload, 'no re-serialisation');
    router.route({ to: 'nobody', from: 'c2s/1', payload });
    assert.equal(router.undeliverable, 1);
    await assert.rejects(router.attach('sm', () => {}));
  });
});

describe('fan-out payload', () => {
  it('round-trips the targets and the stanza once', async () => {
    const { fanOutPayload, readFanOut } = await import('./envelope.ts');
    const stanza = xml('message', { from: 'room@conference.localhost/Al', type: 'groupchat' }, xml('body', {}, 'x & y'));
    const targets = [{ jid: 'a@localhost/1', c2s: 'k1', sm: 's1' }, { jid: 'b@localhost/2', c2s: 'k2', sm: 's2' }];
    const back = wireRoundTrip({ to: 'c2s/n', from: 'sm', payload: fanOutPayload(stanza, targets) });
    const fanOut = readFanOut(back.payload);
    assert.ok(fanOut);
    assert.deepEqual(fanOut.targets, targets);
    assert.equal(fanOut.stanza.toString(), stanza.toString());
    assert.equal(readControl(back.payload), undefined, 'a fan-out is not a control');
    // From a service to the sm, the targets carry only JIDs.
    assert.deepEqual(readFanOut(fanOutPayload(stanza, [{ jid: 'a@localhost/1' }]))!.targets, [{ jid: 'a@localhost/1' }]);
  });
});
