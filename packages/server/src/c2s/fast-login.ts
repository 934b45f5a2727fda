// XEP-0484 on one stream: which HT-* mechanisms its <fast/> offers, the
// token mechanism an <authenticate/> asks for, and after <success/> the
// token to hand out (requested, or a rotation) or the tokens to drop
// (invalidate). The wire format is xep0484.ts's, the tokens
// auth/fast-tokens.ts's; this joins them to the stream's SASL2 exchange.

import type { Element } from '@switchboard/xml';
import type { FastMechanism, FastTokens } from '../auth/fast-tokens.ts';
import type { AuthGuard } from './auth-guard.ts';
import { HtMechanism } from './sasl/ht.ts';
import { readFastRequest, tokenElement, type FastRequest } from './xep0484.ts';

export type FastStart =
  | { ok: true; mechanism: HtMechanism | undefined }
  | { ok: false; condition: 'malformed-request' | 'invalid-mechanism'; text: string };

export class FastLogin {
  /** §4.1: what <fast/> lists on this stream (-EXPR only where tls-exporter is available). */
  readonly offered: FastMechanism[];
  private request: FastRequest | undefined;
  private agent: string | undefined;
  private mechanism: HtMechanism | undefined;

  constructor(
    private readonly tokens: FastTokens | undefined,
    private readonly channelBinding: Buffer | undefined,
    private readonly guard: AuthGuard,
  ) {
    this.offered = tokens === undefined ? [] : channelBinding ? ['HT-SHA-256-EXPR', 'HT-SHA-256-NONE'] : ['HT-SHA-256-NONE'];
  }

  /** A SASL2 <authenticate/>: its FAST parts, and the HT mechanism when it authenticates with a token. */
  start(authenticate: Element, mechanism: string, agent: string | undefined): FastStart {
    this.request = undefined;
    this.mechanism = undefined;
    const request = readFastRequest(authenticate);
    if (typeof request === 'string') return { ok: false, condition: 'malformed-request', text: request };
    const isToken = mechanism.startsWith('HT-');
    if (!isToken && request.use) return { ok: false, condition: 'malformed-request', text: '<fast/> with a mechanism that takes no token' };
    if (request.requestToken !== undefined && !this.offers(request.requestToken)) return { ok: false, condition: 'invalid-mechanism', text: `no FAST tokens for ${request.requestToken}` };
    // §5.1: FAST needs the user agent id; tokens are bound to it. A token login without one cannot be checked.
    if (isToken && agent === undefined) return { ok: false, condition: 'malformed-request', text: 'FAST needs a <user-agent/> id' };
    // COMPAT: @xmpp/client 0.14 asks for a token whenever <fast/> is offered, and sends no <user-agent/> when the
    // app's credentials callback leaves it out. The password login goes on; a token that could be bound to no
    // agent is not issued (XEP-0388 §5: an inline request that cannot be met does not fail the authentication).
    if (request.requestToken !== undefined && agent === undefined) request.requestToken = undefined;
    this.request = request;
    this.agent = agent;
    if (!isToken) return { ok: true, mechanism: undefined };
    if (!this.offers(mechanism) || !this.tokens) return { ok: false, condition: 'invalid-mechanism', text: `${mechanism} is not offered` };
    if (!request.use) return { ok: false, condition: 'malformed-request', text: `${mechanism} without <fast/>` };
    const tokens = this.tokens;
    const cbData = mechanism === 'HT-SHA-256-EXPR' ? this.channelBinding! : Buffer.alloc(0);
    this.mechanism = new HtMechanism(mechanism, cbData, agent!, request.use.count, (attempt) => this.guard.lookup(attempt.username, () => tokens.verify(attempt)));
    return { ok: true, mechanism: this.mechanism };
  }

  /** After <success/> is decided: the <token/> it carries, if any (§4.3, §4.5), after §4.6 invalidation. */
  async finish(username: string): Promise<Element[]> {
    const request = this.request;
    const agent = this.agent;
    const used = this.mechanism;
    this.request = undefined;
    this.mechanism = undefined;
    if (!this.tokens || !request || agent === undefined) return [];
    if (request.use?.invalidate) {
      await this.tokens.revoke(username, agent);
      // §4.6: no new token unless one is asked for in the same request, even when rotation was due.
      if (request.requestToken === undefined) return [];
    }
    const mechanism = (request.requestToken ?? (used?.rotate ? used.name : undefined)) as FastMechanism | undefined;
    if (mechanism === undefined) return [];
    const { token, expiry } = await this.tokens.issue(username, agent, mechanism);
    return [tokenElement(token, expiry)];
  }

  private offers(mechanism: string): mechanism is FastMechanism {
    return (this.offered as string[]).includes(mechanism);
  }
}
