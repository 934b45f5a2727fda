// RFC 6121 §3 and Appendix A: the subscription state machine, as pure
// functions over one roster item's state. `outbound` is what the user's
// server does when the user sends the stanza; `inbound` is what the
// contact's server does when it arrives. Both sides run in this sm when both
// users are local.

import type { Subscription } from '../storage/ports.ts';

export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

export interface SubState {
  subscription: Subscription;
  /** Pending out: the user asked the contact (A.1 "Pending Out"). */
  ask: boolean;
  /** Pending in: the contact asked the user (A.1 "Pending In"). */
  pendingIn: boolean;
  /** Pre-approved (§3.4): a future request from the contact is approved at once. */
  approved: boolean;
}

export const NO_STATE: SubState = { subscription: 'none', ask: false, pendingIn: false, approved: false };

export interface Outcome {
  state: SubState;
  changed: boolean;
  /** Outbound: send the stanza on to the contact. Inbound: deliver it to the user's available resources. */
  forward: boolean;
  /** Inbound subscribe to an approved or already-subscribed user: answer `subscribed` for the user (§3.1.3). */
  autoReply?: 'subscribed';
}

const hasTo = (s: Subscription): boolean => s === 'to' || s === 'both';
const hasFrom = (s: Subscription): boolean => s === 'from' || s === 'both';
const make = (to: boolean, from: boolean): Subscription => (to ? (from ? 'both' : 'to') : from ? 'from' : 'none');

function outcome(before: SubState, after: SubState, forward: boolean, autoReply?: 'subscribed'): Outcome {
  const changed = before.subscription !== after.subscription || before.ask !== after.ask || before.pendingIn !== after.pendingIn || before.approved !== after.approved;
  return autoReply ? { state: after, changed, forward, autoReply } : { state: after, changed, forward };
}

/** Appendix A.2: the user sends a subscription stanza to the contact. */
export function outbound(s: SubState, type: SubscriptionType): Outcome {
  switch (type) {
    case 'subscribe': {
      // A.2.1: ask unless already subscribed to; routed either way (§3.1.2).
      const after = hasTo(s.subscription) ? s : { ...s, ask: true };
      return outcome(s, after, true);
    }
    case 'unsubscribe': {
      // A.2.2: drop "to" and any pending out.
      const after = { ...s, ask: false, subscription: make(false, hasFrom(s.subscription)) };
      return outcome(s, after, true);
    }
    case 'subscribed': {
      // A.2.3: approve a pending request; without one, pre-approve (§3.4) and route nothing.
      if (s.pendingIn) return outcome(s, { ...s, pendingIn: false, approved: false, subscription: make(hasTo(s.subscription), true) }, true);
      if (hasFrom(s.subscription)) return outcome(s, s, false);
      return outcome(s, { ...s, approved: true }, false);
    }
    case 'unsubscribed': {
      // A.2.4: deny a pending request, cancel "from", forget a pre-approval.
      const after = { ...s, pendingIn: false, approved: false, subscription: make(hasTo(s.subscription), false) };
      const forward = s.pendingIn || hasFrom(s.subscription);
      return outcome(s, after, forward);
    }
  }
}

/** Appendix A.3: the contact's subscription stanza arrives for the user. */
export function inbound(s: SubState, type: SubscriptionType): Outcome {
  switch (type) {
    case 'subscribe': {
      // A.3.1 / §3.1.3: already subscribed → answer for the user; pre-approved → approve now; else pending in.
      if (hasFrom(s.subscription)) return outcome(s, s, false, 'subscribed');
      if (s.approved) return outcome(s, { ...s, approved: false, subscription: make(hasTo(s.subscription), true) }, false, 'subscribed');
      return outcome(s, { ...s, pendingIn: true }, true);
    }
    case 'unsubscribe': {
      // A.3.2: the contact no longer wants the user's presence.
      const after = { ...s, pendingIn: false, subscription: make(hasTo(s.subscription), false) };
      const o = outcome(s, after, false);
      return { ...o, forward: o.changed };
    }
    case 'subscribed': {
      // A.3.3: only meaningful while the user is waiting for it.
      if (!s.ask) return outcome(s, s, false);
      return outcome(s, { ...s, ask: false, subscription: make(true, hasFrom(s.subscription)) }, true);
    }
    case 'unsubscribed': {
      // A.3.4: the contact refuses or cancels the user's subscription.
      const after = { ...s, ask: false, subscription: make(false, hasFrom(s.subscription)) };
      const o = outcome(s, after, false);
      return { ...o, forward: o.changed };
    }
  }
}

export { hasFrom, hasTo };
