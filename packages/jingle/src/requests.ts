// The iqs a session has sent and not yet seen answered (RFC 6120 §8.2.3:
// every get/set gets exactly one result or error). Each resolves once, with
// the answer, or with remote-server-timeout when none comes in time.

import type { Element } from '@switchboard/xml';
import { parseStanzaError, stanzaError, type StanzaError } from '@switchboard/protocol';
import type { JingleAction } from './protocol/xep0166.ts';

export type Response = { ok: true; iq: Element } | { ok: false; error: StanzaError; iq?: Element };

interface Pending {
  readonly action: JingleAction | undefined;
  readonly resolve: (r: Response) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export interface Settled {
  readonly action: JingleAction | undefined;
  readonly response: Response;
  readonly timedOut: boolean;
}

export class Requests {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly timeoutMs: number,
    /** Called after each request is settled by an answer or a timeout. */
    private readonly settled: (s: Settled) => void,
  ) {}

  has(id: string): boolean {
    return this.pending.has(id);
  }

  open(id: string, action: JingleAction | undefined): Promise<Response> {
    return new Promise<Response>((resolve) => {
      const timer = setTimeout(() => this.settle(id, undefined), this.timeoutMs);
      // Never keep a process alive for an unanswered iq.
      (timer as { unref?: () => void }).unref?.();
      this.pending.set(id, { action, resolve, timer });
    });
  }

  /** The answer (result or error iq) to request `id`, or undefined when it timed out. */
  settle(id: string, iq: Element | undefined): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    let response: Response;
    if (iq?.attrs.type === 'result') response = { ok: true, iq };
    else if (iq) response = { ok: false, error: parseStanzaError(iq) ?? stanzaError('undefined-condition'), iq };
    else response = { ok: false, error: stanzaError('remote-server-timeout', { text: 'no answer' }) };
    p.resolve(response);
    this.settled({ action: p.action, response, timedOut: iq === undefined });
  }

  /** Resolves every request (but those `keep` names) as failed, without reporting them: the session is gone. */
  abandon(keep: (action: JingleAction | undefined) => boolean): void {
    for (const [id, p] of this.pending) {
      if (keep(p.action)) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve({ ok: false, error: stanzaError('item-not-found', { text: 'session ended' }) });
    }
  }
}
