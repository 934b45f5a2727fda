// Start tags, end tags (XML 1.0 §3.1) and the XML declaration (§2.8), read
// from the parser's buffer. Each scanner either reads the whole construct and
// returns the index after it, or finds the buffer ends inside it and returns
// INCOMPLETE, having checked everything up to the end, so a fault is
// refused as soon as it arrives, not when the construct is complete. They
// have no side effects besides `TagScan`, so the parser can run one again
// from the same '<' once more input has come.

import { emptyAttrs, type Attrs } from './element.ts';
import { ATTRIBUTE, checkPendingReference, cook, isHighSurrogate, isXmlSpace, refuse, scanName, type SpecialChars } from './xml-syntax.ts';

export const INCOMPLETE = -1;

const GT = 0x3e;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;

/** Stands in for a tag's attributes between scans. */
const NO_ATTRS: Attrs = emptyAttrs();

/** What the last scan found; one instance per parser, reused for every tag. */
export class TagScan {
  name = '';
  attrs: Attrs = NO_ATTRS;
  attributeCount = 0;
  selfClosing = false;

  /** Lets go of the last tag, and through its name of the chunk it was read from. */
  release(): void {
    this.name = '';
    this.attrs = NO_ATTRS;
  }
}

/**
 * The names nearly every stanza carries, by length. Reading one of these
 * gives back the constant, not a new slice: an attribute stored under it
 * needs no string-table lookup, and comparing it with the same constant
 * elsewhere is a pointer check.
 */
const COMMON_NAMES: readonly (readonly string[])[] = (() => {
  const byLength: string[][] = [];
  for (const name of ['to', 'id', 'iq', 'from', 'type', 'body', 'xmlns', 'message', 'presence', 'xml:lang']) (byLength[name.length] ??= []).push(name);
  return byLength;
})();

/** `s[from, to)`, a Name: one of COMMON_NAMES, or a slice. */
function nameAt(s: string, from: number, to: number): string {
  const candidates = COMMON_NAMES[to - from];
  if (candidates !== undefined) {
    for (const name of candidates) if (s.startsWith(name, from)) return name;
  }
  return s.slice(from, to);
}

/** The first index from `k` that is not S, or `s.length`. */
function skipSpace(s: string, k: number): number {
  while (k < s.length && isXmlSpace(s.charCodeAt(k))) k++;
  return k;
}

/** §3.1 STag / EmptyElemTag at `s[p] === '<'`; `s[p + 1]` is not '/', '!' or '?'. */
export function scanStartTag(s: string, p: number, chars: SpecialChars, out: TagScan): number {
  const len = s.length;
  let k = scanName(s, p + 1);
  if (k >= len) return INCOMPLETE;
  if (k === p + 1) refuse('not-well-formed', "'<' not followed by a name");
  // Fast-mode, with nothing inherited: `__proto__` or `constructor` is an attribute like any other (element.ts).
  const attrs = emptyAttrs();
  let count = 0;
  out.name = nameAt(s, p + 1, k);
  for (;;) {
    const beforeSpace = k;
    k = skipSpace(s, k);
    if (k >= len) return INCOMPLETE;
    let c = s.charCodeAt(k);
    if (c === GT || c === SLASH) {
      if (c === SLASH) {
        if (k + 1 >= len) return INCOMPLETE;
        if (s.charCodeAt(k + 1) !== GT) refuse('not-well-formed', "'/' not followed by '>' in a tag");
        k++;
      }
      out.attrs = attrs;
      out.attributeCount = count;
      out.selfClosing = c === SLASH;
      return k + 1;
    }
    // §3.1 [40]: (S Attribute)* — an attribute must follow whitespace.
    if (k === beforeSpace && k !== p + 1 + out.name.length) refuse('not-well-formed', 'no whitespace before an attribute');
    const nameEnd = scanName(s, k);
    if (nameEnd >= len) return INCOMPLETE;
    if (nameEnd === k) refuse('not-well-formed', 'an unexpected character in a tag');
    const name = nameAt(s, k, nameEnd);
    k = isXmlSpace(s.charCodeAt(nameEnd)) ? skipSpace(s, nameEnd) : nameEnd;
    if (k >= len) return INCOMPLETE;
    if (s.charCodeAt(k) !== EQUALS) refuse('not-well-formed', 'an attribute without a value');
    k++;
    if (k < len && isXmlSpace(s.charCodeAt(k))) k = skipSpace(s, k);
    if (k >= len) return INCOMPLETE;
    c = s.charCodeAt(k);
    if (c !== QUOTE && c !== APOSTROPHE) refuse('not-well-formed', 'an unquoted attribute value');
    const close = s.indexOf(c === QUOTE ? '"' : "'", k + 1);
    if (close < 0) {
      checkPartialValue(s, k + 1);
      return INCOMPLETE;
    }
    const value = chars.cook(k + 1, close, ATTRIBUTE);
    // §3.1 WFC Unique Att Spec.
    if (count !== 0 && attrs[name] !== undefined) refuse('not-well-formed', `duplicate attribute ${name}`);
    attrs[name] = value;
    count++;
    k = close + 1;
  }
}

