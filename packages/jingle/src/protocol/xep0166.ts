// XEP-0166 v1.1.2: Jingle.
//   §7.1 the <jingle/> element, §7.2 actions, §7.3 <content/>, §7.4 <reason/>,
//   §10 Jingle-specific error conditions.
// The codec mirrors the wire: optional attributes stay undefined when absent,
// defaults (senders 'both', disposition 'session') are applied by readers.

import { xml, type Element } from '@switchboard/xml';
import { stanzaError, type StanzaError, type StanzaErrorCondition, type StanzaErrorType } from '@switchboard/protocol';
import { NS_JINGLE, NS_JINGLE_ERRORS } from '../namespaces.ts';
import { childText, compact, enumAttr, nsOf } from './xml-util.ts';
import {
  parseDescription, parseInfo, parseTransport, writeDescription, writeInfo, writeTransport,
  type Description, type InfoPayload, type Transport,
} from './payloads.ts';
import { isGroupElement, parseGroup, writeGroup, type Group } from './xep0338.ts';

/** §7.2. */
export const JINGLE_ACTIONS = [
  'content-accept', 'content-add', 'content-modify', 'content-reject', 'content-remove',
  'description-info', 'security-info', 'session-accept', 'session-info', 'session-initiate',
  'session-terminate', 'transport-accept', 'transport-info', 'transport-reject', 'transport-replace',
] as const;
export type JingleAction = (typeof JINGLE_ACTIONS)[number];

/** §7.4, the defined conditions of <reason/>. */
export const REASON_CONDITIONS = [
  'alternative-session', 'busy', 'cancel', 'connectivity-error', 'decline', 'expired',
  'failed-application', 'failed-transport', 'general-error', 'gone', 'incompatible-parameters',
  'media-error', 'security-error', 'success', 'timeout', 'unsupported-applications', 'unsupported-transports',
] as const;
export type ReasonCondition = (typeof REASON_CONDITIONS)[number];

/** §10, plus security-required from §9. */
export const JINGLE_ERROR_CONDITIONS = [
  'out-of-order', 'tie-break', 'unknown-content', 'unknown-session', 'unsupported-info', 'security-required',
] as const;
export type JingleErrorCondition = (typeof JINGLE_ERROR_CONDITIONS)[number];

export type Creator = 'initiator' | 'responder';
export type Senders = 'both' | 'initiator' | 'responder' | 'none';
const CREATORS = ['initiator', 'responder'] as const;
const SENDERS = ['both', 'initiator', 'responder', 'none'] as const;

export interface Reason {
  readonly condition: ReasonCondition;
  readonly text?: string;
  /** §7.4: the sid of the session the party prefers, for alternative-session. */
  readonly alternativeSession?: string;
  /** A more detailed condition in another namespace. */
  readonly application?: Element;
}

export interface Content {
  readonly creator: Creator;
  readonly name: string;
  readonly disposition?: string;
  readonly senders?: Senders;
  readonly description?: Description;
  readonly transport?: Transport;
  /** §9 security precondition, kept as written. */
  readonly security?: Element;
}

export interface Jingle {
  readonly action: JingleAction;
  readonly sid: string;
  readonly initiator?: string;
  readonly responder?: string;
  readonly contents: readonly Content[];
  readonly reason?: Reason;
  /** XEP-0338 content groups (BUNDLE). */
  readonly groups?: readonly Group[];
  /** The informational payload of session-info (§6.8), or any other child we keep. */
  readonly info?: InfoPayload;
}

export type JingleParse = { ok: true; jingle: Jingle } | { ok: false; text: string };

export function isReasonCondition(value: string): value is ReasonCondition {
  return (REASON_CONDITIONS as readonly string[]).includes(value);
}

export function isJingleAction(value: string): value is JingleAction {
  return (JINGLE_ACTIONS as readonly string[]).includes(value);
}

/** Reads a <jingle/> element. A missing sid, an unknown action or a content without name is malformed (§7.2: bad-request). */
export function parseJingle(el: Element): JingleParse {
  const ns = nsOf(el, undefined);
  if (el.localName !== 'jingle' || ns !== NS_JINGLE) return { ok: false, text: 'not a jingle element' };
  const { action, sid } = el.attrs;
  if (action === undefined || !isJingleAction(action)) return { ok: false, text: `unknown action ${action ?? '(none)'}` };
  if (!sid) return { ok: false, text: 'missing sid' };
  const contents: Content[] = [];
  const groups: Group[] = [];
  let reason: Reason | undefined;
  let info: InfoPayload | undefined;
  for (const c of el.getChildren()) {
    const cns = nsOf(c, ns);
    if (cns === NS_JINGLE && c.localName === 'content') {
      const content = parseContent(c, ns);
      if (!content) return { ok: false, text: 'content without name' };
      contents.push(content);
    } else if (cns === NS_JINGLE && c.localName === 'reason') {
      reason = parseReason(c, ns);
    } else if (isGroupElement(c, ns)) {
      groups.push(parseGroup(c));
    } else if (info === undefined) {
      info = parseInfo(c, ns);
    }
  }
  return {
    ok: true,
    jingle: compact({
      action, sid, initiator: el.attrs.initiator, responder: el.attrs.responder, contents,
      reason, groups: groups.length > 0 ? groups : undefined, info,
    }),
  };
}

