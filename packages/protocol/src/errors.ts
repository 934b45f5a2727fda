// RFC 6120 §4.9 (stream errors) and §8.3 (stanza errors) as typed values.
// Stream errors end the stream; stanza errors are answers to one stanza.

import { Element, xml } from '@switchboard/xml';
import { NS_STANZA_ERRORS, NS_STREAM_ERRORS } from './namespaces.ts';

/** RFC 6120 §4.9.3. */
export const STREAM_ERROR_CONDITIONS = [
  'bad-format', 'bad-namespace-prefix', 'conflict', 'connection-timeout', 'host-gone', 'host-unknown',
  'improper-addressing', 'internal-server-error', 'invalid-from', 'invalid-namespace', 'invalid-xml',
  'not-authorized', 'not-well-formed', 'policy-violation', 'remote-connection-failed', 'reset',
  'resource-constraint', 'restricted-xml', 'see-other-host', 'system-shutdown', 'undefined-condition',
  'unsupported-encoding', 'unsupported-feature', 'unsupported-stanza-type', 'unsupported-version',
] as const;
export type StreamErrorCondition = (typeof STREAM_ERROR_CONDITIONS)[number];

/** RFC 6120 §8.3.3. */
export const STANZA_ERROR_CONDITIONS = [
  'bad-request', 'conflict', 'feature-not-implemented', 'forbidden', 'gone', 'internal-server-error',
  'item-not-found', 'jid-malformed', 'not-acceptable', 'not-allowed', 'not-authorized', 'policy-violation',
  'recipient-unavailable', 'redirect', 'registration-required', 'remote-server-not-found',
  'remote-server-timeout', 'resource-constraint', 'service-unavailable', 'subscription-required',
  'undefined-condition', 'unexpected-request',
] as const;
export type StanzaErrorCondition = (typeof STANZA_ERROR_CONDITIONS)[number];

/** RFC 6120 §8.3.2. */
export const STANZA_ERROR_TYPES = ['auth', 'cancel', 'continue', 'modify', 'wait'] as const;
export type StanzaErrorType = (typeof STANZA_ERROR_TYPES)[number];

/** The type each condition carries unless told otherwise (the examples of RFC 6120 §8.3.3). */
const DEFAULT_TYPE: Record<StanzaErrorCondition, StanzaErrorType> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

export interface StanzaError {
  readonly kind: 'stanza-error';
  readonly condition: StanzaErrorCondition;
  readonly type: StanzaErrorType;
  readonly text?: string;
  /** An application-specific condition element (RFC 6120 §8.3.4). */
  readonly application?: Element;
  /** The entity that generated the error (`by`). */
  readonly by?: string;
  /** gone and redirect: the new address, carried as the condition element's text (RFC 6120 §8.3.3.5, §8.3.3.14). */
  readonly uri?: string;
}

export interface StreamError {
  readonly kind: 'stream-error';
  readonly condition: StreamErrorCondition;
  readonly text?: string;
  readonly application?: Element;
  /** see-other-host: the host to reconnect to, carried as the condition element's text (RFC 6120 §4.9.3.19). */
  readonly host?: string;
}

export function stanzaError(
  condition: StanzaErrorCondition,
  options: { type?: StanzaErrorType; text?: string; application?: Element; by?: string; uri?: string } = {},
): StanzaError {
  return { kind: 'stanza-error', condition, type: options.type ?? DEFAULT_TYPE[condition], ...stripUndefined(options) };
}

export function streamError(condition: StreamErrorCondition, text?: string, application?: Element): StreamError {
  return { kind: 'stream-error', condition, ...stripUndefined({ text, application }) };
}

/** RFC 6120 §4.9.3.19: the peer should connect to `host` (a hostname, an IPv4 address or a bracketed IPv6 address, with an optional port). */
export function seeOtherHost(host: string, text?: string): StreamError {
  return { kind: 'stream-error', condition: 'see-other-host', host, ...stripUndefined({ text }) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(o) as (keyof T)[]) if (o[key] !== undefined) out[key] = o[key];
  return out;
}

