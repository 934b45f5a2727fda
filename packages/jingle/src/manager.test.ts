import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element, xml } from '@switchboard/xml';
import { parseStanzaError } from '@switchboard/protocol';
import { JingleManager } from './manager.ts';
import { NS_JINGLE } from './namespaces.ts';
import { REASON_CONDITIONS, jingleErrorCondition, type Reason } from './protocol/xep0166.ts';
import type { Session } from './session.ts';
import { NS_STUB, StubSession, actions, stubApplication, stubContent, wire, type Wire } from './test-wire.ts';

const ALICE = 'alice@example.org/phone';
const BOB = 'bob@example.org/laptop';

function pair(): { a: JingleManager; b: JingleManager; net: Wire } {
  const a = new JingleManager({ selfID: ALICE });
  const b = new JingleManager({ selfID: BOB });
  a.registerApplication(stubApplication);
  b.registerApplication(stubApplication);
  return { a, b, net: wire(a, b) };
}

/** A pair with one session between them: alice initiated, bob accepted, everything delivered. */
async function established(): Promise<{ a: JingleManager; b: JingleManager; net: Wire; init: StubSession; resp: StubSession }> {
  const { a, b, net } = pair();
  b.on('incoming', (s) => void s.accept());
  const init = a.addSession(new StubSession({ peer: BOB, initiator: true }));
  await init.start();
  await net.settle();
  return { a, b, net, init, resp: b.getSession(ALICE, init.sid) as StubSession };
}

function collect<T>(subscribe: (fn: (v: T) => void) => void): T[] {
  const out: T[] = [];
  subscribe((v) => out.push(v));
  return out;
}

/** Sends a raw iq into a manager and returns what it answers. */
function ask(m: JingleManager, iq: Element): Element[] {
  const out: Element[] = [];
  const off = m.on('send', (e) => out.push(e));
  m.process(iq);
  off();
  return out;
}