/** The start of an attribute value whose closing quote has not arrived: what is there must be right. */
function checkPartialValue(s: string, from: number): void {
  let end = s.length;
  const amp = s.lastIndexOf('&');
  if (amp >= from && s.indexOf(';', amp) < 0) end = amp;
  else if (isHighSurrogate(s.charCodeAt(end - 1))) end--;
  cook(s, from, end, ATTRIBUTE);
  if (end === amp) checkPendingReference(s.slice(amp + 1));
}

/**
 * §3.1 ETag at `s[p] === '<'`, `s[p + 1] === '/'`; the name goes to `out.name`,
 * as the very string `expected` when it is the one that was expected.
 */
export function scanEndTag(s: string, p: number, expected: string, out: TagScan): number {
  const len = s.length;
  // The common case, `</name>` closing the current element, without slicing the name out.
  const gt = p + 2 + expected.length;
  if (gt < len && s.charCodeAt(gt) === GT && s.startsWith(expected, p + 2)) {
    out.name = expected;
    return gt + 1;
  }
  const nameEnd = scanName(s, p + 2);
  if (nameEnd >= len) return INCOMPLETE;
  if (nameEnd === p + 2) refuse('not-well-formed', "'</' not followed by a name");
  const k = skipSpace(s, nameEnd);
  if (k >= len) return INCOMPLETE;
  if (s.charCodeAt(k) !== GT) refuse('not-well-formed', 'an unexpected character in a close tag');
  out.name = s.slice(p + 2, nameEnd);
  return k + 1;
}

const S = '[ \\t\\r\\n]';
const EQ = `${S}*=${S}*`;
/** §2.8 [23] XMLDecl, between '<?xml' and '?>'. */
const XML_DECL_BODY = new RegExp(
  `^${S}+version${EQ}(?:'1\\.[0-9]+'|"1\\.[0-9]+")` +
    `(?:${S}+encoding${EQ}(?:'[A-Za-z][A-Za-z0-9._-]*'|"[A-Za-z][A-Za-z0-9._-]*"))?` +
    `(?:${S}+standalone${EQ}(?:'(?:yes|no)'|"(?:yes|no)"))?${S}*$`,
);

/** §2.8 XMLDecl at `s[p] === '<'`, where '<?xml' and a space are known to follow. */
function scanXmlDeclaration(s: string, p: number): number {
  // '?' can only be the start of '?>': no pseudo-attribute value may hold one.
  const question = s.indexOf('?', p + 5);
  if (question >= 0 && question + 1 < s.length && s.charCodeAt(question + 1) !== GT) refuse('not-well-formed', 'a malformed XML declaration');
  const gt = s.indexOf('>', p + 5);
  if (gt < 0) return INCOMPLETE;
  if (s.charCodeAt(gt - 1) !== 0x3f || !XML_DECL_BODY.test(s.slice(p + 5, gt - 1))) refuse('not-well-formed', 'a malformed XML declaration');
  return gt + 1;
}

