// The internal protocol's one codec (docs/protocol.md). An envelope carries
// either a stanza or a control action between two components, with the
// session ids of both ends. This file is the only place a <route> element is
// built or read.

import { Element, xml } from '@switchboard/xml';
import type { ComponentAddress } from './router.ts';

export const NS_ROUTE = 'urn:switchboard:route';
/** `sm:session`: one session's life (start → started, end → ended). */
export const NS_SM_SESSION = 'urn:switchboard:sm:session';
/** `sm:sessions`: a user's existence (create → created, delete → deleted). */
export const NS_SM_SESSIONS = 'urn:switchboard:sm:sessions';

/** `component`: an external component (XEP-0114) came online or went away. */
export const NS_COMPONENT_PRESENCE = 'urn:switchboard:component';

export type SessionAction = 'start' | 'started' | 'end' | 'ended';
export type SessionsAction = 'create' | 'created' | 'delete' | 'deleted';

/**
 * Why a session ended, carried on `end`/`ended`. The c2s maps each to what it
 * does to the stream (c2s/end-reasons.ts): the sm never closes a socket itself.
 */
export type EndReason =
  | 'disconnected' // the socket closed or failed under the c2s (jabberd's "510")
  | 'closed' // the client closed its stream cleanly
  | 'replaced' // another session bound the same full JID (RFC 6120 §7.7.2.2)
  | 'account-removed'
  | 'account-disabled' // an administrator disabled the account (XEP-0133 disable-user)
  | 'password-changed' // an administrator set a new password: every session must log in again
  | 'kicked' // an administrator ended the session (`switchboard session kick`)
  | 'shutdown'
  | 'timeout'
  | 'reset' // the sm does not have the session (it restarted or lost it): the client must start over
  | 'dead-link'; // XEP-0198: the client did not answer <r/> in time

export const END_REASONS: readonly EndReason[] = ['disconnected', 'closed', 'replaced', 'account-removed', 'account-disabled', 'password-changed', 'kicked', 'shutdown', 'timeout', 'reset', 'dead-link'];

export type Control =
  | {
      ns: 'session';
      action: SessionAction;
      target: string;
      failed: boolean;
      reason?: EndReason;
      /** A failed `started`: the stanza error condition the bind gets (RFC 6120 §7.6.2.1 resource-constraint). */
      condition?: 'resource-constraint';
      /**
       * Stanzas handed back whole with `end` or `ended` (the 510 race, a
       * hibernation that expired): the session is gone and these did not
       * reach its client. Such a notice only invalidates; it is never answered.
       */
      returned?: Element[];
    }
  | { ns: 'sessions'; action: SessionsAction; target: string; failed: boolean }
  | { ns: 'component'; action: 'online' | 'offline'; target: string; failed: boolean };

export interface Envelope {
  to: ComponentAddress;
  from: ComponentAddress;
  /** The c2s's id for the connection, when the envelope concerns one session. */
  c2s?: string;
  /** The sm's id for the session. */
  sm?: string;
  /** A stanza, or a control element (see {@link readControl}). */
  payload: Element;
  /**
   * The stanza payload as text for an RFC 6120 stream in jabber:client, when
   * the sender has it (the c2s's stamped copy of what the client sent), so
   * that the receiving c2s need not serialise it. Whoever passes it on passes
   * the payload unchanged. In-process only: the wire form between processes
   * carries the payload alone.
   */
  text?: string;
}

export function sessionControl(action: SessionAction, target: string, options: { failed?: boolean; reason?: EndReason; condition?: 'resource-constraint'; returned?: readonly Element[] } = {}): Element {
  return xml(
    'session',
    {
      xmlns: NS_SM_SESSION,
      action,
      target,
      failed: options.failed ? '1' : undefined,
      reason: options.reason,
      condition: options.condition,
    },
    ...(options.returned ?? []),
  );
}

