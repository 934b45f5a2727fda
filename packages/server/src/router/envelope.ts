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

/** `sm:resume`: XEP-0198 resumption through any c2s (docs/protocol.md "Resumption through any c2s"). */
export const NS_SM_RESUME = 'urn:switchboard:sm:resume';

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
  | 'dead-link' // XEP-0198: the client did not answer <r/> in time
  | 'taken-over'; // XEP-0198: the session was resumed through another c2s; this stream is not it any more

export const END_REASONS: readonly EndReason[] = ['disconnected', 'closed', 'replaced', 'account-removed', 'account-disabled', 'password-changed', 'kicked', 'shutdown', 'timeout', 'reset', 'dead-link', 'taken-over'];

/**
 * `sm:resume` actions: `resumable` (c2s → sm: the client enabled resumption;
 * keep a copy), `acked` (c2s → sm: what the client acknowledged, in batches),
 * `resume` (another c2s → sm: a client asks to resume) and its answer `resumed`.
 */
export type ResumeAction = 'resumable' | 'acked' | 'resume' | 'resumed';

/** The fields of an `sm:resume` action; which are present depends on the action (docs/protocol.md). */
export interface ResumeFields {
  /** resumable, resume: the secret half of the XEP-0198 id. */
  secret?: string;
  /** resumable: seconds the session may hibernate (the c2s's timeouts.resumeSeconds). */
  max?: number;
  /** acked: the client's acknowledged count; resume: the client's h; resumed: what the session handled from the client. */
  h?: number;
  /** acked: what entered the c2s's XEP-0198 queue since the last report, in order: sm seqs as `a-b` ranges, `x` for a stanza of the c2s's own. */
  written?: string;
  /** acked: seqs the c2s settled without the client (a presence XEP-0352 superseded). */
  dropped?: string;
  /** acked: client stanzas the c2s answered itself since resumption was enabled (never reached the sm). */
  local?: number;
  /** resumed failed: the XEP-0198 condition (`item-not-found`, `handled-count-too-high`). */
  condition?: string;
  /** resumed failed with handled-count-too-high: what was sent. */
  sendCount?: number;
  /** resumed: the seqs of the stanzas it carries, in their order (`a-b` ranges). */
  seqs?: string;
  /** resumed: the stanzas the client never acknowledged, to write again. */
  stanzas?: Element[];
}

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
      /**
       * With `start`: session features the client asked for along with binding (XEP-0386 inline, e.g.
       * XEP-0280 `<enable/>`), on before the session is announced; the sm's modules read them at sessStart.
       */
      features?: Element[];
      /** With `started`: what goes inside XEP-0386's `<bound/>` from the sm's modules (XEP-0313 `<metadata/>`). */
      bound?: Element[];
    }
  | { ns: 'sessions'; action: SessionsAction; target: string; failed: boolean }
  | ({ ns: 'resume'; action: ResumeAction; target: string; failed: boolean } & ResumeFields)
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
  /**
   * sm → c2s, a stanza for a session whose client may resume through another
   * c2s: its number in the sm's copy (docs/protocol.md "Resumption through any c2s").
   */
  seq?: number;
  /**
   * sm → sm, a stanza a shard passed on to the shard that owns its recipient
   * (it was misrouted: the owner changed, or the processes disagree on the
   * shard count). It is never passed on a second time (docs/protocol.md "Shards").
   */
  forwarded?: boolean;
}

export function sessionControl(
  action: SessionAction,
  target: string,
  options: { failed?: boolean; reason?: EndReason; condition?: 'resource-constraint'; returned?: readonly Element[]; features?: readonly Element[]; bound?: readonly Element[] } = {},
): Element {
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
    ...(action === 'start' ? (options.features ?? []) : []),
    ...(action === 'started' ? (options.bound ?? []) : []),
  );
}

export function resumeControl(action: ResumeAction, target: string, fields: ResumeFields & { failed?: boolean } = {}): Element {
  return xml(
    'resume',
    {
      xmlns: NS_SM_RESUME,
      action,
      target,
      failed: fields.failed ? '1' : undefined,
      secret: fields.secret,
      max: fields.max?.toString(),
      h: fields.h?.toString(),
      written: fields.written || undefined,
      dropped: fields.dropped || undefined,
      local: fields.local?.toString(),
      condition: fields.condition,
      'send-count': fields.sendCount?.toString(),
      seqs: fields.seqs || undefined,
    },
    ...(fields.stanzas ?? []),
  );
}

const RESUME_ACTIONS = new Set<string>(['resumable', 'acked', 'resume', 'resumed']);

function readResume(payload: Element): Control | undefined {
  const action = payload.attrs.action ?? '';
  if (payload.name !== 'resume' || !RESUME_ACTIONS.has(action)) return undefined;
  const a = payload.attrs;
  const num = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  const control: Control = { ns: 'resume', action: action as ResumeAction, target: a.target ?? '', failed: a.failed === '1' };
  if (a.secret !== undefined) control.secret = a.secret;
  if (num(a.max) !== undefined) control.max = num(a.max);
  if (num(a.h) !== undefined) control.h = num(a.h);
  if (a.written !== undefined) control.written = a.written;
  if (a.dropped !== undefined) control.dropped = a.dropped;
  if (num(a.local) !== undefined) control.local = num(a.local);
  if (a.condition !== undefined) control.condition = a.condition;
  if (num(a['send-count']) !== undefined) control.sendCount = num(a['send-count']);
  if (a.seqs !== undefined) control.seqs = a.seqs;
  if (action === 'resumed') control.stanzas = payload.getChildren().filter((c) => c.name === 'message' || c.name === 'iq' || c.name === 'presence');
  return control;
}

