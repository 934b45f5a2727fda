// One connection attempt: a transport, the streaming parser over it (RFC
// 6120 §4 framing or RFC 7395 messages), and the server's elements, handed
// to the negotiation one at a time (expect) and, once the machine is
// Binded, to the machine as they come. Whatever ends the attempt (a stream
// error, the server's close, the transport's, XML the parser refuses) is
// reported once through `ended`; after close() nothing more is.

import { StreamParser, type Attrs, type Element } from '@switchboard/xml';
import { NS_FRAMING, NS_STREAMS, parseStreamError, streamError, streamErrorElement, type StreamErrorCondition } from '@switchboard/protocol';
import { ClientError } from './errors.ts';
import { serialize, streamClose, streamOpen } from './framing.ts';
import type { NegotiationStream } from './negotiation.ts';
import type { Timers } from './timers.ts';
import type { ClientTransport } from './transport/transport.ts';

/** RFC 6120 §4.9.3: stream errors after which reconnecting would only repeat the refusal. */
const FATAL_STREAM_ERRORS = new Set<StreamErrorCondition>(['conflict', 'not-authorized', 'host-unknown', 'host-gone', 'invalid-namespace', 'unsupported-version', 'invalid-from', 'bad-format', 'unsupported-encoding']);

/** How long disconnect() waits for the server's own close (RFC 6120 §4.4). */
const CLOSE_WAIT_MS = 2000;

/** Ends a negotiation step of an attempt that is over; never reported. */
export class Cancelled extends Error {}

export interface ConnectionHooks {
  /** An element from the server once online(). */
  element(el: Element): void;
  /** The attempt is over, for this reason (reported once, never after close()). */
  ended(error: ClientError): void;
}

interface Waiter {
  what: string;
  resolve(el: Element): void;
  reject(err: Error): void;
}

export class Connection implements NegotiationStream {
  private parser: StreamParser | undefined;
  /** The server's header of the current stream (§4.7). */
  private header: Attrs | undefined;
  private inbox: Element[] = [];
  private waiter: Waiter | undefined;
  private live = false;
  private closed = false;
  private closing: { promise: Promise<void>; done: () => void } | undefined;

  constructor(
    readonly transport: ClientTransport,
    private readonly domain: string,
    private readonly timers: Timers,
    private readonly timeoutMs: number,
    private readonly hooks: ConnectionHooks,
  ) {
    transport.setEvents({
      data: (text) => this.onData(text),
      close: () => this.onEnd('the connection closed'),
    });
  }