export function sessionsControl(action: SessionsAction, target: string, options: { failed?: boolean } = {}): Element {
  return xml('sessions', { xmlns: NS_SM_SESSIONS, action, target, failed: options.failed ? '1' : undefined });
}

/** Router address of an external component: `component/<domain>`. */
export const COMPONENT_ADDRESS_PREFIX = 'component/';
export const componentAddress = (domain: string): string => COMPONENT_ADDRESS_PREFIX + domain;

/** The component manager tells the sm which component domains it serves. */
export function componentControl(action: 'online' | 'offline', domain: string): Element {
  return xml('component', { xmlns: NS_COMPONENT_PRESENCE, action, target: domain });
}

/**
 * `fanout`: one stanza for many sessions (a room's groupchat copies). A
 * service sends it to the sm with the recipients' full JIDs; the sm sends one
 * per c2s with the recipients that c2s holds (their c2s and sm ids). The
 * stanza travels once, without `to`; whoever delivers it stamps `to` per
 * recipient (docs/protocol.md "Fan-out").
 */
export const NS_FANOUT = 'urn:switchboard:fanout';

/** One recipient of a fan-out: its full JID, and on sm → c2s the session's ids at both ends. */
export interface FanOutTarget {
  jid: string;
  c2s?: string;
  sm?: string;
}

export interface FanOut {
  /** The stanza, without `to`. */
  stanza: Element;
  targets: FanOutTarget[];
}

/** `<fanout xmlns='urn:switchboard:fanout'><to jid c2s? sm?/>…<message/></fanout>`: the targets, then the stanza. */
export function fanOutPayload(stanza: Element, targets: readonly FanOutTarget[]): Element {
  const children: Element[] = [];
  for (const t of targets) children.push(xml('to', { jid: t.jid, c2s: t.c2s, sm: t.sm }));
  children.push(stanza);
  return xml('fanout', { xmlns: NS_FANOUT }, children);
}

/** Reads a fan-out payload; undefined when the payload is not one (or carries no stanza). */
export function readFanOut(payload: Element): FanOut | undefined {
  if (payload.name !== 'fanout' || payload.attrs.xmlns !== NS_FANOUT) return undefined;
  const targets: FanOutTarget[] = [];
  let stanza: Element | undefined;
  for (const child of payload.children) {
    if (typeof child === 'string') continue;
    if (child.name === 'to') {
      const jid = child.attrs.jid;
      if (jid === undefined) continue;
      const target: FanOutTarget = { jid };
      if (child.attrs.c2s !== undefined) target.c2s = child.attrs.c2s;
      if (child.attrs.sm !== undefined) target.sm = child.attrs.sm;
      targets.push(target);
    } else if (child.name === 'message' || child.name === 'presence' || child.name === 'iq') {
      stanza = child;
    }
  }
  if (!stanza) return undefined;
  return { stanza, targets };
}

const SESSION_ACTIONS = new Set<string>(['start', 'started', 'end', 'ended']);
const SESSIONS_ACTIONS = new Set<string>(['create', 'created', 'delete', 'deleted']);

/** Reads a control payload; undefined means the payload is a stanza (or garbage, which the receiver refuses). */
export function readControl(payload: Element): Control | undefined {
  const xmlns = payload.attrs.xmlns;
  if (xmlns === NS_COMPONENT_PRESENCE && payload.name === 'component') {
    const action = payload.attrs.action;
    if (action !== 'online' && action !== 'offline') return undefined;
    return { ns: 'component', action, target: payload.attrs.target ?? '', failed: payload.attrs.failed === '1' };
  }
  if (xmlns !== NS_SM_SESSION && xmlns !== NS_SM_SESSIONS) return undefined;
  const action = payload.attrs.action ?? '';
  const target = payload.attrs.target ?? '';
  const failed = payload.attrs.failed === '1';
  if (xmlns === NS_SM_SESSION && payload.name === 'session' && SESSION_ACTIONS.has(action)) {
    const reason = payload.attrs.reason as EndReason | undefined;
    const control: Control = { ns: 'session', action: action as SessionAction, target, failed };
    if (reason !== undefined && END_REASONS.includes(reason)) control.reason = reason;
    if (failed && payload.attrs.condition === 'resource-constraint') control.condition = 'resource-constraint';
    const returned = payload.getChildren().filter((c) => c.name === 'message' || c.name === 'iq' || c.name === 'presence');
    if (returned.length > 0 && (action === 'end' || action === 'ended')) control.returned = returned;
    return control;
  }
  if (xmlns === NS_SM_SESSIONS && payload.name === 'sessions' && SESSIONS_ACTIONS.has(action)) {
    return { ns: 'sessions', action: action as SessionsAction, target, failed };
  }
  return undefined;
}

