import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jid } from '@switchboard/jid';
import { Element, parseElement, xml } from '@switchboard/xml';
import { REASON_CONDITIONS, jingleError, jingleErrorCondition, parseJingle, type Jingle, type Reason, type ReasonCondition } from './protocol/xep0166.ts';
import { Session } from './session.ts';
import type { StanzaError } from '@switchboard/protocol';
import { NS_JINGLE } from './namespaces.ts';
import { StubSession, stubContent } from './test-wire.ts';

const BOB = 'bob@example.org/laptop';

function sent(s: Session): Element[] {
  const out: Element[] = [];
  s.on('send', (iq) => out.push(iq));
  return out;
}

function jingle(action: Jingle['action'], sid: string, extra: Partial<Jingle> = {}): Jingle {
  return { action, sid, contents: [], ...extra };
}

function answers(): { cb: (err?: StanzaError) => void; got: (StanzaError | undefined)[] } {
  const got: (StanzaError | undefined)[] = [];
  return { cb: (err) => got.push(err), got };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Session', () => {
  it('takes its peer as a string or a JID and exposes states as flags', () => {
    const s = new Session({ peer: jid(BOB), initiator: false, descriptionTypes: ['urn:a'], transportTypes: ['urn:t'] });
    assert.equal(s.peerID, BOB);
    assert.equal(s.isInitiator, false);
    assert.ok(s.starting && !s.pending && !s.active && !s.ended);
    assert.equal(s.connectionState, 'starting');
    assert.ok(!s.connecting && !s.connected && !s.disconnected && !s.interrupted);
    assert.deepEqual(s.pendingDescriptionTypes, ['urn:a']);
    assert.match(s.sid, /^[0-9a-f]{16}$/);
  });

  it('send() emits a complete iq: to, type set, an id, jingle with sid and action', async () => {
    const s = new Session({ peer: BOB, initiator: true, sid: 's1' });
    const out = sent(s);
    void s.send('session-info');
    assert.equal(out.length, 1);
    const iq = out[0]!;
    assert.equal(iq.attrs.to, BOB);
    assert.equal(iq.attrs.type, 'set');
    assert.ok(iq.attrs.id);
    const parsed = parseJingle(iq.getChild('jingle', NS_JINGLE)!);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.jingle, { action: 'session-info', sid: 's1', contents: [] });
  });

  it('tracks the action awaiting an answer and clears it on the result', () => {
    const s = new Session({ peer: BOB, initiator: true });
    const out = sent(s);
    void s.send('content-add', { contents: [stubContent('x')] });
    assert.equal(s.pendingAction, 'content-add');
    assert.equal(s.handleResponse(xml('iq', { type: 'result', id: out[0]!.attrs.id, from: 'someone@else/x' })), false, 'only the peer may answer');
    assert.equal(s.handleResponse(xml('iq', { type: 'result', id: out[0]!.attrs.id, from: BOB })), true);
    assert.equal(s.pendingAction, undefined);
    void s.send('session-info');
    assert.equal(s.pendingAction, undefined, 'informational actions cannot tie');
  });

  it('start() goes starting → pending and sends session-initiate; a tie-break answer ends it as alternative-session', async () => {
    const s = new StubSession({ peer: BOB, initiator: true });
    const out = sent(s);
    const states: string[] = [];
    s.on('state', ({ to }) => states.push(to));
    await s.start();
    assert.ok(s.pending);
    assert.deepEqual(s.pendingDescriptionTypes, ['urn:example:jingle:stub:0']);
    s.handleResponse(xml('iq', { type: 'error', id: out[0]!.attrs.id, from: BOB }, xml('error', { type: 'cancel' },
      xml('conflict', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }), xml('tie-break', { xmlns: 'urn:xmpp:jingle:errors:1' }))));
    assert.ok(s.ended);
    assert.equal(s.endReason?.condition, 'alternative-session');
    assert.equal(out.length, 1, 'silently: the peer has no session to terminate');
    assert.deepEqual(states, ['pending', 'ended']);
  });

  it('runs queued actions one at a time in arrival order, acking each through its cb', async () => {
    const s = new StubSession({ peer: BOB, initiator: false, sid: 'q' });
    s.slowMs = 20;
    const a = answers();
    s.process('session-initiate', jingle('session-initiate', 'q', { contents: [stubContent()] }), a.cb);
    s.process('transport-info', jingle('transport-info', 'q', { contents: [{ creator: 'initiator', name: 'first' }] }), a.cb);
    s.process('transport-info', jingle('transport-info', 'q', { contents: [{ creator: 'initiator', name: 'second' }] }), a.cb);
    s.process('session-info', jingle('session-info', 'q', { info: { kind: 'rtp-info', type: 'ringing' } }), a.cb);
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(s.handled, ['transport-info first', 'transport-info second']);
    assert.equal(s.maxRunning, 1);
    assert.equal(a.got.length, 4);
    assert.deepEqual(a.got.slice(0, 3), [undefined, undefined, undefined]);
    assert.equal(jingleErrorCondition(a.got[3]), 'unsupported-info', '§6.8: unknown info payload');
    assert.ok(s.pending);
  });

  it('answers an empty session-info (a ping) and refuses unknown informational actions', async () => {
    const s = new Session({ peer: BOB, initiator: false, sid: 'p' });
    const a = answers();
    s.process('session-info', jingle('session-info', 'p'), a.cb);
    s.process('description-info', jingle('description-info', 'p'), a.cb);
    s.process('security-info', jingle('security-info', 'p'), a.cb);
    s.process('transport-info', jingle('transport-info', 'p'), a.cb);
    s.process('transport-accept', jingle('transport-accept', 'p'), a.cb);
    s.process('content-modify', jingle('content-modify', 'p'), a.cb);
    await tick();
    assert.deepEqual(a.got.map(jingleErrorCondition), [undefined, 'unsupported-info', 'unsupported-info', 'unsupported-info', 'out-of-order', 'unknown-content']);
    assert.equal(a.got[0], undefined);
  });

  it('answers content-add and transport-replace after the ack with a reject (§7.2.2, §7.2.15)', async () => {
    const s = new Session({ peer: BOB, initiator: false, sid: 'r' });
    const out = sent(s);
    const order: string[] = [];
    s.on('send', (iq) => order.push(iq.getChild('jingle')!.attrs.action!));
    s.process('content-add', jingle('content-add', 'r', { contents: [stubContent('v', 'initiator')] }), () => order.push('ack'));
    s.process('transport-replace', jingle('transport-replace', 'r', { contents: [stubContent('v', 'initiator')] }), () => order.push('ack'));
    await tick();
    assert.deepEqual(order, ['ack', 'content-reject', 'ack', 'transport-reject']);
    const reject = parseJingle(out[0]!.getChild('jingle')!);
    assert.ok(reject.ok);
    assert.equal(reject.jingle.reason?.condition, 'failed-application');
  });

  it('end() sends session-terminate once, answers queued actions with unknown-session, and refuses more', async () => {
    const s = new StubSession({ peer: BOB, initiator: false, sid: 'e' });
    const out = sent(s);
    const ends: string[] = [];
    s.on('terminated', ({ reason, by }) => ends.push(`${reason.condition} ${by}`));
    s.slowMs = 20;
    const a = answers();
    s.process('transport-info', jingle('transport-info', 'e', { contents: [{ creator: 'initiator', name: 'first' }] }), a.cb);
    s.process('transport-info', jingle('transport-info', 'e', { contents: [{ creator: 'initiator', name: 'queued' }] }), a.cb);
    s.end({ condition: 'busy', text: 'in a call' });
    s.end('success');
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(out.map((iq) => iq.getChild('jingle')!.attrs.action), ['session-terminate']);
    assert.deepEqual(ends, ['busy local']);
    assert.equal(jingleErrorCondition(a.got[0]), 'unknown-session', 'the queued one');
    assert.equal(a.got[1], undefined, 'the running one finishes');
    s.process('session-info', jingle('session-info', 'e'), a.cb);
    assert.equal(jingleErrorCondition(a.got[2]), 'unknown-session');
    assert.ok(s.disconnected);
  });

  it('a peer terminate ends the session with the peer\'s reason', async () => {
    const s = new Session({ peer: BOB, initiator: true, sid: 't' });
    const ends: string[] = [];
    s.on('terminated', ({ reason, by }) => ends.push(`${reason.condition} ${reason.text} ${by}`));
    const a = answers();
    s.process('session-terminate', jingle('session-terminate', 't', { reason: { condition: 'decline', text: 'no thanks' } }), a.cb);
    await tick();
    assert.deepEqual(a.got, [undefined]);
    assert.deepEqual(ends, ['decline no thanks peer']);
  });

  it('cancel() and decline() terminate with their reasons; accept() of the base class with unsupported-applications', async () => {
    for (const [verb, condition] of [['cancel', 'cancel'], ['decline', 'decline'], ['accept', 'unsupported-applications']] as const) {
      const s = new Session({ peer: BOB, initiator: verb === 'cancel', sid: verb });
      const out = sent(s);
      await (verb === 'accept' ? s.accept() : s[verb]());
      const j = parseJingle(out[0]!.getChild('jingle')!);
      assert.ok(j.ok);
      assert.equal(j.jingle.reason?.condition, condition, verb);
    }
  });

  it('refuses a reason outside the XEP-0166 list', () => {
    const s = new Session({ peer: BOB, initiator: true });
    assert.throws(() => s.end('whatever' as never), RangeError);
    assert.ok(!s.ended);
  });

  it('reports a handler that throws as internal-server-error and moves on', async () => {
    class Broken extends Session {
      protected override onTransportInfo(): void { throw new Error('boom'); }
    }
    const s = new Broken({ peer: BOB, initiator: true, sid: 'b' });
    const a = answers();
    s.process('transport-info', jingle('transport-info', 'b'), a.cb);
    s.process('session-info', jingle('session-info', 'b'), a.cb);
    await tick();
    assert.equal(a.got[0]?.condition, 'internal-server-error');
    assert.equal(a.got[1], undefined);
  });

  it('jingleError is what cb(err) carries', () => {
    assert.equal(jingleErrorCondition(jingleError('tie-break')), 'tie-break');
  });
});

