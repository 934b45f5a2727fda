// A strict, incremental XML parser for XMPP streams: RFC 6120 §4 framing (or
// RFC 7395 §3.3 WebSocket framing), the XML 1.0 well-formedness rules a
// stream needs, the restricted XML profile of RFC 6120 §11.1 and the size
// limits of §13.12.
//
// How it reads: each chunk is scanned with indexOf and charCodeAt, and names,
// values and text are sliced out, so a stanza that arrives whole in one read
// is one pass over it. When a chunk ends inside a tag, the tag's start is
// kept (`carry`) and read again from its '<' with the next chunk; text is
// consumed as it comes and only a few characters that the next chunk could
// change (a reference, CR before LF, ']]', half a surrogate pair) are kept.
// A tag too big to re-read with every chunk is followed by TagEndFinder
// until its '>' arrives.
//
// What an unfinished stanza costs (RFC 6120 §13.12): a tree costs V8 some
// 40 times the text it was read from (an empty element, ~150 bytes). A
// stanza that ends in the write it began in is built as a tree while it is
// read, as before. One still open when a write ends also has its text kept
// from its '<' on (HeldText); its tree is kept too while it is small
// (limits.maxHeldTree), and dropped once it is not: the rest is then checked as it
// comes with no tree, the names of its open elements on a stack, and when it
// ends its text is parsed again, whole. So what a peer can make the parser
// hold between reads is its bytes (at most the stanza limit) and a small
// tree at most, not a tree of all its bytes.

import { Element, type Attrs } from './element.ts';
import { HeldText } from './held-text.ts';
import { DEFAULT_LIMITS, type ParseFailure, type ParserLimits } from './limits.ts';
import { INCOMPLETE, TagEndFinder, TagScan, scanCdataStart, scanEndTag, scanProcessingInstruction, scanStartTag } from './scan-markup.ts';
import { CDATA, Refusal, SpecialChars, TEXT, checkPendingReference, isAllSpace, isHighSurrogate, isXmlSpace, refuse } from './xml-syntax.ts';

const NS_STREAMS = 'http://etherx.jabber.org/streams';

/** A carried tag up to this long is simply scanned again with each chunk; beyond it, see TagEndFinder. */
const RESCAN_LIMIT = 256;

/**
 * The estimated heap cost of an element in a tree, for limits.maxHeldTree: an
 * unfinished stanza's tree costs ELEMENT_COST per element and two bytes per
 * character (bench/parser-memory.ts measures the real cost). With the default
 * budget, a 50-item roster keeps its tree.
 */
const ELEMENT_COST = 160;

export interface StreamParserEvents {
  /** The `<stream:stream>` header (TCP framing only). */
  streamOpen(attrs: Attrs): void;
  /**
   * A complete top-level element: a stanza, or a stream-level element such as `<starttls/>`.
   * `source` is its text exactly as it came (from the stream, or held while it came in several writes).
   */
  element(el: Element, source?: string): void;
  /** `</stream:stream>` (TCP framing only). */
  streamClose(): void;
  /** The peer broke the rules; the parser is dead after this and ignores further input. */
  failure(failure: ParseFailure): void;
}

/**
 * `stream`: RFC 6120 framing, one long document whose root is `<stream:stream>`.
 * `websocket`: RFC 7395 framing, where each message is one complete element
 * (`<open/>`, a stanza, `<close/>`), fed with {@link StreamParser.writeMessage}.
 */
export type Framing = 'stream' | 'websocket';