/** The wire form: `<route xmlns='urn:switchboard:route' to from c2s? sm?>payload</route>`. */
export function encodeEnvelope(envelope: Envelope): Element {
  return xml('route', { xmlns: NS_ROUTE, to: envelope.to, from: envelope.from, c2s: envelope.c2s, sm: envelope.sm }, envelope.payload);
}

export function decodeEnvelope(el: Element): Envelope | undefined {
  if (el.name !== 'route' || el.attrs.xmlns !== NS_ROUTE) return undefined;
  const { to, from, c2s, sm } = el.attrs;
  const children = el.getChildren();
  const payload = children[0];
  if (!to || !from || children.length !== 1 || !payload) return undefined;
  const envelope: Envelope = { to, from, payload };
  if (c2s !== undefined) envelope.c2s = c2s;
  if (sm !== undefined) envelope.sm = sm;
  return envelope;
}

/**
 * The answer to a control action that could not be carried out: the same
 * action with failed='1', back to the sender. A failed action is never
 * answered again, so failures cannot bounce between components.
 */
export function failedReply(envelope: Envelope, control: Control): Envelope | undefined {
  if (control.failed) return undefined;
  const payload = control.ns === 'session'
    ? sessionControl(control.action, control.target, { failed: true })
    : control.ns === 'sessions'
      ? sessionsControl(control.action, control.target, { failed: true })
      : xml('component', { xmlns: NS_COMPONENT_PRESENCE, action: control.action, target: control.target, failed: '1' });
  const reply: Envelope = { to: envelope.from, from: envelope.to, payload };
  if (envelope.c2s !== undefined) reply.c2s = envelope.c2s;
  if (envelope.sm !== undefined) reply.sm = envelope.sm;
  return reply;
}

/** `liveness`: components announcing themselves across processes (docs/protocol.md "Liveness"). */
export const NS_LIVENESS = 'urn:switchboard:liveness';

/**
 * hello: attached with a new epoch; beat: still alive; goodbye: detached;
 * query: a router just connected and asks every other to beat at once.
 */
export type LiveState = 'hello' | 'beat' | 'goodbye' | 'query';

export interface Live {
  state: LiveState;
  /** Absent on query. */
  address?: string;
  epoch?: string;
}

const LIVE_STATES = new Set<string>(['hello', 'beat', 'goodbye', 'query']);

/** `<live xmlns='urn:switchboard:liveness' state='beat' address='sm' epoch='…'/>`, published on `<prefix>.live`. */
export function liveElement(live: Live): Element {
  return xml('live', { xmlns: NS_LIVENESS, state: live.state, address: live.address, epoch: live.epoch });
}

export function readLive(el: Element): Live | undefined {
  if (el.name !== 'live' || el.attrs.xmlns !== NS_LIVENESS) return undefined;
  const state = el.attrs.state ?? '';
  if (!LIVE_STATES.has(state)) return undefined;
  const { address, epoch } = el.attrs;
  if (state !== 'query' && (!address || !epoch)) return undefined;
  return { state: state as LiveState, address, epoch };
}
