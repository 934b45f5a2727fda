// RFC 6121 Appendix A, every row: each of the nine states × the four
// stanza types × outbound and inbound, against the reference tables
// transcribed from the RFC.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inbound, outbound, type SubState, type SubscriptionType } from './subscription.ts';

type StateName = 'None' | 'None+PO' | 'None+PI' | 'None+PO/PI' | 'To' | 'To+PI' | 'From' | 'From+PO' | 'Both';
const STATES: Record<StateName, SubState> = {
  None: { subscription: 'none', ask: false, pendingIn: false, approved: false },
  'None+PO': { subscription: 'none', ask: true, pendingIn: false, approved: false },
  'None+PI': { subscription: 'none', ask: false, pendingIn: true, approved: false },
  'None+PO/PI': { subscription: 'none', ask: true, pendingIn: true, approved: false },
  To: { subscription: 'to', ask: false, pendingIn: false, approved: false },
  'To+PI': { subscription: 'to', ask: false, pendingIn: true, approved: false },
  From: { subscription: 'from', ask: false, pendingIn: false, approved: false },
  'From+PO': { subscription: 'from', ask: true, pendingIn: false, approved: false },
  Both: { subscription: 'both', ask: false, pendingIn: false, approved: false },
};
const NAMES = Object.keys(STATES) as StateName[];

function nameOf(s: SubState): StateName {
  const found = NAMES.find((n) => {
    const t = STATES[n];
    return t.subscription === s.subscription && t.ask === s.ask && t.pendingIn === s.pendingIn;
  });
  assert.ok(found, `not one of the nine states: ${JSON.stringify(s)}`);
  return found;
}

// "=" is "no state change". Order of the columns: the NAMES order above.
const TABLE: Record<'outbound' | 'inbound', Record<SubscriptionType, (StateName | '=')[]>> = {
  outbound: {
    // A.2.1            None      None+PO  None+PI       None+PO/PI To   To+PI From       From+PO Both
    subscribe: /*    */ ['None+PO', '=', 'None+PO/PI', '=', '=', '=', 'From+PO', '=', '='],
    // A.2.2
    unsubscribe: /*  */ ['=', 'None', '=', 'None+PI', 'None', 'None+PI', '=', 'From', 'From'],
    // A.2.3
    subscribed: /*   */ ['=', '=', 'From', 'From+PO', '=', 'Both', '=', '=', '='],
    // A.2.4
    unsubscribed: /* */ ['=', '=', 'None', 'None+PO', '=', 'To', 'None', 'None+PO', 'To'],
  },
  inbound: {
    // A.3.1
    subscribe: /*    */ ['None+PI', 'None+PO/PI', '=', '=', 'To+PI', '=', '=', '=', '='],
    // A.3.2
    unsubscribe: /*  */ ['=', '=', 'None', 'None+PO', '=', 'To', 'None', 'None+PO', 'To'],
    // A.3.3
    subscribed: /*   */ ['=', 'To', '=', 'To+PI', '=', '=', '=', 'Both', '='],
    // A.3.4
    unsubscribed: /* */ ['=', 'None', '=', 'None+PI', 'None', 'None+PI', '=', 'From', 'From'],
  },
};

describe('RFC 6121 Appendix A: every transition', () => {
  for (const direction of ['outbound', 'inbound'] as const) {
    for (const type of ['subscribe', 'unsubscribe', 'subscribed', 'unsubscribed'] as const) {
      it(`${direction} ${type}`, () => {
        NAMES.forEach((from, i) => {
          const expected = TABLE[direction][type][i]!;
          const result = (direction === 'outbound' ? outbound : inbound)(STATES[from], type);
          assert.equal(nameOf(result.state), expected === '=' ? from : expected, `${direction} ${type} from ${from}`);
        });
      });
    }
  }

  it('§3.4 pre-approval: outbound subscribed without a request pre-approves; a later inbound subscribe is answered at once', () => {
    for (const from of ['None', 'None+PO', 'To'] as const) {
      const pre = outbound(STATES[from], 'subscribed');
      assert.equal(pre.state.approved, true, from);
      assert.equal(pre.forward, false, 'a pre-approval is not routed');
      const answered = inbound(pre.state, 'subscribe');
      assert.equal(answered.autoReply, 'subscribed');
      assert.equal(answered.forward, false, 'the user is not asked');
      assert.equal(answered.state.approved, false);
      assert.ok(answered.state.subscription === 'from' || answered.state.subscription === 'both');
    }
    assert.equal(outbound({ ...STATES.None, approved: true }, 'unsubscribed').state.approved, false, 'unsubscribed cancels a pre-approval');
  });

  it('§3.1.3: an inbound subscribe from an existing subscriber is answered for the user, not delivered', () => {
    for (const from of ['From', 'From+PO', 'Both'] as const) {
      const r = inbound(STATES[from], 'subscribe');
      assert.equal(r.autoReply, 'subscribed');
      assert.equal(r.forward, false);
    }
  });

  it('delivers inbound stanzas only when they change something (a new request is always delivered)', () => {
    assert.equal(inbound(STATES.None, 'subscribe').forward, true);
    assert.equal(inbound(STATES.None, 'subscribed').forward, false, 'an unsolicited subscribed is dropped');
    assert.equal(inbound(STATES.To, 'unsubscribed').forward, true);
    assert.equal(inbound(STATES.None, 'unsubscribed').forward, false);
  });
});