describe('Session: every terminate reason (XEP-0166 §7.4)', () => {
  const RTP_ERRORS = 'urn:xmpp:jingle:apps:rtp:errors:1';
  /** Three shapes per condition: bare, with text, and with its extra (the alternative sid, or an application condition). */
  const shapes = (condition: ReasonCondition): Reason[] => [
    { condition },
    { condition, text: `because ${condition}` },
    condition === 'alternative-session'
      ? { condition, alternativeSession: 'b84tkkwlmb48kgfb', text: 'use the other one' }
      : { condition, text: 'with detail', application: xml('crypto-required', { xmlns: RTP_ERRORS }) },
  ];
  const comparable = (r: Reason | undefined) => r && { ...r, application: r.application?.toString() };

  it('end(reason) sends a session-terminate whose parse gives the same reason; a peer processing it ends with that reason', async () => {
    let checked = 0;
    for (const condition of REASON_CONDITIONS) {
      for (const reason of shapes(condition)) {
        const local = new Session({ peer: BOB, initiator: true, sid: 'r1' });
        const out = sent(local);
        const localEnds: { reason: Reason; by: string }[] = [];
        local.on('terminated', (e) => localEnds.push(e));
        local.end(reason);
        assert.equal(out.length, 1);
        const onWire = parseElement(out[0]!.toString());
        assert.ok(onWire instanceof Element);
        const parsed = parseJingle(onWire.getChild('jingle', NS_JINGLE)!);
        assert.ok(parsed.ok);
        assert.equal(parsed.jingle.action, 'session-terminate');
        assert.deepEqual(comparable(parsed.jingle.reason), comparable(reason), `${condition} on the wire`);
        assert.deepEqual(localEnds.map((e) => [comparable(e.reason), e.by]), [[comparable(reason), 'local']]);
        assert.deepEqual(local.endReason, reason);

        const remote = new Session({ peer: 'alice@example.org/phone', initiator: false, sid: 'r1' });
        const remoteEnds: { reason: Reason; by: string }[] = [];
        remote.on('terminated', (e) => remoteEnds.push(e));
        const a = answers();
        remote.process('session-terminate', parsed.jingle, a.cb);
        await tick();
        assert.deepEqual(a.got, [undefined], 'acknowledged');
        assert.deepEqual(remoteEnds.map((e) => [comparable(e.reason), e.by]), [[comparable(reason), 'peer']], `${condition} at the peer`);
        assert.ok(remote.ended && remote.disconnected);
        checked++;
      }
    }
    assert.equal(checked, 17 * 3);
  });

  it('a session-terminate without <reason/> ends the peer with success; end() with no argument says success', async () => {
    const remote = new Session({ peer: BOB, initiator: false, sid: 'n' });
    const a = answers();
    remote.process('session-terminate', jingle('session-terminate', 'n'), a.cb);
    await tick();
    assert.deepEqual(remote.endReason, { condition: 'success' });
    const local = new Session({ peer: BOB, initiator: true, sid: 'n2' });
    const out = sent(local);
    local.end();
    assert.equal(out[0]!.getChild('jingle')!.getChild('reason')!.toString(), '<reason><success/></reason>');
  });

  it('a silent end (lost tie, connection gone) sends nothing but still reports the reason', () => {
    const s = new Session({ peer: BOB, initiator: true, sid: 'q' });
    const out = sent(s);
    const ends: string[] = [];
    s.on('terminated', ({ reason, by }) => ends.push(`${reason.condition} ${reason.alternativeSession} ${by}`));
    s.end({ condition: 'alternative-session', alternativeSession: 'other' }, true);
    assert.equal(out.length, 0);
    assert.deepEqual(ends, ['alternative-session other local']);
  });
});

