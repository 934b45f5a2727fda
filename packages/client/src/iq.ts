// iq in both directions (RFC 6120 §8.2.3): requests we send, matched with
// their answers by id (with a timeout and the stanza error as a typed
// value), and requests we receive, answered by a handler per payload or
// with service-unavailable.

import { Element, xml } from '@switchboard/xml';
import { parseStanzaError, replyWithError, stanzaError, type StanzaError } from '@switchboard/protocol';
import { ClientError, IqError } from './errors.ts';
import type { Timers } from './timers.ts';

/**
 * What a handler gives back for an incoming get/set: the result's payload
 * (or undefined for an empty result), a stanza error, or null when the
 * handler has sent the answer itself (a module that must order its answer
 * with what follows it, as a Jingle session-initiate's ack before the accept).
 */
export type IqAnswer = Element | undefined | StanzaError | null;
export type IqHandler = (iq: Element) => IqAnswer | Promise<IqAnswer>;

export class IqCaller {
  private readonly pending = new Map<string, { resolve: (el: Element) => void; reject: (err: Error) => void; timer: unknown }>();

  constructor(private readonly timers: Timers) {}

  /** Sends `request` (which has an id) with `send`; resolves with the result or rejects with IqError. */
  request(request: Element, timeoutMs: number, send: (stanza: Element) => void): Promise<Element> {
    const id = request.attrs.id!;
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError('SB_ERR_TIMEOUT', `no answer to iq ${id} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      send(request);
    });
  }

  /** Takes an iq result or error; true when it answered one of our requests. */
  answer(iq: Element): boolean {
    const id = iq.attrs.id;
    const waiting = id !== undefined ? this.pending.get(id) : undefined;
    if (!waiting) return false;
    this.pending.delete(id!);
    this.timers.clearTimeout(waiting.timer);
    if (iq.attrs.type === 'result') waiting.resolve(iq);
    else waiting.reject(new IqError(parseStanzaError(iq) ?? stanzaError('undefined-condition')));
    return true;
  }

  /** Going offline: nothing pending will be answered. */
  rejectAll(): void {
    for (const [id, waiting] of this.pending) {
      this.timers.clearTimeout(waiting.timer);
      waiting.reject(new ClientError('SB_ERR_TRANSPORT', `offline before iq ${id} was answered`));
    }
    this.pending.clear();
  }
}

export class IqCallee {
  private readonly handlers = new Map<string, IqHandler>();

  register(xmlns: string, name: string, handler: IqHandler): () => void {
    const key = `${xmlns} ${name}`;
    this.handlers.set(key, handler);
    return () => this.handlers.delete(key);
  }

  has(iq: Element): boolean {
    const payload = iq.getChildren()[0];
    return payload !== undefined && this.handlers.has(`${payload.attrs.xmlns ?? ''} ${payload.name}`);
  }

  /** The answer to an incoming get/set: the handler's result, its error, service-unavailable when nobody handles it, or nothing when the handler answered itself. */
  async answer(iq: Element): Promise<Element | undefined> {
    const payload = iq.getChildren()[0];
    const handler = payload ? this.handlers.get(`${payload.attrs.xmlns ?? ''} ${payload.name}`) : undefined;
    let outcome: IqAnswer;
    if (!handler) {
      outcome = stanzaError('service-unavailable');
    } else {
      try {
        outcome = await handler(iq);
      } catch {
        outcome = stanzaError('internal-server-error');
      }
    }
    if (outcome === null) return undefined;
    if (outcome instanceof Element || outcome === undefined) return xml('iq', { type: 'result', id: iq.attrs.id, to: iq.attrs.from }, outcome);
    return replyWithError(iq, outcome)?.withAttrs({ from: undefined });
  }
}