  /** Opens the transport, within timeoutMs. */
  async open(): Promise<void> {
    const opening = this.transport.connect();
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.timers.setTimeout(() => reject(new ClientError('SB_ERR_TIMEOUT', `waited ${this.timeoutMs} ms for the connection to open`)), this.timeoutMs);
    });
    try {
      await Promise.race([opening, timeout]);
      // The attempt was abandoned while the transport opened.
      if (this.closed) this.transport.close();
    } catch (err) {
      // A connection that opens after all is closed at once.
      opening.then(() => this.transport.close(), () => {});
      throw err;
    } finally {
      this.timers.clearTimeout(timer);
    }
  }

  /** A fresh parser: for the first stream and for every restart (§4.3.3). */
  resetParser(): void {
    const framing = this.transport.framing;
    this.header = undefined;
    this.parser = new StreamParser(
      {
        streamOpen: (attrs) => (this.header = attrs),
        element: (el) => this.onElement(el),
        streamClose: () => this.onEnd('the server closed the stream'),
        failure: (f) => {
          // §4.9.1.3: tell the server why its stream is being closed.
          const error = streamError(f.condition, f.text);
          this.send(streamErrorElement(error).withAttrs({ 'xmlns:stream': framing === 'websocket' ? NS_STREAMS : undefined }));
          this.end(new ClientError('SB_ERR_STREAM', `the server's XML was refused: ${f.condition}: ${f.text}`, { streamError: error }));
        },
      },
      framing,
      { maxStanzaSize: 16 * 1024 * 1024 },
    );
  }

  // ---- NegotiationStream -----------------------------------------------------------------

  send(el: Element): void {
    if (!this.closed) this.transport.send(serialize(this.transport.framing, el));
  }

  /** The features of the latest stream (the session's, once bound). */
  features: Element | undefined;

  async restart(): Promise<Element> {
    this.resetParser();
    this.transport.send(streamOpen(this.transport.framing, this.domain));
    const features = await this.expect('stream features', (el) => el.localName === 'features');
    this.features = features;
    // §4.7.5: stream features exist only from version 1.0 on; an older server cannot negotiate TLS or SASL.
    const version = (this.header as Attrs | undefined)?.version; // set by the parser while awaiting
    if (version === undefined || !(Number.parseInt(version, 10) >= 1)) {
      throw new ClientError('SB_ERR_NEGOTIATION', `the server's stream header has version ${version ?? '(none)'}; XMPP 1.0 is required`, { fatal: true });
    }
    return features;
  }

  async expect(what: string, predicate: (el: Element) => boolean): Promise<Element> {
    const el = await this.next(what);
    if (!predicate(el)) throw new ClientError('SB_ERR_NEGOTIATION', `expected ${what}, got <${el.name}>`);
    return el;
  }

  /** The next element; the server has timeoutMs to send it. */
  private next(what: string): Promise<Element> {
    if (this.closed) return Promise.reject(new Cancelled());
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.waiter = undefined;
        reject(new ClientError('SB_ERR_TIMEOUT', `no ${what} from the server in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const settle = (): void => this.timers.clearTimeout(timer);
      this.waiter = { what, resolve: (el) => (settle(), resolve(el)), reject: (err) => (settle(), reject(err)) };
    });
  }

  // ---- online ----------------------------------------------------------------------------

  /** From now on elements go to hooks.element; returns those that arrived before. */
  online(): Element[] {
    this.live = true;
    return this.inbox.splice(0);
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  /** RFC 6120 §4.4: sends our close and resolves when the server has closed too (or after 2 s). */
  closeStream(): Promise<void> {
    if (!this.closing) {
      let done = (): void => {};
      const promise = new Promise<void>((resolve) => {
        const timer = this.timers.setTimeout(resolve, CLOSE_WAIT_MS);
        done = () => {
          this.timers.clearTimeout(timer);
          resolve();
        };
      });
      this.closing = { promise, done };
      this.transport.send(streamClose(this.transport.framing));
    }
    return this.closing.promise;
  }

  /** Ends the attempt from our side: the transport closes, a pending step is cancelled, nothing more is reported. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parser = undefined;
    this.transport.close();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(new Cancelled());
  }

  // ---- from the server -------------------------------------------------------------------

  private onData(text: string): void {
    if (this.closed || !this.parser) return;
    if (this.transport.framing === 'websocket') this.parser.writeMessage(text);
    else this.parser.write(text);
  }

  private onElement(el: Element): void {
    if (this.closed) return;
    if (el.attrs.xmlns === NS_FRAMING) {
      // RFC 7395 §3.3: <open/> is the stream header, <close/> its end.
      if (el.name === 'open') this.header = el.attrs;
      else if (el.name === 'close') this.onEnd('the server closed the stream');
      return;
    }
    if (el.localName === 'error' && (el.name === 'stream:error' || el.attrs['xmlns:stream'] === NS_STREAMS || el.attrs.xmlns === NS_STREAMS)) {
      const err = parseStreamError(el);
      const text = err.text ? ` (${err.text})` : '';
      return this.end(new ClientError('SB_ERR_STREAM', `stream error: ${err.condition}${text}`, { streamError: err, fatal: FATAL_STREAM_ERRORS.has(err.condition) }));
    }
    if (this.live) return this.hooks.element(el);
    const waiter = this.waiter;
    if (!waiter) return void this.inbox.push(el);
    this.waiter = undefined;
    waiter.resolve(el);
  }

  /** The server's close or the transport's: the answer to our close, or the end of the attempt. */
  private onEnd(what: string): void {
    if (this.closed) return;
    if (this.closing) return this.closing.done();
    this.end(new ClientError('SB_ERR_TRANSPORT', this.waiter ? `${what} while the client waited for ${this.waiter.what}` : what));
  }

  private end(error: ClientError): void {
    if (this.closed) return;
    this.hooks.ended(error);
    this.close();
  }
}
