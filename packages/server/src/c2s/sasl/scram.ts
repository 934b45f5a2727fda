// RFC 5802 / RFC 7677 SCRAM, with -PLUS over tls-exporter (RFC 9266) and the
// t= of XEP-0515 from the stream's TLS version (SaslContext.tlsVersion). The
// message handling lives in auth/scram.ts; this adapts it to a step function.

import { prepareLocalpart } from '@switchboard/jid';
import { parseClientFirst, ScramServerExchange } from '../../auth/scram.ts';
import type { ScramCredentials } from '../../storage/ports.ts';
import type { SaslContext, SaslMechanism, SaslStep } from './mechanism.ts';

export class ScramMechanism implements SaslMechanism {
  private readonly exchange: ScramServerExchange;
  private phase: 'awaitingFirst' | 'awaitingFinal' | 'done' = 'awaitingFirst';
  private askedForFirst = false;
  private readonly domain: string;
  private readonly plus: boolean;
  private readonly plusOffered: boolean;

  constructor(
    hash: 'sha1' | 'sha256',
    plus: boolean,
    context: SaslContext,
    lookup: (username: string) => Promise<ScramCredentials | undefined>,
  ) {
    const binding = plus && context.channelBinding ? { type: 'tls-exporter' as const, data: context.channelBinding } : undefined;
    // SCRAM usernames are SASLprep'd strings; ours are JID localparts, prepared the same way as at bind.
    this.exchange = new ScramServerExchange(hash, (name: string) => {
      const prepared = prepareLocalpart(name);
      return prepared === undefined ? Promise.resolve(undefined) : lookup(prepared);
    }, binding, context.channelBinding !== undefined, { ...(context.unknownUsers ? { fakeSecret: context.unknownUsers.secret, fakeIterations: context.unknownUsers.iterations } : {}), ...(context.advertised !== undefined ? { advertised: context.advertised } : {}), ...(context.tlsVersion !== undefined ? { tlsVersion: context.tlsVersion } : {}) });
    this.domain = context.domain;
    this.plus = plus;
    this.plusOffered = context.channelBinding !== undefined;
  }

  /**
   * Why a client-first message's gs2 flag is refused, in RFC 5802 §7's server-error-value words, so
   * a client (and the log) can tell it from a wrong password. The refusals stay as they were:
   * downgrade protection is the point of them.
   */
  private cbindRefusal(response: Buffer): SaslStep | undefined {
    const first = parseClientFirst(response);
    if (!first) return undefined;
    const cbind = first.cbind;
    if (this.plus && cbind.kind === 'p' && cbind.type !== 'tls-exporter') {
      // tls-unique is undefined under TLS 1.3 (RFC 9266 §3) and we bind nothing else; XEP-0440 lists what we do.
      return { kind: 'failure', condition: 'invalid-mechanism', text: `unsupported-channel-binding-type: ${cbind.type} (this server binds with tls-exporter)` };
    }
    if (!this.plus && cbind.kind === 'y' && this.plusOffered) {
      return { kind: 'failure', condition: 'not-authorized', text: 'server-does-support-channel-binding' };
    }
    return undefined;
  }

  async step(response: Buffer | undefined): Promise<SaslStep> {
    if (this.phase === 'awaitingFirst') {
      // No initial response in <auth/>: ask for it with an empty challenge (RFC 6120 §6.4.2).
      if (response === undefined || response.length === 0) {
        if (this.askedForFirst) return { kind: 'failure', condition: 'malformed-request' };
        this.askedForFirst = true;
        return { kind: 'challenge', data: Buffer.alloc(0) };
      }
      this.phase = 'awaitingFinal';
      const refused = this.cbindRefusal(response);
      if (refused) {
        this.phase = 'done';
        return refused;
      }
      const first = await this.exchange.start(response);
      return first.ok ? { kind: 'challenge', data: first.serverFirst } : { kind: 'failure', condition: first.condition };
    }
    if (this.phase === 'done' || response === undefined) return { kind: 'failure', condition: 'malformed-request' };
    this.phase = 'done';
    const final = await this.exchange.finish(response);
    // The proof was checked (a malformed final message tested nothing).
    if (!final.ok) return { kind: 'failure', condition: final.condition, passwordChecked: final.condition === 'not-authorized' };
    const username = prepareLocalpart(final.username);
    if (username === undefined) return { kind: 'failure', condition: 'not-authorized' };
    // RFC 6120 §6.3.8: we accept no authorization identity but the user's own bare JID.
    if (final.authzid !== undefined && final.authzid !== `${username}@${this.domain}`) return { kind: 'failure', condition: 'invalid-authzid' };
    // RFC 6120 §6.3.10: the server-final message goes in <success/>.
    return { kind: 'success', username, data: final.serverFinal };
  }
}
