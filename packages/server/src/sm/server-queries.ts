// iq requests the server itself sends to clients (caps discovery for PEP),
// matched with their answers. An answer is taken only when its id is the
// one we sent, and it comes from the full JID we asked (the c2s stamps
// `from`, so it cannot be forged); the ids are random, so no one can guess
// them either. Anything else is left to the ordinary iq rules (RFC 6120
// §8.2.3: a result or error nobody waits for is ignored).
// Pending queries are bounded, per entity asked and in all.

import { randomBytes } from 'node:crypto';
import { xml, type Element } from '@switchboard/xml';

interface Pending {
  to: string;
  resolve(answer: Element | undefined): void;
}

export interface ServerQueryLimits {
  timeoutMs: number;
  /** Queries outstanding to one full JID; past it, asking answers undefined at once. */
  perEntity: number;
  /** Queries outstanding in all. */
  total: number;
}

const DEFAULT_LIMITS: ServerQueryLimits = { timeoutMs: 10_000, perEntity: 4, total: 10_000 };

export class ServerQueries {
  private readonly waiting = new Map<string, Pending>();
  private readonly perEntity = new Map<string, number>();
  private readonly limits: ServerQueryLimits;

  constructor(
    private readonly domain: string,
    limits: Partial<ServerQueryLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Sends `payload` in an iq get with `send`; resolves with the result, or undefined on error, timeout or too many outstanding. */
  ask(to: string, payload: Element, send: (iq: Element) => void): Promise<Element | undefined> {
    const outstanding = this.perEntity.get(to) ?? 0;
    if (outstanding >= this.limits.perEntity || this.waiting.size >= this.limits.total) return Promise.resolve(undefined);
    const id = `sb-${randomBytes(12).toString('base64url')}`;
    this.perEntity.set(to, outstanding + 1);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, undefined), this.limits.timeoutMs);
      timer.unref();
      this.waiting.set(id, {
        to,
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
      });
      send(xml('iq', { type: 'get', id, from: this.domain, to }, payload));
    });
  }

  /** Takes an iq result or error addressed to the server; true if it answered one of our queries. */
  answer(stanza: Element): boolean {
    const id = stanza.attrs.id;
    const type = stanza.attrs.type;
    if (id === undefined || (type !== 'result' && type !== 'error')) return false;
    const pending = this.waiting.get(id);
    // Only the entity asked may answer (XEP-0115 §8.3's poisoning, by way of a query meant for someone else).
    if (!pending || stanza.attrs.from !== pending.to) return false;
    this.settle(id, type === 'result' ? stanza : undefined);
    return true;
  }

  private settle(id: string, answer: Element | undefined): void {
    const pending = this.waiting.get(id);
    if (!pending) return;
    this.waiting.delete(id);
    const left = (this.perEntity.get(pending.to) ?? 1) - 1;
    if (left > 0) this.perEntity.set(pending.to, left);
    else this.perEntity.delete(pending.to);
    pending.resolve(answer);
  }
}