/**
 * `<!` at `s[p]`: the index after `<![CDATA[` (§2.7), or INCOMPLETE. A
 * comment or a DTD is refused as soon as its opening is recognised (RFC 6120
 * §11.1); anything else after `<!` is not XML.
 */
export function scanCdataStart(s: string, p: number): number {
  if (p + 2 >= s.length) return INCOMPLETE;
  const c = s.charCodeAt(p + 2);
  const keyword = c === 0x5b /* [ */ ? '<![CDATA[' : c === 0x44 /* D */ ? '<!DOCTYPE' : c === 0x2d /* - */ ? '<!--' : '';
  const have = Math.min(keyword.length, s.length - p);
  if (keyword === '' || !s.startsWith(keyword.slice(0, have), p)) refuse('not-well-formed', "'<!' not followed by '--', '[CDATA[' or 'DOCTYPE'");
  if (have < keyword.length) return INCOMPLETE;
  if (c === 0x2d) refuse('restricted-xml', 'comments are not allowed');
  if (c === 0x44) refuse('restricted-xml', 'DTDs are not allowed');
  return p + 9;
}

/**
 * `<?` at `s[p]`: the XML declaration (§2.8), allowed only `atStart` of a
 * stream; the index after it, or INCOMPLETE. Any other processing
 * instruction is restricted XML (RFC 6120 §11.1).
 */
export function scanProcessingInstruction(s: string, p: number, atStart: boolean): number {
  const nameEnd = scanName(s, p + 2);
  if (nameEnd >= s.length) return INCOMPLETE;
  if (nameEnd === p + 2) refuse('not-well-formed', "'<?' not followed by a name");
  const c = s.charCodeAt(nameEnd);
  if (c !== 0x3f && !isXmlSpace(c)) refuse('not-well-formed', 'an unexpected character in a processing instruction target');
  const target = s.slice(p + 2, nameEnd);
  // §2.6: targets matching [Xx][Mm][Ll] are reserved; only the declaration itself is 'xml'.
  if (target.toLowerCase() !== 'xml') refuse('restricted-xml', 'processing instructions are not allowed');
  if (target !== 'xml' || !atStart) refuse('not-well-formed', 'an XML declaration after the start of the stream');
  return scanXmlDeclaration(s, p);
}

/**
 * Finds the '>' that ends a tag whose start is already buffered, reading one
 * chunk at a time and remembering whether it is inside a quoted value (and
 * a reference), so a large tag that arrives in many small chunks is read
 * once, not once per chunk. Faults that need no more context are refused on
 * the way: '<' anywhere in a tag (§3.1, §3.3.3), '&' outside a value and a
 * bare '&' inside one.
 */
export class TagEndFinder {
  private quote = 0;
  private inReference = false;

  reset(): void {
    this.quote = 0;
    this.inReference = false;
  }

  /** The index of the tag's '>' in `s[from, s.length)`, or -1. */
  find(s: string, from: number): number {
    let quote = this.quote;
    let inReference = this.inReference;
    for (let k = from; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c === 0x3c) refuse('not-well-formed', "'<' inside a tag");
      if (inReference) {
        if (c === 0x3b /* ; */) inReference = false;
        else if (isXmlSpace(c) || c === GT || c === 0x26 || c === QUOTE || c === APOSTROPHE || c === EQUALS || c === SLASH) refuse('not-well-formed', "unescaped '&'");
      } else if (quote !== 0) {
        if (c === quote) quote = 0;
        else if (c === 0x26) inReference = true;
      } else if (c === GT) {
        this.reset();
        return k;
      } else if (c === QUOTE || c === APOSTROPHE) {
        quote = c;
      } else if (c === 0x26) {
        refuse('not-well-formed', "'&' outside an attribute value");
      }
    }
    this.quote = quote;
    this.inReference = inReference;
    return -1;
  }
}