export function isStanzaError(value: unknown): value is StanzaError {
  return typeof value === 'object' && value !== null && (value as StanzaError).kind === 'stanza-error';
}

/** `<error type='…'><condition xmlns='…stanzas'/><text/>?app?</error>` (RFC 6120 §8.3.2). */
export function stanzaErrorElement(err: StanzaError): Element {
  return xml(
    'error',
    { type: err.type, by: err.by },
    xml(err.condition, { xmlns: NS_STANZA_ERRORS }, err.uri),
    err.text !== undefined && xml('text', { xmlns: NS_STANZA_ERRORS, 'xml:lang': 'en' }, err.text),
    err.application,
  );
}

/** `<stream:error>` (RFC 6120 §4.9.2). */
export function streamErrorElement(err: StreamError): Element {
  return xml(
    'stream:error',
    {},
    xml(err.condition, { xmlns: NS_STREAM_ERRORS }, err.host),
    err.text !== undefined && xml('text', { xmlns: NS_STREAM_ERRORS, 'xml:lang': 'en' }, err.text),
    err.application,
  );
}

function isKnown<T extends string>(list: readonly T[], name: string): name is T {
  return (list as readonly string[]).includes(name);
}

/** The defined condition (and its character data, if any), text and application element of an error element's children. */
function readErrorChildren<T extends string>(
  el: Element,
  ns: string,
  known: readonly T[],
): { condition: T | undefined; data?: string; text?: string; application?: Element } {
  let condition: T | undefined;
  let data: string | undefined;
  let text: string | undefined;
  let application: Element | undefined;
  for (const child of el.getChildren()) {
    if (child.attrs.xmlns === ns) {
      if (child.name === 'text') text = child.text();
      else if (isKnown(known, child.name)) {
        condition = child.name;
        data = child.text().trim() || undefined;
      }
    } else {
      application = child;
    }
  }
  return { condition, data, text, application };
}

/** Reads the `<error/>` child of a `type='error'` stanza. Unknown conditions read as undefined-condition. */
export function parseStanzaError(stanza: Element): StanzaError | undefined {
  const error = stanza.getChild('error');
  if (!error) return undefined;
  const { condition = 'undefined-condition', data, text, application } = readErrorChildren(error, NS_STANZA_ERRORS, STANZA_ERROR_CONDITIONS);
  // A missing or unknown type reads as the condition's default, so the value is always one of the five.
  const attr = error.attrs.type;
  const type = attr !== undefined && isKnown(STANZA_ERROR_TYPES, attr) ? attr : DEFAULT_TYPE[condition];
  const uri = condition === 'gone' || condition === 'redirect' ? data : undefined;
  return stanzaError(condition, { type, text, application, by: error.attrs.by, uri });
}

/** Reads a `<stream:error>` element. */
export function parseStreamError(el: Element): StreamError {
  const { condition = 'undefined-condition', data, text, application } = readErrorChildren(el, NS_STREAM_ERRORS, STREAM_ERROR_CONDITIONS);
  if (condition === 'see-other-host' && data !== undefined) return { ...seeOtherHost(data, text), ...stripUndefined({ application }) };
  return streamError(condition, text, application);
}

/**
 * The error reply to a stanza (RFC 6120 §8.3.1): addresses swapped, type
 * error, original payload kept. Returns undefined for a stanza that must never
 * be answered with an error (type error, or an iq result), so error loops
 * cannot start.
 */
export function replyWithError(stanza: Element, err: StanzaError): Element | undefined {
  const type = stanza.attrs.type;
  if (type === 'error' || (stanza.name === 'iq' && type === 'result')) return undefined;
  const reply = xml(stanza.name, { from: stanza.attrs.to, to: stanza.attrs.from, id: stanza.attrs.id, type: 'error' });
  // An iq error carries the request's payload back (§8.3.1 rule 4, optional); messages and presence keep theirs.
  for (const child of stanza.children) if (typeof child !== 'string') reply.children.push(child);
  reply.children.push(stanzaErrorElement(err));
  return reply;
}
