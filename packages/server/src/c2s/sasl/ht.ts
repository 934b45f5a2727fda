// The HT-SHA-256-* mechanisms (draft-schmaus-kitten-sasl-ht, as XEP-0484
// uses them): one message, authcid NUL HMAC(token, "Initiator" || cb-data),
// answered by success carrying HMAC(token, "Responder" || cb-data), so the
// client knows the server held the token (mutual authentication). Token
// checks, expiry and the replay count are auth/fast-tokens.ts's.

import { prepareLocalpart } from '@switchboard/jid';
import type { FastAttempt, FastMechanism, FastVerdict } from '../../auth/fast-tokens.ts';
import type { SaslMechanism, SaslStep } from './mechanism.ts';

export class HtMechanism implements SaslMechanism {
  private done = false;
  /** Set on success: the token is in its second half of life and is to be replaced (XEP-0484 §4.5). */
  rotate = false;

  constructor(
    readonly name: FastMechanism,
    /** tls-exporter data for -EXPR; empty for -NONE. */
    private readonly cbData: Buffer,
    private readonly agent: string,
    private readonly count: number | undefined,
    /** The user is named; the throttle may refuse (throws) before any token is read. */
    private readonly verify: (attempt: FastAttempt) => Promise<FastVerdict>,
  ) {}

  async step(response: Buffer | undefined): Promise<SaslStep> {
    // A single round trip: the initial response is required, and nothing follows it.
    if (this.done || response === undefined) return { kind: 'failure', condition: 'malformed-request' };
    this.done = true;
    const nul = response.indexOf(0);
    if (nul <= 0 || nul === response.length - 1) return { kind: 'failure', condition: 'malformed-request' };
    const username = prepareLocalpart(response.subarray(0, nul).toString('utf8'));
    if (username === undefined) return { kind: 'failure', condition: 'not-authorized', passwordChecked: true };
    let verdict: FastVerdict;
    try {
      verdict = await this.verify({ username, agent: this.agent, mechanism: this.name, proof: response.subarray(nul + 1), cbData: this.cbData, count: this.count });
    } catch {
      // The store is unreachable, or attempts are backing off: as the password mechanisms answer.
      return { kind: 'failure', condition: 'temporary-auth-failure' };
    }
    // A wrong token counts like a wrong password (a guess is a guess); an expired one is the client's to replace.
    if (!verdict.ok) return { kind: 'failure', condition: verdict.condition, passwordChecked: verdict.condition === 'not-authorized' };
    this.rotate = verdict.rotate;
    return { kind: 'success', username, data: verdict.serverFinal };
  }
}