/** `1-4,7,x,9` ↔ [1, 2, 3, 4, 7, null, 9]: seqs as ascending ranges, `x` for an entry without one. */
export function encodeSeqs(seqs: readonly (number | null)[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < seqs.length) {
    const first = seqs[i];
    if (first === null || first === undefined) {
      parts.push('x');
      i++;
      continue;
    }
    let last = first;
    while (i + 1 < seqs.length && seqs[i + 1] === last + 1) last = seqs[++i]!;
    parts.push(last === first ? String(first) : `${first}-${last}`);
    i++;
  }
  return parts.join(',');
}

export function decodeSeqs(text: string | undefined): (number | null)[] {
  const out: (number | null)[] = [];
  if (!text) return out;
  for (const part of text.split(',')) {
    if (part === 'x') {
      out.push(null);
      continue;
    }
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    // A range is bounded by what a session's copy can hold; a forged huge one is refused.
    if (last < first || last - first > 1_000_000) continue;
    for (let n = first; n <= last; n++) out.push(n);
  }
  return out;
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
  /** The copy's number in the sm's resumption copy (Envelope.seq). */
  seq?: number;
}

export interface FanOut {
  /** The stanza, without `to`. */
  stanza: Element;
  targets: FanOutTarget[];
}

/** `<fanout xmlns='urn:switchboard:fanout'><to jid c2s? sm?/>…<message/></fanout>`: the targets, then the stanza. */
export function fanOutPayload(stanza: Element, targets: readonly FanOutTarget[]): Element {
  const children: Element[] = [];
  for (const t of targets) children.push(xml('to', { jid: t.jid, c2s: t.c2s, sm: t.sm, seq: t.seq?.toString() }));
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
      if (child.attrs.seq !== undefined) target.seq = Number(child.attrs.seq);
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
  if (xmlns === NS_SM_RESUME) return readResume(payload);
  if (xmlns !== NS_SM_SESSION && xmlns !== NS_SM_SESSIONS) return undefined;
  const action = payload.attrs.action ?? '';
  const target = payload.attrs.target ?? '';
  const failed = payload.attrs.failed === '1';
  if (xmlns === NS_SM_SESSION && payload.name === 'session' && SESSION_ACTIONS.has(action)) {
    const reason = payload.attrs.reason as EndReason | undefined;
    const control: Control = { ns: 'session', action: action as SessionAction, target, failed };
    if (reason !== undefined && END_REASONS.includes(reason)) control.reason = reason;
    if (failed && payload.attrs.condition === 'resource-constraint') control.condition = 'resource-constraint';
    const children = payload.getChildren();
    const returned = children.filter((c) => c.name === 'message' || c.name === 'iq' || c.name === 'presence');
    if (returned.length > 0 && (action === 'end' || action === 'ended')) control.returned = returned;
    if (action === 'start' && children.length > 0) control.features = children;
    if (action === 'started' && !failed && children.length > 0) control.bound = children;
    return control;
  }
  if (xmlns === NS_SM_SESSIONS && payload.name === 'sessions' && SESSIONS_ACTIONS.has(action)) {
    return { ns: 'sessions', action: action as SessionsAction, target, failed };
  }
  return undefined;
}

/** The wire form: `<route xmlns='urn:switchboard:route' to from c2s? sm? seq? forwarded?>payload</route>`. */
export function encodeEnvelope(envelope: Envelope): Element {
  return xml('route', { xmlns: NS_ROUTE, to: envelope.to, from: envelope.from, c2s: envelope.c2s, sm: envelope.sm, seq: envelope.seq?.toString(), forwarded: envelope.forwarded ? '1' : undefined }, envelope.payload);
}

export function decodeEnvelope(el: Element): Envelope | undefined {
  if (el.name !== 'route' || el.attrs.xmlns !== NS_ROUTE) return undefined;
  const { to, from, c2s, sm, seq, forwarded } = el.attrs;
  const children = el.getChildren();
  const payload = children[0];
  if (!to || !from || children.length !== 1 || !payload) return undefined;
  const envelope: Envelope = { to, from, payload };
  if (c2s !== undefined) envelope.c2s = c2s;
  if (sm !== undefined) envelope.sm = sm;
  if (seq !== undefined && /^\d+$/.test(seq)) envelope.seq = Number(seq);
  if (forwarded === '1' || forwarded === 'true') envelope.forwarded = true;
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
      : control.ns === 'resume'
        ? resumeControl(control.action, control.target, { failed: true })
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

/**
 * `admin`: the administration of a cluster over the router (docs/protocol.md
 * "Administration over the router"). A process's admin socket asks the sm
 * shard that holds a user, every shard, or every process; each request
 * carries an unpredictable id and its answer comes back with the same id from
 * the address asked. The body is the op's arguments or result as one JSON
 * object, checked against admin/route-protocol.ts on arrival.
 */
export const NS_ADMIN_ROUTE = 'urn:switchboard:admin';

export interface AdminRoutePayload {
  action: 'request' | 'answer';
  id: string;
  op: string;
  /** JSON: a request's arguments, or an answer's result. */
  body: string;
}

export function adminRoutePayload(p: AdminRoutePayload): Element {
  return xml('admin', { xmlns: NS_ADMIN_ROUTE, action: p.action, id: p.id, op: p.op }, p.body);
}

/** Reads an admin payload; undefined when the payload is not one. */
export function readAdminRoutePayload(payload: Element): AdminRoutePayload | undefined {
  if (payload.name !== 'admin' || payload.attrs.xmlns !== NS_ADMIN_ROUTE) return undefined;
  const { action, id, op } = payload.attrs;
  if ((action !== 'request' && action !== 'answer') || !id || !op) return undefined;
  return { action, id, op, body: payload.text() };
}
