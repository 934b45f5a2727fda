// XEP-0198 stream management, the client's half: counting, acks, and what
// to resend after a resumption.

import { Element, xml } from '@switchboard/xml';

export const NS_SM = 'urn:xmpp:sm:3';

export class StreamManagement {
  enabled = false;
  /** Set when the server allowed resumption (<enabled resume='true'/>). */
  resumeId: string | undefined;
  /** Stanzas received on this session (h we report). */
  inbound = 0;
  /** Stanzas sent and not yet acknowledged, oldest first. */
  private unacked: Element[] = [];
  /** The h of the first entry of `unacked`. */
  private ackedUpTo = 0;

  reset(): void {
    this.enabled = false;
    this.resumeId = undefined;
    this.inbound = 0;
    this.unacked = [];
    this.ackedUpTo = 0;
  }

  enableRequest(): Element {
    return xml('enable', { xmlns: NS_SM, resume: 'true' });
  }

  onEnabled(el: Element): void {
    this.enabled = true;
    this.inbound = 0;
    this.ackedUpTo = 0;
    this.unacked = [];
    if (el.attrs.resume === 'true' || el.attrs.resume === '1') this.resumeId = el.attrs.id;
  }

  resumeRequest(): Element | undefined {
    if (!this.resumeId) return undefined;
    return xml('resume', { xmlns: NS_SM, h: String(this.inbound), previd: this.resumeId });
  }

  /** <resumed h/>: forget what the server had, return what to send again. */
  onResumed(el: Element): Element[] {
    this.acknowledge(Number(el.attrs.h));
    this.enabled = true;
    return this.takeUnacked();
  }

  /** Resumption failed: the session is gone; the caller binds anew and resends these. */
  onResumeFailed(failed: Element): Element[] {
    // XEP-0198 §5 (1.6): <failed h='…'/> tells which stanzas the old session did handle.
    if (failed.attrs.h !== undefined) this.acknowledge(Number(failed.attrs.h));
    const pending = this.takeUnacked();
    this.reset();
    return pending;
  }

  /** The stanzas sent and not yet acknowledged, oldest first. */
  unackedStanzas(): readonly Element[] {
    return [...this.unacked];
  }

  /** Forgets one unacknowledged stanza: it is not to be sent again (the server refused it, so never counted it). */
  forget(stanza: Element): void {
    const i = this.unacked.indexOf(stanza);
    if (i >= 0) this.unacked.splice(i, 1);
  }

  private takeUnacked(): Element[] {
    const pending = this.unacked;
    this.unacked = [];
    return pending;
  }

  sent(stanza: Element): void {
    if (this.enabled) this.unacked.push(stanza);
  }

  received(): void {
    if (this.enabled) this.inbound = (this.inbound + 1) % 2 ** 32;
  }

  acknowledge(h: number): void {
    if (!Number.isInteger(h)) return;
    const count = (h - this.ackedUpTo + 2 ** 32) % 2 ** 32;
    this.unacked.splice(0, Math.min(count, this.unacked.length));
    this.ackedUpTo = h;
  }

  get pending(): number {
    return this.unacked.length;
  }

  ackAnswer(): Element {
    return xml('a', { xmlns: NS_SM, h: String(this.inbound) });
  }

  ackRequest(): Element {
    return xml('r', { xmlns: NS_SM });
  }
}