export class StreamParser {
  private maxStanzaSize: number;
  private readonly maxDepth: number;
  private readonly maxAttributes: number;
  private readonly maxHeldTree: number;
  private limits: Partial<ParserLimits>;
  private readonly isStream: boolean;
  /** Depth of the open element that counts as top level: 1 under the stream root, 0 in WebSocket messages. */
  private readonly topDepth: number;
  private readonly tag = new TagScan();
  private readonly tagEnd = new TagEndFinder();
  private readonly chars = new SpecialChars();
  private readonly stack: Element[] = [];
  private current: Element | null = null;
  /** Elements open, the stream root included. */
  private depth = 0;
  /** Character data of `current` read so far and not yet added to its children. */
  private text = '';
  /** Inside a CDATA section. */
  private inCdata = false;
  /** Input kept for the next chunk: the start of a tag (`carryIsTag`), or the last few characters of text. */
  private carry = '';
  private carryIsTag = false;
  /** For a carried tag longer than RESCAN_LIMIT: its length when last scanned in full. */
  private carryScanned = 0;
  /** Characters fed so far. */
  private position = 0;
  /**
   * Where the data that counts towards the stanza size limit began: the first
   * character after the last top-level boundary (stream header, end of a
   * stanza) that is not a whitespace keepalive.
   */
  private segmentStart = 0;
  private rootClosed = false;
  private closePending = false;
  private dead = false;
  private elementsInMessage = 0;
  /** Top-level elements completed during the current write, handed out once the whole chunk parsed cleanly. */
  private readonly completed: Element[] = [];
  /** The source text of each of `completed`. */
  private readonly sources: (string | undefined)[] = [];
  /** Where the open top-level element began in the text being parsed; -1 when it began in an earlier write. */
  private topStart = -1;
  /** The text of a top-level element left open by an earlier write; null when none is. */
  private held: HeldText | null = null;
  /** The held element's tree was dropped (maxHeldTree): `heldNames` stands for `stack`. */
  private treeless = false;
  /** The names of the elements open in a treeless held element, outermost first. */
  private readonly heldNames: string[] = [];
  /** Elements in the tree of the open top-level element. */
  private treeElements = 0;
  /** Where the first character of the stream may be, after a byte order mark (XML 1.0 §F.1). */
  private documentStart = 0;

  constructor(
    private readonly events: StreamParserEvents,
    readonly framing: Framing = 'stream',
    limits: Partial<ParserLimits> = {},
  ) {
    const all = { ...DEFAULT_LIMITS, ...limits };
    this.limits = limits;
    this.maxStanzaSize = all.maxStanzaSize;
    this.maxDepth = all.maxDepth;
    this.maxAttributes = all.maxAttributes;
    this.maxHeldTree = all.maxHeldTree;
    this.isStream = framing === 'stream';
    this.topDepth = this.isStream ? 1 : 0;
  }

  /**
   * A new stanza size limit from the next stanza on, for a stream whose limit changes without a restart
   * (XEP-0388 SASL2: authenticated, and no new parser as after RFC 6120 SASL). Call it between stanzas.
   */
  setMaxStanzaSize(maxStanzaSize: number): void {
    this.maxStanzaSize = maxStanzaSize;
    this.limits = { ...this.limits, maxStanzaSize };
  }

  /** Feeds a chunk of a TCP stream. */
  write(chunk: string): void {
    if (this.dead) return;
    if (!this.feed(chunk)) return;
    this.flush();
    if (this.closePending && !this.dead) {
      this.closePending = false;
      this.events.streamClose();
    }
  }

  /** Feeds one WebSocket message, which must hold exactly one complete element (RFC 7395 §3.3.3). */
  writeMessage(message: string): void {
    if (this.dead) return;
    if (message.length > this.maxStanzaSize) {
      this.fail(new Refusal('policy-violation', `stanza larger than ${this.maxStanzaSize} characters`));
      return;
    }
    this.elementsInMessage = 0;
    this.position = this.segmentStart = 0;
    if (!this.feed(message)) return;
    if (this.depth !== 0 || this.carry !== '' || this.inCdata || this.elementsInMessage !== 1) {
      this.completed.length = 0;
      this.sources.length = 0;
      this.fail(new Refusal('not-well-formed', 'a WebSocket message must hold one complete element'));
      return;
    }
    this.flush();
  }

  /** Parses a chunk; completed elements wait in `completed`. False once the parser is dead. */
  private feed(chunk: string): boolean {
    try {
      this.parse(chunk);
      if (this.position - this.segmentStart > this.maxStanzaSize) {
        refuse('policy-violation', `stanza larger than ${this.maxStanzaSize} characters`);
      }
      return true;
    } catch (err) {
      this.completed.length = 0;
      this.sources.length = 0;
      this.carry = ''; // an idle connection should not hold on to its last read
      this.held = null;
      this.heldNames.length = 0;
      this.fail(err);
      return false;
    } finally {
      // Nor through the helpers, which would otherwise keep the last chunk until the next read.
      this.chars.release();
      this.tag.release();
      // A top-level element still open began in this write's text, which the next write does not see.
      this.topStart = -1;
    }
  }

