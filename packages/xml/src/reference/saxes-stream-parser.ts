// The saxes-based stream parser that the hand-written one (../stream-parser.ts)
// replaced, kept with the same API and checks as the reference the
// differential test compares against and the micro-benchmark measures.

import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { Element, type Attrs } from '../element.ts';
import type { Framing, StreamParserEvents } from '../stream-parser.ts';
import { isAllSpace, isXmlSpace } from '../xml-syntax.ts';
import { attachHandlers } from './saxes-handlers.ts';
import { DEFAULT_LIMITS, type ParseFailure, type ParseFailureCondition, type ParserLimits } from '../limits.ts';

const NS_STREAMS = 'http://etherx.jabber.org/streams';

/** Characters that cannot occur between '&' and ';' of a reference (XML 1.0 §4.1). */
const NOT_IN_REFERENCE = /[\s<>&'"=/;]/;

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
export class SaxesStreamParser {
  private readonly sax: SaxesParser;
  private readonly limits: ParserLimits;
  private readonly stack: Element[] = [];
  /** Depth of the open element that counts as top level: 1 under the stream root, 0 in WebSocket fragments. */
  private readonly topDepth: number;
  private depth = 0;
  /**
   * Where the data that counts towards the stanza size limit began: the first
   * character after the last top-level boundary (stream header, end of a
   * stanza) that is not a whitespace keepalive. Positions count characters
   * from the start of the stream.
   */
  private segmentStart = 0;
  /** Characters fed before the current chunk, and the chunk itself (for skipping keepalives). */
  private chunkStart = 0;
  private chunk = '';
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
    attachHandlers(this.sax, {
      doctype: () => refuse('restricted-xml', 'DTDs are not allowed'),
      comment: () => refuse('restricted-xml', 'comments are not allowed'),
      processinginstruction: () => refuse('restricted-xml', 'processing instructions are not allowed'),
      error: (err) => {
        // saxes reports a reference to an undeclared entity as a well-formedness error; RFC 6120 §11.1 calls it
        // restricted. Malformed references (`&;`, `&#0;`) stay not-well-formed.
        if (/undefined entity/.test(err.message)) refuse('restricted-xml', 'entity references are not allowed');
        // A DOCTYPE after the stream header is refused by saxes before its doctype event fires.
        if (/doctype/.test(err.message)) refuse('restricted-xml', 'DTDs are not allowed');
        refuse('not-well-formed', err.message);
      },
      opentag: (tag) => this.onOpen(tag),
      closetag: (tag) => this.onClose(tag),
      text: (text) => this.onText(text),
      cdata: (text) => this.onText(text),
    });
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
    // A stanza begins: whitespace between the last boundary and its '<' is a keepalive, not part of it.
    if (this.depth === this.topDepth) this.skipKeepalive(this.sax.position);
    if (this.depth - this.topDepth + 1 > this.limits.maxDepth) refuse('policy-violation', 'element nesting too deep');
    if (Object.keys(attrs).length > this.limits.maxAttributes) refuse('policy-violation', 'too many attributes');
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
      // A stanza that began and ended inside one chunk is measured here; one still open, at the end of the chunk.
      this.checkSize(this.sax.position);
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
    this.chunk = chunk;
    try {
      this.sax.write(chunk);
      this.refuseBareAmpersand();
      // saxes' `position` is exact inside its event handlers only (after write() it counts the chunk twice),
      // so the end of the chunk is counted here.
      const end = this.chunkStart + chunk.length;
      // Whitespace keepalives between stanzas (RFC 6120 §4.6.1) must not count towards the limit.
      if (this.depth === this.topDepth) this.skipKeepalive(end);
      this.checkSize(end);
    } catch (err) {
      this.completed.length = 0;
      this.fail(err);
      return false;
    } finally {
      this.chunk = ''; // an idle connection should not hold on to its last read
    }
    this.chunkStart += chunk.length;
    return true;
  }

  /**
   * COMPAT: saxes 6 reads a reference up to the next ';' whatever lies in
   * between, so one bare '&' (XML 1.0 §2.4) would swallow the rest of the
   * stream silently until the size limit. A pending reference that already
   * holds a character no reference can contain is refused at once.
   */
  private refuseBareAmpersand(): void {
    const pending = (this.sax as unknown as { entity?: string }).entity;
    if (pending !== undefined && pending.length > 0 && NOT_IN_REFERENCE.test(pending)) {
      refuse('not-well-formed', "unescaped '&'");
    }
  }

  private checkSize(position: number): void {
    if (position - this.segmentStart > this.limits.maxStanzaSize) {
      refuse('policy-violation', `stanza larger than ${this.limits.maxStanzaSize} characters`);
    }
  }

  /**
   * Moves `segmentStart` over whitespace, up to `upTo`, within the current
   * chunk. Pending data that began in an earlier chunk is never whitespace
   * (it was skipped then), so it is left alone: a space inside a half-sent
   * tag must not reset the count.
   */
  private skipKeepalive(upTo: number): void {
    let i = this.segmentStart - this.chunkStart;
    if (i < 0) return;
    const limit = Math.min(upTo - this.chunkStart, this.chunk.length);
    while (i < limit && isXmlSpace(this.chunk.charCodeAt(i))) i++;
    this.segmentStart = this.chunkStart + i;
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
    // saxes holds back text and a half-open tag after the element until more input comes, so the end of the
    // message is checked here: after its last '>' only whitespace may follow.
    if (this.depth !== 0 || this.elementsInMessage !== 1 || !isAllSpace(message, message.lastIndexOf('>') + 1)) {
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