describe('JingleManager: a session from start to end', () => {
  it('initiates, acknowledges, accepts and terminates across two managers', async () => {
    const { a, b, net } = pair();
    const incoming = collect<Session>((f) => b.on('incoming', f));
    const outgoing = collect<Session>((f) => a.on('outgoing', f));
    const ended = collect<{ session: Session; reason: Reason }>((f) => b.on('terminated', f));
    b.on('incoming', (s) => void s.accept());
    const mine = a.addSession(new StubSession({ peer: BOB, initiator: true }));
    await mine.start();
    await net.settle();
    assert.equal(outgoing[0], mine);
    assert.equal(incoming.length, 1);
    const theirs = incoming[0]!;
    assert.equal(theirs.sid, mine.sid);
    assert.equal(theirs.peerID, ALICE);
    assert.equal(theirs.isInitiator, false);
    assert.ok(mine.active && theirs.active);
    mine.end('success');
    await net.settle();
    assert.ok(theirs.ended);
    assert.deepEqual(ended[0]?.reason, { condition: 'success' });
    assert.deepEqual(actions(net.log), [
      'alice session-initiate', 'bob result', 'bob session-accept', 'alice result', 'alice session-terminate', 'bob result',
    ]);
    const initiate = net.log[0]!.iq.getChild('jingle')!;
    assert.equal(initiate.attrs.initiator, ALICE);
    assert.equal(net.log[2]!.iq.getChild('jingle')!.attrs.responder, BOB);
    assert.equal(b.getSession(ALICE, mine.sid), undefined, 'the ended session is forgotten');
  });

  it('produces and parses every XEP-0166 terminate reason', async () => {
    const { a, b, net } = pair();
    const seen: Reason[] = [];
    b.on('incoming', (s) => void s.accept());
    b.on('terminated', ({ reason }) => seen.push(reason));
    for (const condition of REASON_CONDITIONS) {
      const s = a.addSession(new StubSession({ peer: BOB, initiator: true }));
      await s.start();
      await net.settle();
      const reason: Reason = condition === 'alternative-session'
        ? { condition, alternativeSession: 'other-sid', text: 'use the other' }
        : { condition, text: `ending: ${condition}` };
      s.end(reason);
      await net.settle();
      assert.deepEqual(seen.at(-1), reason, condition);
    }
    assert.equal(seen.length, 17);
  });

  it('refuses an unsupported application after acknowledging it (§6.3.1)', async () => {
    const { a, net } = pair();
    const mine = a.addSession(new StubSession({ peer: BOB, initiator: true }));
    const description = xml('description', { xmlns: 'urn:example:unknown-app' });
    await mine.start([{ creator: 'initiator', name: 'x', description: { kind: 'unknown', xmlns: 'urn:example:unknown-app', element: description } }]);
    await net.settle();
    assert.deepEqual(actions(net.log), ['alice session-initiate', 'bob result', 'bob session-terminate', 'alice result']);
    assert.equal(mine.endReason?.condition, 'unsupported-applications');
  });

  it('advertises Jingle and the registered applications', () => {
    const { a } = pair();
    assert.deepEqual(a.features(), [NS_JINGLE, NS_STUB]);
    const reply = a.discoInfo(xml('iq', { type: 'get', id: 'd1', from: BOB }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    assert.deepEqual(reply.getChild('query')!.getChildren('feature').map((f) => f.attrs.var), [NS_JINGLE, NS_STUB]);
  });
});

describe('JingleManager: errors (§10)', () => {
  it('answers an action for an unknown session with item-not-found + unknown-session', () => {
    const { b } = pair();
    const iq = xml('iq', { type: 'set', id: 'x1', from: ALICE, to: BOB }, xml('jingle', { xmlns: NS_JINGLE, action: 'transport-info', sid: 'nope' }));
    const [reply] = ask(b, iq);
    assert.equal(reply?.attrs.type, 'error');
    assert.equal(reply?.attrs.to, ALICE);
    const err = parseStanzaError(reply!);
    assert.equal(err?.condition, 'item-not-found');
    assert.equal(jingleErrorCondition(err), 'unknown-session');
    const [ack] = ask(b, xml('iq', { type: 'set', id: 'x2', from: ALICE, to: BOB }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-terminate', sid: 'nope' })));
    assert.equal(ack?.attrs.type, 'result', 'a terminate for a forgotten session is acknowledged');
  });

  it('routes by peer and sid: another JID using the sid reaches no session', async () => {
    const { a, b, net } = pair();
    const mine = a.addSession(new StubSession({ peer: BOB, initiator: true }));
    await mine.start();
    await net.settle();
    const mallory = 'mallory@example.org/x';
    const [info] = ask(b, xml('iq', { type: 'set', id: 'h0', from: mallory, to: BOB }, xml('jingle', { xmlns: NS_JINGLE, action: 'transport-info', sid: mine.sid })));
    assert.equal(jingleErrorCondition(parseStanzaError(info!)), 'unknown-session');
    const [reply] = ask(b, xml('iq', { type: 'set', id: 'h1', from: mallory, to: BOB }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-terminate', sid: mine.sid })));
    assert.equal(reply?.attrs.type, 'result');
    assert.ok(b.getSession(ALICE, mine.sid)?.pending, 'the real session is untouched');
  });

  it('answers session-accept to the responder with out-of-order, and a malformed jingle with bad-request', async () => {
    const { a, b, net } = pair();
    const mine = a.addSession(new StubSession({ peer: BOB, initiator: true }));
    await mine.start();
    await net.settle();
    const [reply] = ask(b, xml('iq', { type: 'set', id: 'o1', from: ALICE, to: BOB }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-accept', sid: mine.sid })));
    assert.equal(jingleErrorCondition(parseStanzaError(reply!)), 'out-of-order');
    assert.equal(parseStanzaError(reply!)?.condition, 'unexpected-request');
    const [bad] = ask(b, xml('iq', { type: 'set', id: 'o2', from: ALICE, to: BOB }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-dance', sid: 's' })));
    assert.equal(parseStanzaError(bad!)?.condition, 'bad-request');
  });

  it('ends the session when the peer says it has none (unknown-session)', async () => {
    const { a, b, net } = pair();
    b.on('incoming', (s) => void s.accept());
    const mine = a.addSession(new StubSession({ peer: BOB, initiator: true }));
    await mine.start();
    await net.settle();
    b.getSession(ALICE, mine.sid)!.end('success', true); // B forgets without telling A
    await net.settle();
    mine.addContent('late');
    await net.settle();
    assert.ok(mine.ended);
    assert.equal(mine.endReason?.condition, 'gone');
  });
});

describe('JingleManager: tie-breaks (§7.2.16)', () => {
  for (const [label, sidA, sidB] of [['alice has the lower sid', 'aaa111', 'bbb222'], ['bob has the lower sid', 'zzz999', 'bbb222']] as const) {
    it(`simultaneous session-initiate: ${label}, both sides keep the same session`, async () => {
      const { a, b, net } = pair();
      const incomingA = collect<Session>((f) => a.on('incoming', f));
      const incomingB = collect<Session>((f) => b.on('incoming', f));
      const fromA = a.addSession(new StubSession({ peer: BOB, initiator: true, sid: sidA }));
      const fromB = b.addSession(new StubSession({ peer: ALICE, initiator: true, sid: sidB }));
      // Both send before either sees the other's.
      await Promise.all([fromA.start(), fromB.start()]);
      await net.settle();
      const winner = sidA < sidB ? sidA : sidB;
      const loser = winner === sidA ? fromB : fromA;
      assert.ok(loser.ended, 'the higher sid is overruled');
      assert.deepEqual(loser.endReason, { condition: 'alternative-session', alternativeSession: winner });
      const liveA = a.sessionsWith(BOB);
      const liveB = b.sessionsWith(ALICE);
      assert.deepEqual(liveA.map((s) => s.sid), [winner]);
      assert.deepEqual(liveB.map((s) => s.sid), [winner]);
      assert.notEqual(liveA[0]!.isInitiator, liveB[0]!.isInitiator, 'one initiator, one responder');
      assert.equal(incomingA.length + incomingB.length, 1);
      const errors = net.log.filter((r) => r.iq.attrs.type === 'error').map((r) => jingleErrorCondition(parseStanzaError(r.iq)));
      assert.deepEqual(errors, ['tie-break']);
    });
  }

  it('simultaneous session-initiate with the same sid: the lower JID overrules', async () => {
    const { a, b, net } = pair();
    const fromA = a.addSession(new StubSession({ peer: BOB, initiator: true, sid: 'same' }));
    const fromB = b.addSession(new StubSession({ peer: ALICE, initiator: true, sid: 'same' }));
    await Promise.all([fromA.start(), fromB.start()]);
    await net.settle();
    // alice@… sorts before bob@…: alice's session-initiate wins on both sides.
    assert.ok(fromA.pending && !fromA.ended);
    assert.ok(fromB.ended);
    const onB = b.getSession(ALICE, 'same')!;
    assert.notEqual(onB, fromB);
    assert.equal(onB.isInitiator, false);
    assert.equal(a.getSession(BOB, 'same'), fromA);
  });

  it('does not tie-break different applications', async () => {
    const { a, b, net } = pair();
    const fromA = a.addSession(new StubSession({ peer: BOB, initiator: true, sid: 'aaa' }));
    const fromB = b.addSession(new StubSession({ peer: ALICE, initiator: true, sid: 'bbb' }));
    const other = xml('description', { xmlns: 'urn:example:other-app' });
    await Promise.all([fromA.start(), fromB.start([{ creator: 'initiator', name: 'o', description: { kind: 'unknown', xmlns: 'urn:example:other-app', element: other } }])]);
    await net.settle();
    assert.ok(!fromA.ended, 'different application: no tie');
    assert.equal(fromB.endReason?.condition, 'unsupported-applications');
  });

  it('the same action from both parties at once: the initiator overrules the responder', async () => {
    const { net, init, resp } = await established();
    assert.ok(init.active && resp.active);
    init.addContent('from-initiator');
    resp.addContent('from-responder');
    await net.settle();
    // Both accepted the initiator's content-add; the responder's lost with tie-break.
    assert.deepEqual(resp.handled, ['content-add from-initiator']);
    assert.deepEqual(init.handled, ['content-accept from-initiator']);
    assert.deepEqual(resp.lost, ['content-add']);
    assert.deepEqual(init.lost, []);
    assert.equal(init.pendingAction, undefined);
    assert.equal(resp.pendingAction, undefined);
    const tie = net.log.find((r) => r.iq.attrs.type === 'error')!;
    assert.equal(tie.from, ALICE);
    assert.equal(jingleErrorCondition(parseStanzaError(tie.iq)), 'tie-break');
    assert.equal(parseStanzaError(tie.iq)?.condition, 'conflict');
    assert.ok(init.active && resp.active, 'the session survives');
  });
});

describe('JingleManager: ordering and liveness', () => {
  it('handles a session\'s actions one at a time, in the order sent, and acks them in order', async () => {
    const { net, init, resp } = await established();
    resp.slowMs = 30;
    const names = ['first', 'second', 'third', 'fourth'];
    const answers = names.map((name) => init.send('transport-info', { contents: [{ creator: 'initiator', name }] }));
    const order: string[] = [];
    answers.forEach((p, i) => void p.then((r) => order.push(`${names[i]} ${r.ok}`)));
    await Promise.all(answers);
    await net.settle();
    assert.deepEqual(resp.handled, names.map((n) => `transport-info ${n}`));
    assert.equal(resp.maxRunning, 1, 'never two at once');
    assert.deepEqual(order, names.map((n) => `${n} true`));
  });

  it('ends the sessions of a peer that goes unavailable, and tells it', async () => {
    const { a, b, net } = pair();
    b.on('incoming', (s) => void s.accept());
    const init = a.addSession(new StubSession({ peer: BOB, initiator: true }));
    await init.start();
    await net.settle();
    const resp = b.getSession(ALICE, init.sid)!;
    assert.equal(b.process(xml('presence', { from: 'carol@example.org/x', type: 'unavailable' })), 'pass');
    assert.equal(b.process(xml('presence', { from: ALICE, type: 'unavailable' })), 'handled');
    await net.settle();
    assert.equal(resp.endReason?.condition, 'gone');
    assert.equal(init.endReason?.condition, 'gone');
    assert.deepEqual(actions(net.log).slice(-2), ['bob session-terminate', 'alice result']);
  });

  it('ends every session silently when the connection ends', async () => {
    const { a, b, net } = pair();
    b.on('incoming', (s) => void s.accept());
    const s1 = a.addSession(new StubSession({ peer: BOB, initiator: true }));
    await s1.start();
    await net.settle();
    const sent = net.log.length;
    a.endAllSessions();
    await net.settle();
    assert.ok(s1.ended);
    assert.equal(net.log.length, sent, 'nothing sent');
    assert.equal(a.sessionsWith(BOB).length, 0);
  });

  it('times out a session-initiate nobody answers', async () => {
    const a = new JingleManager({ selfID: ALICE, requestTimeoutMs: 20 });
    const s = a.addSession(new StubSession({ peer: BOB, initiator: true, requestTimeoutMs: 20 }));
    const sent = collect<Element>((f) => a.on('send', f));
    await s.start();
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(s.endReason?.condition, 'timeout');
    assert.deepEqual(sent.map((e) => e.getChild('jingle')?.attrs.action), ['session-initiate', 'session-terminate']);
  });

  it('passes stanzas that are not Jingle\'s', () => {
    const { a } = pair();
    assert.equal(a.process(xml('iq', { type: 'get', id: 'p', from: BOB }, xml('ping', { xmlns: 'urn:xmpp:ping' }))), 'pass');
    assert.equal(a.process(xml('iq', { type: 'result', id: 'unknown', from: BOB })), 'pass');
    assert.equal(a.process(xml('message', { from: BOB })), 'pass');
  });
});

describe('JingleManager: both sides at once (§7.2.16), to the end', () => {
  for (const [label, sidA, sidB] of [['alice has the lower sid', 'aaa111', 'bbb222'], ['bob has the lower sid', 'zzz999', 'bbb222'], ['equal sids', 'same', 'same']] as const) {
    it(`simultaneous session-initiate (${label}): one session on both sides, accepted, active, ended cleanly`, async () => {
      const { a, b, net } = pair();
      for (const m of [a, b]) m.on('incoming', (s) => void s.accept());
      const endedA = collect<{ session: Session; reason: Reason }>((f) => a.on('terminated', f));
      const endedB = collect<{ session: Session; reason: Reason }>((f) => b.on('terminated', f));
      const fromA = a.addSession(new StubSession({ peer: BOB, initiator: true, sid: sidA }));
      const fromB = b.addSession(new StubSession({ peer: ALICE, initiator: true, sid: sidB }));
      await Promise.all([fromA.start(), fromB.start()]);
      await net.settle();
      // Lower sid wins; on equal sids the lower JID (alice@… sorts first).
      const aliceWins = sidA < sidB || sidA === sidB;
      const [winner, loser, loserSide] = aliceWins ? [fromA, fromB, endedB] : [fromB, fromA, endedA];
      const [onA, onB] = [a.sessionsWith(BOB), b.sessionsWith(ALICE)];
      assert.equal(onA.length, 1);
      assert.equal(onB.length, 1);
      assert.equal(onA[0]!.sid, winner.sid);
      assert.equal(onB[0]!.sid, winner.sid);
      assert.ok(onA[0]!.active && onB[0]!.active, 'the surviving session was accepted on both sides');
      assert.deepEqual([onA[0]!.isInitiator, onB[0]!.isInitiator], aliceWins ? [true, false] : [false, true]);
      assert.deepEqual(loserSide.map((e) => [e.session, e.reason]), [[loser, { condition: 'alternative-session', alternativeSession: winner.sid }]]);
      assert.ok(!actions(net.log).some((x) => x.endsWith('session-terminate')), 'the loser ends silently');
      const errors = net.log.filter((r) => r.iq.attrs.type === 'error');
      assert.deepEqual(errors.map((r) => [r.from, jingleErrorCondition(parseStanzaError(r.iq))]), [[aliceWins ? ALICE : BOB, 'tie-break']]);
      winner.end('success');
      await net.settle();
      assert.deepEqual([a.sessionsWith(BOB).length, b.sessionsWith(ALICE).length], [0, 0]);
      assert.deepEqual(actions(net.log).slice(-2), [`${aliceWins ? 'alice' : 'bob'} session-terminate`, `${aliceWins ? 'bob' : 'alice'} result`]);
    });
  }

  for (const action of ['content-add', 'content-modify', 'content-remove', 'transport-replace'] as const) {
    it(`the same ${action} from both parties at once: the responder's copy gets tie-break, the initiator's is handled`, async () => {
      const { net, init, resp } = await established();
      const sent = net.log.length;
      const answers = [init.send(action, { contents: [stubContent('i', 'initiator')] }), resp.send(action, { contents: [stubContent('r', 'responder')] })] as const;
      assert.deepEqual([init.pendingAction, resp.pendingAction], [action, action], 'both await an answer: a tie');
      const [fromInit, fromResp] = await Promise.all(answers);
      await net.settle();
      assert.equal(fromResp.ok, false);
      assert.equal(!fromResp.ok && jingleErrorCondition(fromResp.error), 'tie-break');
      assert.equal(!fromResp.ok && fromResp.error.condition, 'conflict');
      assert.deepEqual(resp.lost, [action]);
      assert.deepEqual(init.lost, []);
      // The initiator's copy reached the responder's handler: acked, or refused on its own merits, never as a tie.
      assert.notEqual(!fromInit.ok && jingleErrorCondition(fromInit.error), 'tie-break');
      const ties = net.log.slice(sent).filter((r) => r.iq.attrs.type === 'error' && jingleErrorCondition(parseStanzaError(r.iq)) === 'tie-break');
      assert.deepEqual(ties.map((r) => r.from), [ALICE]);
      assert.deepEqual([init.pendingAction, resp.pendingAction], [undefined, undefined]);
      assert.ok(init.active && resp.active, 'the session survives');
    });
  }

  it('informational actions from both at once are no tie: both are handled', async () => {
    const { init, resp } = await established();
    const answers = await Promise.all([
      init.send('transport-info', { contents: [{ creator: 'initiator', name: 'from-initiator' }] }),
      resp.send('transport-info', { contents: [{ creator: 'initiator', name: 'from-responder' }] }),
      init.send('session-info'),
      resp.send('session-info'),
    ]);
    assert.deepEqual(answers.map((r) => r.ok), [true, true, true, true]);
    assert.deepEqual(resp.handled, ['transport-info from-initiator']);
    assert.deepEqual(init.handled, ['transport-info from-responder']);
  });

  it('the responder\'s action when the initiator awaits nothing is handled normally', async () => {
    const { net, init, resp } = await established();
    resp.addContent('only-responder');
    await net.settle();
    assert.deepEqual(init.handled, ['content-add only-responder']);
    assert.deepEqual(resp.handled, ['content-accept only-responder']);
    assert.deepEqual(resp.lost, []);
  });
});

describe('JingleManager: after a session-terminate (§6.7)', () => {
  it('acks the terminate, then answers later actions for that sid with unknown-session, in that order', async () => {
    const { a, b, net } = pair();
    b.on('incoming', (s) => void s.accept());
    const init = a.addSession(new StubSession({ peer: BOB, initiator: true }));
    await init.start();
    await net.settle();
    const out: Element[] = [];
    b.on('send', (e) => out.push(e));
    const raw = (id: string, action: string) => xml('iq', { type: 'set', id, from: ALICE, to: BOB }, xml('jingle', { xmlns: NS_JINGLE, action, sid: init.sid }));
    b.process(raw('t1', 'session-terminate'));
    b.process(raw('t2', 'transport-info'));
    b.process(raw('t3', 'session-info'));
    await net.settle();
    assert.deepEqual(out.map((e) => `${e.attrs.id} ${e.attrs.type} ${jingleErrorCondition(parseStanzaError(e)) ?? ''}`.trim()), [
      't1 result', 't2 error unknown-session', 't3 error unknown-session',
    ]);
  });
});