  private parse(chunk: string): void {
    let s = chunk;
    this.held?.add(chunk);
    if (this.carry !== '') {
      if (this.carryIsTag && this.carry.length > RESCAN_LIMIT && !this.growTag(chunk)) return;
      s = this.carry + chunk;
      this.carry = '';
    }
    const base = this.position + chunk.length - s.length;
    this.chars.reset(s);
    this.position += chunk.length;
    // XML 1.0 §F.1 / saxes: a byte order mark at the very start is not content.
    let i = 0;
    if (base === 0 && this.isStream && s.charCodeAt(0) === 0xfeff) i = this.documentStart = 1;
    this.scan(s, i, base);
    if (this.current !== null && this.isStream) this.hold(s, base);
  }

  private scan(s: string, i: number, base: number): void {
    const len = s.length;
    while (i < len) {
      if (this.inCdata) {
        i = this.cdataSection(s, i);
        continue;
      }
      const lt = s.indexOf('<', i);
      if (lt < 0) {
        this.partialText(s, i, base);
        return;
      }
      if (lt > i) this.textRun(s, i, lt, base);
      const next = this.markup(s, lt, base);
      if (next === INCOMPLETE) {
        this.carry = s.slice(lt);
        this.carryIsTag = true;
        this.carryScanned = this.carry.length;
        this.tagEnd.reset();
        if (this.carry.length > RESCAN_LIMIT && this.tagEnd.find(this.carry, 1) >= 0) throw new Error('unreachable: a complete tag was carried');
        return;
      }
      i = next;
    }
  }

  /**
   * The write ends inside a top-level element with its tree: its text from
   * the '<' on (the carry included) is kept from now on, and the tree only
   * while it is small.
   */
  private hold(s: string, base: number): void {
    if (this.held === null) {
      if (this.topStart < 0) throw new Error('unreachable: an element left open began in an earlier write');
      this.held = new HeldText(base + this.topStart, s.slice(this.topStart));
    }
    if (this.treeElements * ELEMENT_COST + 2 * this.held.length <= this.maxHeldTree) return;
    for (const el of this.stack) this.heldNames.push(el.name);
    this.stack.length = 0;
    this.current = null;
    this.text = '';
    this.treeless = true;
  }

  /** The held element ends at `s[end]`: its text, whole, parsed again into the element it is. */
  private unhold(held: HeldText, base: number, end: number): { el: Element; source: string } {
    this.held = null;
    this.treeless = false;
    const source = held.take(base + end);
    let el: Element | undefined;
    let failure: ParseFailure | undefined;
    const whole = new StreamParser(
      { streamOpen: () => {}, streamClose: () => {}, element: (e) => (el = e), failure: (f) => (failure = f) },
      'websocket',
      this.limits,
    );
    whole.writeMessage(source);
    if (el === undefined) throw new Error(`unreachable: a held element parsed in pieces but not whole (${failure?.text})`);
    return { el, source };
  }

  /**
   * A carried tag too long to scan again with every chunk: looks for its end
   * in the new chunk only. True when it may be complete, and the tag is to be
   * read in full; otherwise the chunk is kept and, whenever the tag has
   * doubled, read in full to find faults early (amortised linear).
   */
  private growTag(chunk: string): boolean {
    if (this.tagEnd.find(chunk, 0) >= 0) return true;
    this.carry += chunk;
    this.position += chunk.length;
    if (this.carry.length >= 2 * this.carryScanned) {
      this.carryScanned = this.carry.length;
      this.chars.reset(this.carry);
      if (this.markup(this.carry, 0, this.position - this.carry.length) !== INCOMPLETE) throw new Error('unreachable: tag end not found');
    }
    return false;
  }

