import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { Element, type Attrs } from './element.ts';
import { DEFAULT_LIMITS, type ParseFailure, type ParseFailureCondition, type ParserLimits } from './limits.ts';

const NS_STREAMS = 'http://etherx.jabber.org/streams';
const WHITESPACE = /^\s*$/;

export interface StreamParserEvents {
  /** The `<stream:stream>` header (TCP framing only). */
  streamOpen(attrs: Attrs): void;
  /** A complete top-level element: a stanza, or a stream-level element such as `<starttls/>`. */
  element(el: Element): void;
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

class Refusal extends Error {
  constructor(readonly failure: ParseFailure) {
    super(failure.text);
  }
}

function refuse(condition: ParseFailureCondition, text: string): never {
  throw new Refusal({ condition, text });
}

/**
 * Incremental parser for an XMPP stream over saxes, enforcing the restricted
 * XML profile of RFC 6120 §11 (no DTD, comments, processing instructions or
 * entities beyond the predefined five and character references) and the
 * size limits of {@link ParserLimits}.
 */
export class StreamParser {
  private readonly sax: SaxesParser;
  private readonly limits: ParserLimits;
  private readonly stack: Element[] = [];
  /** Depth of the open element that counts as top level: 1 under the stream root, 0 in WebSocket fragments. */
  private readonly topDepth: number;
  private depth = 0;
  /** Parser position where the current top-level element (or the gap before it) began. */
  private segmentStart = 0;
  private dead = false;
  private elementsInMessage = 0;
  /**
   * Top-level elements completed during the current write, handed out only
   * once the chunk parsed cleanly: saxes reports some errors (a mismatched
   * close tag) after it has already closed the element.
   */
  private readonly completed: Element[] = [];
  private closePending = false;

  constructor(
    private readonly events: StreamParserEvents,
    readonly framing: Framing = 'stream',
    limits: Partial<ParserLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.topDepth = framing === 'stream' ? 1 : 0;
    this.sax = new SaxesParser({ fragment: framing === 'websocket', position: true });
    this.wire();
  }

  private wire(): void {
    const sax = this.sax;
    sax.on('doctype', () => refuse('restricted-xml', 'DTDs are not allowed'));
    sax.on('comment', () => refuse('restricted-xml', 'comments are not allowed'));
    sax.on('processinginstruction', () => refuse('restricted-xml', 'processing instructions are not allowed'));
    sax.on('error', (err) => {
      // saxes reports undefined entities as well-formedness errors; RFC 6120 §11.1 calls them restricted.
      if (/entity/i.test(err.message)) refuse('restricted-xml', 'entity references are not allowed');
      refuse('not-well-formed', err.message);
    });
    sax.on('opentag', (tag) => this.onOpen(tag));
    sax.on('closetag', (tag) => this.onClose(tag));
    sax.on('text', (text) => this.onText(text));
    sax.on('cdata', (text) => this.onText(text));
  }

  private onOpen(tag: SaxesTagPlain): void {
    const attrs = tag.attributes as Attrs;
    if (this.framing === 'stream' && this.depth === 0) {
      if (tag.name !== 'stream:stream' || attrs['xmlns:stream'] !== NS_STREAMS) {
        refuse('invalid-namespace', 'the stream root must be <stream:stream> in ' + NS_STREAMS);
      }
      this.depth = 1;
      this.segmentStart = this.sax.position;
      this.events.streamOpen(attrs);
      return;
    }
    if (this.depth - this.topDepth + 1 > this.limits.maxDepth) refuse('policy-violation', 'element nesting too deep');
    let count = 0;
    for (const _ in attrs) count++;
    if (count > this.limits.maxAttributes) refuse('policy-violation', 'too many attributes');
    const el = new Element(tag.name, attrs);
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.children.push(el);
    this.stack.push(el);
    this.depth++;
  }

  private onClose(tag: SaxesTagPlain): void {
    if (this.framing === 'stream' && this.depth === 1) {
      this.depth = 0;
      this.closePending = true;
      return;
    }
    const el = this.stack.pop();
    this.depth--;
    if (!el || el.name !== tag.name) refuse('not-well-formed', 'mismatched close tag');
    if (this.depth === this.topDepth) {
      this.segmentStart = this.sax.position;
      this.elementsInMessage++;
      this.completed.push(el);
    }
  }

  private onText(text: string): void {
    const top = this.stack[this.stack.length - 1];
    if (top) {
      top.children.push(text);
      return;
    }
    // Between top-level elements only whitespace (keepalives) is meaningful.
    if (this.framing === 'websocket' && text.trim() !== '') refuse('not-well-formed', 'text outside an element');
  }

  /** Feeds a chunk of a TCP stream. */
  write(chunk: string): void {
    if (this.feed(chunk)) {
      this.flush();
      this.flushClose();
    }
  }

  /** Parses a chunk; completed elements wait in `completed`. False once the parser is dead. */
  private feed(chunk: string): boolean {
    if (this.dead) return false;
    try {
      this.sax.write(chunk);
      // Whitespace keepalives between stanzas (RFC 6120 §4.6.1) must not count towards the limit.
      if (this.depth === this.topDepth && WHITESPACE.test(chunk)) this.segmentStart = this.sax.position;
      if (this.sax.position - this.segmentStart > this.limits.maxStanzaSize) {
        refuse('policy-violation', `stanza larger than ${this.limits.maxStanzaSize} characters`);
      }
    } catch (err) {
      this.completed.length = 0;
      this.fail(err);
      return false;
    }
    return true;
  }

  private flush(): void {
    if (this.completed.length === 0) return;
    const elements = this.completed.splice(0);
    for (const el of elements) {
      if (this.dead) return;
      this.events.element(el);
    }
  }

  private flushClose(): void {
    if (!this.closePending || this.dead) return;
    this.closePending = false;
    this.events.streamClose();
  }

  /** Feeds one WebSocket message, which must hold exactly one complete element (RFC 7395 §3.3.3). */
  writeMessage(message: string): void {
    if (this.dead) return;
    if (message.length > this.limits.maxStanzaSize) {
      this.fail(new Refusal({ condition: 'policy-violation', text: `stanza larger than ${this.limits.maxStanzaSize} characters` }));
      return;
    }
    this.elementsInMessage = 0;
    if (!this.feed(message)) return;
    if (this.depth !== 0 || this.elementsInMessage !== 1) {
      this.completed.length = 0;
      this.fail(new Refusal({ condition: 'not-well-formed', text: 'a WebSocket message must hold one complete element' }));
      return;
    }
    this.flush();
  }

  private fail(err: unknown): void {
    this.dead = true;
    if (err instanceof Refusal) this.events.failure(err.failure);
    else this.events.failure({ condition: 'not-well-formed', text: err instanceof Error ? err.message : String(err) });
  }
}
