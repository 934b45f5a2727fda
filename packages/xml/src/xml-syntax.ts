// The XML 1.0 (Fifth Edition) productions the stream parser checks on
// character data: Name (§2.3), Char (§2.2), CharData without ']]>' (§2.4),
// references (§4.1, restricted by RFC 6120 §11.1 to the five predefined
// entities and character references), end-of-line handling (§2.11) and
// attribute-value normalisation (§3.3.3).
//
// Everything here works on a range of the parser's buffer, by char code, so
// that the common case (plain text, ASCII names) costs one pass and one slice.

import type { ParseFailureCondition } from './limits.ts';

/** Why a piece of input is refused; the stream parser turns it into a stream error. */
export class Refusal extends Error {
  constructor(
    readonly condition: ParseFailureCondition,
    text: string,
  ) {
    super(text);
  }
}

export function refuse(condition: ParseFailureCondition, text: string): never {
  throw new Refusal(condition, text);
}

const NAME_START_CHARS =
  ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F' +
  '\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHARS = NAME_START_CHARS + '\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040';

// The classes hold combining marks (U+0300–036F) on purpose: they are NameChars (§2.3 [4a]).
/** Sticky: set `lastIndex`, `test()`, and `lastIndex` is the end of the Name. */
// eslint-disable-next-line no-misleading-character-class
const NAME = new RegExp(`[${NAME_START_CHARS}][${NAME_CHARS}]*`, 'uy');
// eslint-disable-next-line no-misleading-character-class
const WHOLE_NAME = new RegExp(`^[${NAME_START_CHARS}][${NAME_CHARS}]*$`, 'u');

/** ASCII part of §2.3: bit 1 NameChar, bit 2 NameStartChar. */
const NAME_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[:A-Z_a-z]/.test(ch)) NAME_CLASS[c] = 3;
  else if (/[-.0-9]/.test(ch)) NAME_CLASS[c] = 1;
}

/** Characters that cannot occur between '&' and ';' of a reference. */
const NOT_IN_REFERENCE = /[\t\n\r <>&'"=/;]/;

/**
 * Longest reference body ('&' … ';') waited for across chunks. The five
 * predefined names are at most four characters and `#x10FFFF` is eight; only
 * leading zeros could make a valid one longer. Bounding it keeps a reference
 * that never ends from being re-read with every chunk.
 */
const MAX_PENDING_REFERENCE = 64;

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function isXmlSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d;
}

export function isAllSpace(text: string, from = 0, to = text.length): boolean {
  for (let i = from; i < to; i++) if (!isXmlSpace(text.charCodeAt(i))) return false;
  return true;
}

export function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isName(text: string): boolean {
  return WHOLE_NAME.test(text);
}

/**
 * The end of the Name that starts at `from`: `from` itself if none starts
 * there, `s.length` if the Name may go on in the next chunk (it reaches the
 * end, or stops at a high surrogate whose pair has not arrived yet).
 */
export function scanName(s: string, from: number): number {
  const len = s.length;
  if (from >= len) return len;
  let c = s.charCodeAt(from);
  if (c >= 128) return scanNameSlow(s, from);
  if ((NAME_CLASS[c]! & 2) === 0) return from;
  let k = from + 1;
  while (k < len) {
    c = s.charCodeAt(k);
    if (c >= 128) return scanNameSlow(s, from);
    if (NAME_CLASS[c] === 0) return k;
    k++;
  }
  return k;
}

function scanNameSlow(s: string, from: number): number {
  NAME.lastIndex = from;
  const end = NAME.test(s) ? NAME.lastIndex : from;
  return end === s.length - 1 && isHighSurrogate(s.charCodeAt(end)) ? s.length : end;
}

function isCharCode(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

/** The text a reference stands for; `body` is what lies between '&' and ';'. */
function referenced(body: string): string {
  if (body.charCodeAt(0) === 0x23 /* # */) {
    const hex = body.charCodeAt(1) === 0x78; /* x */
    const digits = body.slice(hex ? 2 : 1);
    if (!(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) refuse('not-well-formed', 'malformed character reference');
    const code = parseInt(digits, hex ? 16 : 10);
    if (!isCharCode(code)) refuse('not-well-formed', 'a character reference to a character XML does not allow');
    return String.fromCodePoint(code);
  }
  if (Object.hasOwn(PREDEFINED, body)) return PREDEFINED[body]!;
  if (isName(body)) refuse('restricted-xml', 'entity references are not allowed');
  refuse('not-well-formed', "unescaped '&'");
}

/**
 * Checks the start of a reference whose ';' has not arrived yet (`body` is
 * what follows the '&'): a character no reference can hold means the '&' was
 * bare, and it is refused now rather than swallowing input up to the limit.
 */
export function checkPendingReference(body: string): void {
  if (NOT_IN_REFERENCE.test(body)) refuse('not-well-formed', "unescaped '&'");
  // A high surrogate at the very end may be half of a NameChar whose other half is in the next chunk.
  const whole = isHighSurrogate(body.charCodeAt(body.length - 1)) ? body.slice(0, -1) : body;
  if (NOT_CHAR.test(whole)) refuse('not-well-formed', 'a character XML does not allow');
  if (body.length > MAX_PENDING_REFERENCE) {
    if (isName(body)) refuse('restricted-xml', 'entity references are not allowed');
    refuse('not-well-formed', 'reference too long');
  }
}

/** What a range of the buffer is, for {@link cook}. */
export const TEXT = 0;
export const ATTRIBUTE = 1;
export const CDATA = 2;
export type Kind = typeof TEXT | typeof ATTRIBUTE | typeof CDATA;

/**
 * Checks `s[from, to)` and returns the characters it stands for, in one pass
 * and in document order (so the first fault is the one reported):
 * - TEXT: CharData and references; ']]>' refused (§2.4), CR LF and lone CR to LF (§2.11).
 * - ATTRIBUTE: an AttValue without its quotes; '<' refused, literal tab, CR,
 *   LF and CR LF to one space, then references expanded (§3.3.3).
 * - CDATA: a CDATA section's content (§2.7); only Char and line ends.
 * The range must not end inside a reference or between CR and LF.
 */
export function cook(s: string, from: number, to: number, kind: Kind): string {
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c < 128 ? PLAIN[c] === 0 : c >= 0xd800) return cookSlowly(s, from, to, kind, k);
  }
  return s.slice(from, to);
}