  /** The markup at `s[p] === '<'`: the index after it, or INCOMPLETE. */
  private markup(s: string, p: number, base: number): number {
    if (p + 1 >= s.length) return INCOMPLETE;
    const c = s.charCodeAt(p + 1);
    if (c === 0x2f /* / */) {
      const open = this.current !== null ? this.current.name : this.treeless ? this.heldNames[this.heldNames.length - 1]! : 'stream:stream';
      const end = scanEndTag(s, p, open, this.tag);
      if (end !== INCOMPLETE) this.close(this.tag.name, s, base, end);
      return end;
    }
    if (c === 0x21 /* ! */) {
      const end = scanCdataStart(s, p);
      if (end === INCOMPLETE) return end;
      if (this.depth === 0 && this.isStream) refuse('not-well-formed', 'a CDATA section outside the stream root');
      this.inCdata = true;
      return end;
    }
    if (c === 0x3f /* ? */) {
      // The declaration may only open the stream, after a byte order mark at most.
      const atStart = this.isStream && base + p === this.documentStart;
      return scanProcessingInstruction(s, p, atStart);
    }
    // §2.1: one root element; refused at its '<', not once the tag is complete.
    if (this.rootClosed) refuse('not-well-formed', 'an element after the stream was closed');
    const end = scanStartTag(s, p, this.chars, this.tag);
    if (end === INCOMPLETE) return end;
    if (this.depth === this.topDepth) this.topStart = p;
    this.open(base + end);
    if (this.tag.selfClosing) this.close(null, s, base, end);
    return end;
  }

  private open(end: number): void {
    const { name, attrs, attributeCount } = this.tag;
    if (this.depth === 0 && this.isStream) {
      if (name !== 'stream:stream' || attrs['xmlns:stream'] !== NS_STREAMS) {
        refuse('invalid-namespace', 'the stream root must be <stream:stream> in ' + NS_STREAMS);
      }
      this.depth = 1;
      this.segmentStart = end;
      this.events.streamOpen(attrs);
      return;
    }
    if (this.depth - this.topDepth + 1 > this.maxDepth) refuse('policy-violation', 'element nesting too deep');
    if (attributeCount > this.maxAttributes) refuse('policy-violation', 'too many attributes');
    if (this.treeless) {
      this.heldNames.push(name);
      this.depth++;
      return;
    }
    this.treeElements++;
    const el = new Element(name, attrs);
    const parent = this.current;
    if (parent !== null) {
      if (this.text !== '') {
        parent.children.push(this.text);
        this.text = '';
      }
      parent.children.push(el);
    }
    this.stack.push(el);
    this.current = el;
    this.depth++;
  }

  /** Closes the current element, whose tag ends at `s[end]`; `name` is null for an empty-element tag. */
  private close(name: string | null, s: string, base: number, end: number): void {
    if (this.treeless) return this.closeTreeless(this.held!, name, base, end);
    const el = this.current;
    if (el === null) {
      if (this.depth === 1 && this.isStream && (name === null || name === 'stream:stream')) {
        this.depth = 0;
        this.rootClosed = true;
        this.closePending = true;
        return;
      }
      refuse('not-well-formed', 'a close tag without an open element');
    }
    if (name !== null && name !== el.name) refuse('not-well-formed', 'mismatched close tag');
    if (this.text !== '') {
      el.children.push(this.text);
      this.text = '';
    }
    this.stack.pop();
    this.depth--;
    this.current = this.stack.length === 0 ? null : this.stack[this.stack.length - 1]!;
    if (this.depth === this.topDepth) {
      const at = base + end;
      if (at - this.segmentStart > this.maxStanzaSize) refuse('policy-violation', `stanza larger than ${this.maxStanzaSize} characters`);
      this.segmentStart = at;
      this.elementsInMessage++;
      this.completed.push(el);
      this.treeElements = 0;
      if (this.held !== null) {
        this.sources.push(this.held.take(at));
        this.held = null;
      } else {
        this.sources.push(this.topStart >= 0 ? s.slice(this.topStart, end) : undefined);
      }
      this.topStart = -1;
    }
  }

