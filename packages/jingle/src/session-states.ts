// XEP-0166 §5.1 session states, and the connection states of the data path,
// as unions with transition tables: the only ways a state may change.

import type { JingleAction } from './protocol/xep0166.ts';

export type SessionState = 'starting' | 'pending' | 'active' | 'ended';
export type ConnectionState = 'starting' | 'connecting' | 'connected' | 'disconnected' | 'interrupted';

export const STATE_TRANSITIONS: Record<SessionState, readonly SessionState[]> = {
  starting: ['pending', 'ended'],
  pending: ['active', 'ended'],
  active: ['ended'],
  ended: [],
};

export const CONNECTION_TRANSITIONS: Record<ConnectionState, readonly ConnectionState[]> = {
  starting: ['connecting', 'connected', 'disconnected'],
  connecting: ['connected', 'interrupted', 'disconnected'],
  connected: ['interrupted', 'disconnected'],
  interrupted: ['connecting', 'connected', 'disconnected'],
  disconnected: [],
};

/** Actions answered by another action: while ours is unacknowledged the same action from the peer is a tie (§7.2.16). */
export const AWAITS_REPLY: ReadonlySet<JingleAction> = new Set<JingleAction>([
  'content-accept', 'content-add', 'content-modify', 'content-reject', 'content-remove', 'session-accept',
  'session-initiate', 'transport-accept', 'transport-reject', 'transport-replace',
]);
