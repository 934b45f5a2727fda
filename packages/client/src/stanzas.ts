// Stanza builders (RFC 6120 §8, RFC 6121 §4.7 and §5.2). Markup escaping
// is Element#toString's job; what escaping cannot fix is a character that
// XML 1.0 does not allow at all (XML 1.0 §2.2: most C0 controls, lone
// surrogates, U+FFFE/U+FFFF). One of those on the wire makes the server
// close the stream (not-well-formed), and with XEP-0198 the same stanza
// would be re-sent after every reconnect. So the builders replace them with
// U+FFFD, and Client#send refuses any element that still carries one.

import { Element, xml } from '@switchboard/xml';
import type { MessageType, PresenceType } from '@switchboard/protocol';
import { ClientError } from './errors.ts';

/** Anything outside XML 1.0's Char production. With the u flag a lone surrogate is one code point and matches. */
// eslint-disable-next-line no-control-regex -- naming the allowed controls is the point
const NOT_XML_CHAR = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const NOT_XML_CHARS = new RegExp(NOT_XML_CHAR.source, 'gu');

/** `text` with every character XML 1.0 cannot carry replaced by U+FFFD. */
export function xmlSafe(text: string): string {
  return NOT_XML_CHAR.test(text) ? text.replace(NOT_XML_CHARS, '\uFFFD') : text;
}

/** Throws SB_ERR_INVALID_XML when a name, attribute or text of `el` cannot be serialised as XML 1.0. */
export function assertXmlChars(el: Element): void {
  const bad = (s: string): boolean => NOT_XML_CHAR.test(s);
  const check = (e: Element): void => {
    if (bad(e.name)) throw invalid(`the element name ${JSON.stringify(e.name)}`);
    for (const [key, value] of Object.entries(e.attrs)) if (bad(key) || bad(value)) throw invalid(`the attribute ${key}`);
    for (const child of e.children) {
      if (typeof child === 'string') {
        if (bad(child)) throw invalid(`the text of <${e.name}>`);
      } else check(child);
    }
  };
  check(el);
}

function invalid(where: string): ClientError {
  return new ClientError('SB_ERR_INVALID_XML', `${where} contains a character XML 1.0 cannot carry (use xmlSafe())`);
}

const attrs = (fields: Record<string, string | undefined>): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(fields)) out[key] = value === undefined ? undefined : xmlSafe(value);
  return out;
};
const text = (name: string, value: string | undefined, extra: Record<string, string> = {}): Element | undefined =>
  value === undefined ? undefined : xml(name, extra, xmlSafe(value));

export interface MessageFields {
  to?: string;
  type?: MessageType;
  id?: string;
  /** xml:lang of the message (RFC 6120 §8.1.5). */
  lang?: string;
  body?: string;
  subject?: string;
  thread?: string;
}

/** RFC 6121 §5.2: `<message/>` with optional body, subject and thread, then any extension elements. */
export function message(fields: MessageFields, ...extensions: Element[]): Element {
  const { to, type, id, lang } = fields;
  return xml('message', attrs({ to, type, id, 'xml:lang': lang }), text('subject', fields.subject), text('body', fields.body), text('thread', fields.thread), ...extensions);
}

export interface PresenceFields {
  to?: string;
  /** Absent for availability (RFC 6121 §4.7.1). */
  type?: Exclude<PresenceType, 'available'>;
  id?: string;
  show?: 'away' | 'chat' | 'dnd' | 'xa';
  status?: string;
  /** RFC 6121 §4.7.2.3: an integer from -128 to +127. */
  priority?: number;
}

/** RFC 6121 §4.7: `<presence/>`; throws RangeError for a priority outside -128..127 (a programming error). */
export function presence(fields: PresenceFields = {}, ...extensions: Element[]): Element {
  const { to, type, id, priority } = fields;
  if (priority !== undefined && (!Number.isInteger(priority) || priority < -128 || priority > 127)) {
    throw new RangeError(`presence priority must be an integer from -128 to 127, not ${priority}`);
  }
  return xml('presence', attrs({ to, type, id }), text('show', fields.show), text('status', fields.status), priority !== undefined && xml('priority', {}, String(priority)), ...extensions);
}

/** RFC 6120 §8.2.3: an iq get or set carries exactly one payload; Client#iq adds the id. */
export function iq(fields: { type: 'get' | 'set'; to?: string; id?: string }, payload: Element): Element {
  return xml('iq', attrs(fields), payload);
}