  /** close() inside a treeless held element: only names are open; the element is made when the outermost one closes. */
  private closeTreeless(held: HeldText, name: string | null, base: number, end: number): void {
    const names = this.heldNames;
    if (name !== null && name !== names[names.length - 1]) refuse('not-well-formed', 'mismatched close tag');
    names.pop();
    this.depth--;
    if (this.depth !== this.topDepth) return;
    const at = base + end;
    if (at - this.segmentStart > this.maxStanzaSize) refuse('policy-violation', `stanza larger than ${this.maxStanzaSize} characters`);
    this.segmentStart = at;
    const { el, source } = this.unhold(held, base, end);
    this.elementsInMessage++;
    this.completed.push(el);
    this.sources.push(source);
    this.topStart = -1;
  }

  /** Character data `s[from, to)`, complete: markup follows it. */
  private textRun(s: string, from: number, to: number, base: number): void {
    if (this.current !== null) {
      this.text += this.chars.cook(from, to, TEXT);
      return;
    }
    if (this.treeless) {
      this.chars.cook(from, to, TEXT); // checked now, read again when the element is whole
      return;
    }
    // Between top-level elements: whitespace right after a boundary is a keepalive (RFC 6120 §4.6.1), not stanza data.
    let k = from;
    if (this.depth === this.topDepth && base + from === this.segmentStart) {
      while (k < to && isXmlSpace(s.charCodeAt(k))) k++;
      this.segmentStart = base + k;
    }
    if (k === to) return;
    if (this.isStream) {
      // §2.1 document: nothing but whitespace around the root element.
      if (this.depth === 0 && !isAllSpace(s, k, to)) refuse('not-well-formed', 'text outside the stream root');
      // Text directly inside <stream:stream> has no meaning in XMPP; it is checked, and dropped.
      this.chars.cook(k, to, TEXT);
      return;
    }
    if (!isAllSpace(this.chars.cook(k, to, TEXT))) refuse('not-well-formed', 'text outside an element');
  }

  /** Character data up to the end of the chunk: reads what cannot change, keeps the rest. */
  private partialText(s: string, from: number, base: number): void {
    const len = s.length;
    let end = len;
    const amp = s.lastIndexOf('&');
    if (amp >= from && s.indexOf(';', amp) < 0) {
      end = amp;
    } else {
      // ']]' may become ']]>', CR may be followed by LF, a high surrogate by its pair.
      while (end > from && len - end < 2) {
        const c = s.charCodeAt(end - 1);
        if (c !== 0x5d && c !== 0x0d && !isHighSurrogate(c)) break;
        end--;
      }
    }
    if (end > from) this.textRun(s, from, end, base);
    if (end === amp) checkPendingReference(s.slice(amp + 1));
    if (end < len) {
      this.carry = s.slice(end);
      this.carryIsTag = false;
    }
  }

  /** Inside a CDATA section at `s[i]`: reads up to ']]>', or what cannot change if it has not come yet. */
  private cdataSection(s: string, i: number): number {
    const close = s.indexOf(']]>', i);
    let end = close;
    if (close < 0) {
      end = s.length;
      while (end > i && s.length - end < 2) {
        const c = s.charCodeAt(end - 1);
        if (c !== 0x5d && c !== 0x0d && !isHighSurrogate(c)) break;
        end--;
      }
      if (end < s.length) {
        this.carry = s.slice(end);
        this.carryIsTag = false;
      }
    }
    const text = this.chars.cook(i, end, CDATA);
    if (this.current !== null) this.text += text;
    else if (!this.treeless && !this.isStream && !isAllSpace(text)) refuse('not-well-formed', 'text outside an element');
    if (close < 0) return s.length;
    this.inCdata = false;
    return close + 3;
  }

  private flush(): void {
    const count = this.completed.length;
    if (count === 0) return;
    // The usual read holds one stanza: handed out without copying the lists.
    if (count === 1) return this.events.element(this.completed.pop()!, this.sources.pop());
    const elements = this.completed.splice(0);
    const sources = this.sources.splice(0);
    for (let i = 0; i < elements.length; i++) {
      if (this.dead) return;
      this.events.element(elements[i]!, sources[i]);
    }
  }

  private fail(err: unknown): void {
    this.dead = true;
    if (err instanceof Refusal) this.events.failure({ condition: err.condition, text: err.message });
    else this.events.failure({ condition: 'not-well-formed', text: err instanceof Error ? err.message : String(err) });
  }
}