/** Anything that is not a Char (§2.2), or may not be: control characters, surrogates, U+FFFE/FFFF. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const MAYBE_NOT_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/;
/** Anything outside Char, lone surrogates included. */
const NOT_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Where the characters that need work are in the buffer being parsed, found
 * with indexOf and one regular expression rather than a loop in JavaScript:
 * a buffer without a character outside Char (nearly all of them) needs no
 * per-character check at all, and a value or text run between two
 * occurrences of '&', '<', ']', tab, CR or LF is used as it is. Each position
 * only moves forward, so the whole buffer is searched about once per character.
 */
export class SpecialChars {
  private s = '';
  /** No character outside Char in the buffer: only the characters below need looking at. */
  private clean = false;
  private amp = 0;
  private lt = 0;
  private rsqb = 0;
  private tab = 0;
  private lf = 0;
  private cr = 0;

  reset(s: string): void {
    this.s = s;
    this.clean = !MAYBE_NOT_CHAR.test(s) || !NOT_CHAR.test(s);
    this.amp = this.lt = this.rsqb = this.tab = this.lf = this.cr = -1;
  }

  /** Lets go of the buffer once it is parsed. */
  release(): void {
    this.s = '';
  }

  private next(c: string, at: number, from: number): number {
    if (at >= from) return at;
    const found = this.s.indexOf(c, from);
    return found < 0 ? this.s.length : found;
  }

  /** `s[from, to)` of the buffer as TEXT, ATTRIBUTE or CDATA, as {@link cook} would give it. */
  cook(from: number, to: number, kind: Kind): string {
    const s = this.s;
    if (!this.clean) return cook(s, from, to, kind);
    // The first character in the range that may need work; all before it are plain.
    let first = (this.cr = this.next('\r', this.cr, from));
    if (kind !== CDATA) {
      first = Math.min(first, (this.amp = this.next('&', this.amp, from)));
      if (kind === ATTRIBUTE) {
        first = Math.min(first, (this.lt = this.next('<', this.lt, from)), (this.tab = this.next('\t', this.tab, from)), (this.lf = this.next('\n', this.lf, from)));
      } else {
        first = Math.min(first, (this.rsqb = this.next(']', this.rsqb, from)));
      }
    }
    return first < to ? cookSlowly(s, from, to, kind, first) : s.slice(from, to);
  }
}

/** Printable ASCII that means nothing special in text, attribute values or CDATA sections. */
const PLAIN = new Uint8Array(128);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = c === 0x26 || c === 0x3c || c === 0x5d ? 0 : 1;

/** {@link cook} from `s[first]`, the first character that may need work. */
function cookSlowly(s: string, from: number, to: number, kind: Kind, first: number): string {
  let out = '';
  let start = from;
  for (let k = first; k < to; k++) {
    const c = s.charCodeAt(k);
    // The common case: printable BMP characters below the surrogates that need nothing.
    if (c >= 0x20 && c < 0xd800 && c !== 0x26 && c !== 0x3c && c !== 0x5d) continue;
    if (c === 0x26 /* & */) {
      if (kind === CDATA) continue;
      const semicolon = s.indexOf(';', k + 1);
      if (semicolon < 0 || semicolon >= to) refuse('not-well-formed', "unescaped '&'");
      out += s.slice(start, k) + referenced(s.slice(k + 1, semicolon));
      k = semicolon;
      start = k + 1;
    } else if (c === 0x5d /* ] */) {
      if (kind === TEXT && k + 2 < to && s.charCodeAt(k + 1) === 0x5d && s.charCodeAt(k + 2) === 0x3e) refuse('not-well-formed', "']]>' in text");
    } else if (c === 0x3c /* < */) {
      if (kind === ATTRIBUTE) refuse('not-well-formed', "'<' in an attribute value");
    } else if (c === 0x0d) {
      out += s.slice(start, k) + (kind === ATTRIBUTE ? ' ' : '\n');
      if (k + 1 < to && s.charCodeAt(k + 1) === 0x0a) k++;
      start = k + 1;
    } else if (c === 0x0a || c === 0x09) {
      if (kind !== ATTRIBUTE) continue;
      out += s.slice(start, k) + ' ';
      start = k + 1;
    } else if (c < 0x20) {
      refuse('not-well-formed', 'a character XML does not allow');
    } else if (c <= 0xdbff) {
      // A high surrogate must be followed by a low one (§2.2 Char: a supplementary character).
      const next = k + 1 < to ? s.charCodeAt(k + 1) : 0;
      if (next < 0xdc00 || next > 0xdfff) refuse('not-well-formed', 'a lone surrogate');
      k++;
    } else if (c <= 0xdfff || c === 0xfffe || c === 0xffff) {
      refuse('not-well-formed', 'a character XML does not allow');
    }
  }
  return start === from ? s.slice(from, to) : out + s.slice(start, to);
}