describe('Session: queue ordering', () => {
  it('runs a local accept() in its turn: after the remote actions before it, before those after it', async () => {
    const s = new StubSession({ peer: BOB, initiator: false, sid: 'lq' });
    s.slowMs = 20;
    const order: string[] = [];
    s.on('send', (iq) => order.push(`send ${iq.getChild('jingle')!.attrs.action}`));
    s.process('session-initiate', jingle('session-initiate', 'lq', { contents: [stubContent()] }), () => order.push('ack initiate'));
    s.process('transport-info', jingle('transport-info', 'lq', { contents: [{ creator: 'initiator', name: 'first' }] }), () => order.push('ack first'));
    const accepted = s.accept();
    s.process('transport-info', jingle('transport-info', 'lq', { contents: [{ creator: 'initiator', name: 'second' }] }), () => order.push('ack second'));
    await accepted;
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(order, ['ack initiate', 'ack first', 'send session-accept', 'ack second']);
    assert.equal(s.maxRunning, 1);
  });

  it('answers every action still queued when the peer terminates with unknown-session, in order', async () => {
    const s = new StubSession({ peer: BOB, initiator: false, sid: 'tq' });
    s.slowMs = 20;
    const a = answers();
    s.process('transport-info', jingle('transport-info', 'tq', { contents: [{ creator: 'initiator', name: 'first' }] }), a.cb);
    s.process('session-terminate', jingle('session-terminate', 'tq', { reason: { condition: 'cancel' } }), a.cb);
    s.process('transport-info', jingle('transport-info', 'tq', { contents: [{ creator: 'initiator', name: 'late' }] }), a.cb);
    s.process('session-info', jingle('session-info', 'tq'), a.cb);
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(a.got.map((e) => (e ? jingleErrorCondition(e) : 'ok')), ['ok', 'ok', 'unknown-session', 'unknown-session']);
    assert.deepEqual(s.handled, ['transport-info first']);
    assert.equal(s.endReason?.condition, 'cancel');
  });
});
