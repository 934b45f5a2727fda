// RFC 6120 §6.4: the SASL exchange in XML (<auth/>, <challenge/>, <response/>,
// <success/>, <failure/>, <abort/>), over whichever mechanism the client picked.

import { Element, xml } from '@switchboard/xml';
import { NS_SASL } from '@switchboard/protocol';
import type { ScramCredentials } from '../../storage/ports.ts';
import type { SaslCondition, SaslContext, SaslMechanism } from './mechanism.ts';
import { createMechanism, type MechanismName } from './mechanisms.ts';
import type { FastMechanism } from '../../auth/fast-tokens.ts';

export type SaslOutcome =
  | { result: 'continue'; reply: Element }
  | { result: 'success'; reply: Element; username: string; mechanism: MechanismName | FastMechanism }
  | { result: 'failure'; reply: Element; attemptsLeft: number };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** RFC 6120 §6.4.2: "=" is an empty response, no text is no response. */
function decodePayload(text: string): Buffer | undefined | 'invalid' {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed === '=') return Buffer.alloc(0);
  if (trimmed.length % 4 !== 0 || !BASE64.test(trimmed)) return 'invalid';
  return Buffer.from(trimmed, 'base64');
}

function encodePayload(data: Buffer | undefined): string {
  if (data === undefined) return '';
  return data.length === 0 ? '=' : data.toString('base64');
}

export class SaslNegotiation {
  private mechanism: SaslMechanism | undefined;
  private mechanismName: MechanismName | FastMechanism | undefined;
  /** Wrong passwords left on this stream (RFC 6120 §6.4.5 retries). */
  private attemptsLeft: number;
  /**
   * Other failures left (an unsupported channel-binding type, a refused gs2 flag, a malformed
   * exchange): a stock client walking down its mechanism list (slixmpp 1.8.3 tries -PLUS with
   * tls-unique, then SCRAM with 'y', then PLAIN) is not cut off by them, yet a client cannot loop forever.
   */
  private otherFailuresLeft = 10;

  constructor(
    readonly offered: readonly MechanismName[],
    private readonly context: SaslContext,
    private readonly lookup: (username: string) => Promise<ScramCredentials | undefined>,
    maxAttempts: number,
  ) {
    this.attemptsLeft = maxAttempts;
  }

  async handle(el: Element): Promise<SaslOutcome> {
    switch (el.name) {
      case 'auth': {
        const name = el.attrs.mechanism as MechanismName | undefined;
        if (name === undefined || !this.offered.includes(name)) return this.fail('invalid-mechanism');
        this.mechanism = createMechanism(name, this.context, this.lookup);
        this.mechanismName = name;
        return this.step(el.text());
      }
      case 'response':
        if (!this.mechanism) return this.fail('malformed-request');
        return this.step(el.text());
      case 'abort':
        this.mechanism = undefined;
        return this.fail('aborted');
      default:
        return this.fail('malformed-request');
    }
  }

  /** XEP-0484: a token mechanism the stream made (HT-*, SASL2 only, not in `offered`), started with its initial response. */
  begin(name: FastMechanism, mechanism: SaslMechanism, text: string): Promise<SaslOutcome> {
    this.mechanism = mechanism;
    this.mechanismName = name;
    return this.step(text);
  }

  private async step(text: string): Promise<SaslOutcome> {
    const payload = decodePayload(text);
    if (payload === 'invalid') return this.fail('incorrect-encoding');
    const step = await this.mechanism!.step(payload);
    switch (step.kind) {
      case 'challenge':
        return { result: 'continue', reply: xml('challenge', { xmlns: NS_SASL }, encodePayload(step.data)) };
      case 'success':
        this.mechanism = undefined;
        return { result: 'success', username: step.username, mechanism: this.mechanismName!, reply: xml('success', { xmlns: NS_SASL }, encodePayload(step.data) || undefined) };
      case 'failure':
        return this.fail(step.condition, step.text, step.passwordChecked === true);
    }
  }

  private fail(condition: SaslCondition, text?: string, passwordChecked = false): SaslOutcome {
    this.mechanism = undefined;
    // Only a wrong password counts against the retries; an abort is the client's choice.
    if (passwordChecked) this.attemptsLeft--;
    else if (condition !== 'aborted') this.otherFailuresLeft--;
    const reply = xml('failure', { xmlns: NS_SASL }, xml(condition), text !== undefined && xml('text', { 'xml:lang': 'en' }, text));
    return { result: 'failure', reply, attemptsLeft: Math.min(this.attemptsLeft, this.otherFailuresLeft) };
  }
}