function parseContent(el: Element, parentNs: string | undefined): Content | undefined {
  const name = el.attrs.name;
  if (!name) return undefined;
  const ns = nsOf(el, parentNs);
  let description: Description | undefined;
  let transport: Transport | undefined;
  let security: Element | undefined;
  for (const c of el.getChildren()) {
    if (c.localName === 'description' && description === undefined) description = parseDescription(c, ns);
    else if (c.localName === 'transport' && transport === undefined) transport = parseTransport(c, ns);
    else if (c.localName === 'security' && security === undefined) security = c;
  }
  return compact({
    creator: enumAttr(el, 'creator', CREATORS) ?? 'initiator', // default of XEP-0166 before 1.0
    name, disposition: el.attrs.disposition, senders: enumAttr(el, 'senders', SENDERS),
    description, transport, security,
  });
}

export function parseReason(el: Element, parentNs: string | undefined = NS_JINGLE): Reason {
  const ns = nsOf(el, parentNs);
  let condition: ReasonCondition | undefined;
  let alternativeSession: string | undefined;
  let application: Element | undefined;
  for (const c of el.getChildren()) {
    const cns = nsOf(c, ns);
    if (cns === NS_JINGLE && isReasonCondition(c.localName) && condition === undefined) {
      condition = c.localName;
      if (condition === 'alternative-session') {
        // COMPAT: StanzaJS 12 writes the sid as the text of <alternative-session/>, not in <sid/> (§7.4).
        alternativeSession = childText(c, cns, NS_JINGLE, 'sid') ?? (c.text().trim() || undefined);
      }
    } else if (cns !== NS_JINGLE && application === undefined) {
      application = c;
    }
  }
  const text = childText(el, ns, NS_JINGLE, 'text');
  // An unknown or missing condition is not one the peer may rely on; general-error says as much.
  return compact({ condition: condition ?? 'general-error', text, alternativeSession, application });
}

export function writeJingle(j: Jingle): Element {
  return xml(
    'jingle',
    { xmlns: NS_JINGLE, action: j.action, initiator: j.initiator, responder: j.responder, sid: j.sid },
    j.contents.map(writeContent),
    (j.groups ?? []).map(writeGroup),
    j.reason && writeReason(j.reason),
    j.info && writeInfo(j.info),
  );
}

function writeContent(c: Content): Element {
  return xml(
    'content',
    { creator: c.creator, disposition: c.disposition, name: c.name, senders: c.senders },
    c.description && writeDescription(c.description),
    c.transport && writeTransport(c.transport),
    c.security,
  );
}

export function writeReason(r: Reason): Element {
  const condition = r.condition === 'alternative-session' && r.alternativeSession !== undefined
    ? xml('alternative-session', {}, xml('sid', {}, r.alternativeSession))
    : xml(r.condition);
  return xml('reason', {}, condition, r.text !== undefined && xml('text', {}, r.text), r.application);
}

/** §10: the XMPP condition and type each Jingle condition travels with (types as in the XEP's examples). */
const ERROR_MAP: Record<JingleErrorCondition, { condition: StanzaErrorCondition; type: StanzaErrorType }> = {
  'out-of-order': { condition: 'unexpected-request', type: 'wait' },
  'tie-break': { condition: 'conflict', type: 'cancel' },
  'unknown-content': { condition: 'item-not-found', type: 'cancel' },
  'unknown-session': { condition: 'item-not-found', type: 'cancel' },
  'unsupported-info': { condition: 'feature-not-implemented', type: 'modify' },
  'security-required': { condition: 'not-acceptable', type: 'cancel' },
};

/** A stanza error carrying both the general condition and the Jingle one. */
export function jingleError(condition: JingleErrorCondition, text?: string): StanzaError {
  const { condition: general, type } = ERROR_MAP[condition];
  return stanzaError(general, { type, text, application: xml(condition, { xmlns: NS_JINGLE_ERRORS }) });
}

/** The Jingle-specific condition of a stanza error, if it has one. */
export function jingleErrorCondition(err: StanzaError | undefined): JingleErrorCondition | undefined {
  const app = err?.application;
  if (!app || app.attrs.xmlns !== NS_JINGLE_ERRORS) return undefined;
  return (JINGLE_ERROR_CONDITIONS as readonly string[]).includes(app.localName) ? (app.localName as JingleErrorCondition) : undefined;
}

/** The reason element's condition is checked here for callers that take user input. */
export function reasonOf(input: ReasonCondition | Reason): Reason {
  const reason = typeof input === 'string' ? { condition: input } : input;
  if (!isReasonCondition(reason.condition)) throw new RangeError(`not a XEP-0166 §7.4 reason: ${String(reason.condition)}`);
  return reason;
}

