// XEP-0198 on a client stream: <enable/>, acks both ways, and resumption of
// a hibernating session by a new stream (§5). While a resumable stream has no
// connection it hibernates for policy.resumeSeconds; the counting and the
// unacknowledged queue are StreamManagement's (stream-management.ts).

import { xml, type Element } from '@switchboard/xml';
import { NS_STANZA_ERRORS, streamError } from '@switchboard/protocol';
import type { StreamHost, StreamPolicy } from './stream-contract.ts';
import { NS_SM, StreamManagement } from './stream-management.ts';
import { decodeSeqs, type Control } from '../router/envelope.ts';
import type { C2sStream } from './stream.ts';
import type { C2sTransport } from './transport.ts';

export class StreamResumption {
  private hibernation: NodeJS.Timeout | undefined;
  /** Running while an <r/> we sent waits for its <a/>. */
  private ackWait: NodeJS.Timeout | undefined;

  constructor(
    /** The whole stream, not a view of it: the host keeps it as the resumable one. */
    private readonly stream: C2sStream,
    private readonly transport: C2sTransport,
    private readonly policy: StreamPolicy,
    private readonly host: StreamHost,
    /** Enters `established` as a bound session does. */
    private readonly establish: () => void,
  ) {}

  /** An element in the XEP-0198 namespace, in whatever state. */
  onElement(el: Element): void {
    const stream = this.stream;
    if (el.name === 'resume') {
      if (stream.state !== 'awaitingBind') return this.failed('unexpected-request');
      return this.resume(el);
    }
    if (stream.state !== 'established') return this.failed('unexpected-request');
    switch (el.name) {
      case 'enable':
        if (stream.sm) return this.failed('unexpected-request');
        this.transport.send(stream.startSm(el.attrs.resume === 'true' || el.attrs.resume === '1').enabled(this.policy.resumeSeconds));
        return;
      case 'r':
        if (stream.sm) this.transport.send(stream.sm.answer());
        return;
      case 'a':
        this.answered();
        // §4: acknowledging more than was sent is a stream error.
        if (stream.sm && !stream.sm.acknowledge(Number(el.attrs.h))) {
          return stream.fail(streamError('undefined-condition', undefined, xml('handled-count-too-high', { xmlns: NS_SM, h: el.attrs.h, 'send-count': String(stream.sm.sentCount) })), 'in');
        }
        stream.reportToSm();
        return;
    }
  }

  private failed(condition: string, send: (el: Element) => void = (el) => this.transport.send(el)): void {
    send(xml('failed', { xmlns: NS_SM }, xml(condition, { xmlns: NS_STANZA_ERRORS })));
  }

  /**
   * XEP-0388 / XEP-0198 inline: resume within SASL2's <authenticate/>. `answer` gets the
   * <resumed/> or <failed/> (it goes inside <success/>), before any re-sent stanza. True if resumed.
   */
  resumeInline(el: Element, answer: (el: Element) => void, done: (resumed: boolean) => void): void {
    this.resume(el, answer, done);
  }

  /** A resumption the sm is deciding (another c2s held the session): where its answer goes. */
  private remote: { previd: string; h: number; send: (el: Element) => void; done: (resumed: boolean) => void } | undefined;

  /**
   * §5: this new, authenticated stream takes over a hibernating (or stale) session.
   * Everything is checked before anything moves: a refused resume leaves the
   * session, its connection and its queue exactly as they were.
   */
  private resume(el: Element, send: (el: Element) => void = (e) => this.transport.send(e), done: (resumed: boolean) => void = () => {}): void {
    const stream = this.stream;
    const previd = el.attrs.previd ?? '';
    const h = Number(el.attrs.h);
    const previous = this.host.resumableFor(previd, stream.username!);
    if (!previous?.sm) {
      // Not held here: the sm named in the token may hold it (its c2s died, or the client came through another).
      if (Number.isInteger(h) && h >= 0 && h < 2 ** 32 && this.host.resumeThroughSm(stream, previd, h)) {
        stream.state = 'resuming';
        this.remote = { previd, h, send, done };
        return;
      }
      this.failed('item-not-found', send);
      return done(false);
    }
    if (!previous.sm.canAcknowledge(h)) {
      // §4's handled-count-too-high, carried by <failed/> since there is no stream to end: the
      // client claims more than was sent. h tells it what the session itself has handled (§5).
      send(tooHighFailure(el.attrs.h ?? '', previous.sm.sentCount, previous.sm.inbound));
      return done(false);
    }
    this.host.takeOver(previous, stream);
    previous.sm.acknowledge(h);
    stream.id = previous.id;
    stream.smId = previous.smId;
    stream.fullJid = previous.fullJid;
    stream.sm = previous.sm;
    this.host.resumable(stream);
    this.establish();
    previous.retire();
    send(xml('resumed', { xmlns: NS_SM, previd: stream.sm.token, h: String(stream.sm.inbound) }));
    for (const stanza of stream.sm.pending()) this.transport.send(stanza);
    done(true);
  }

  /** The sm handed the session over (it was held by another c2s, or by none): this stream carries it now. */
  remoteResumed(answer: Extract<Control, { ns: 'resume' }>): void {
    const remote = this.remote;
    if (!remote) return;
    this.remote = undefined;
    const stream = this.stream;
    const pending = answer.stanzas ?? [];
    const seqs = decodeSeqs(answer.seqs).map((s) => s ?? 0);
    stream.sm = new StreamManagement(true, stream.smId, { token: remote.previd, inbound: answer.h ?? 0, acked: remote.h, pending, seqs });
    this.host.resumable(stream);
    this.establish();
    remote.send(xml('resumed', { xmlns: NS_SM, previd: remote.previd, h: String(stream.sm.inbound) }));
    for (const stanza of pending) this.transport.send(stanza);
    remote.done(true);
  }

  /** The sm refused the resumption (or could not be asked): §5's <failed/>, and the stream may bind anew. */
  remoteFailed(answer?: Extract<Control, { ns: 'resume' }>): void {
    const remote = this.remote;
    if (!remote) return;
    this.remote = undefined;
    this.stream.state = 'awaitingBind';
    if (answer?.condition === 'handled-count-too-high') remote.send(tooHighFailure(String(remote.h), answer.sendCount ?? 0, answer.h ?? 0));
    else this.failed('item-not-found', remote.send);
    remote.done(false);
  }

  /** The socket is gone: a resumable session hibernates; false if it cannot and the stream must end. */
  hibernate(): boolean {
    const stream = this.stream;
    if (stream.state !== 'established' || !stream.sm?.resumable) return false;
    stream.state = 'hibernating';
    this.hibernation = setTimeout(() => stream.stop({ socket: 'closed' }), this.policy.resumeSeconds * 1000);
    this.hibernation.unref();
    return true;
  }

  /**
   * We sent <r/>: if no <a/> comes within policy.ackMs the link is dead (mobile networks drop without a
   * FIN). A resumable session hibernates as if the socket had closed; any other ends with connection-timeout.
   */
  requested(): void {
    if (this.ackWait !== undefined) return;
    this.ackWait = setTimeout(() => {
      this.ackWait = undefined;
      const stream = this.stream;
      if (stream.state !== 'established') return;
      if (stream.sm?.resumable) this.transport.destroy();
      else stream.fail(streamError('connection-timeout', 'no acknowledgement (XEP-0198 <r/> unanswered)'), 'out');
    }, this.policy.ackMs ?? 60_000);
    this.ackWait.unref();
  }

  private answered(): void {
    clearTimeout(this.ackWait);
    this.ackWait = undefined;
  }

  /** The stream stopped or was taken over: it waits no longer. */
  cancelHibernation(): void {
    clearTimeout(this.hibernation);
    this.answered();
  }
}

/** §4's handled-count-too-high inside §5's <failed/>: the client claims more than was sent; h says what the session handled. */
function tooHighFailure(h: string, sendCount: number, inbound: number): Element {
  const tooHigh = xml('handled-count-too-high', { xmlns: NS_SM, h, 'send-count': String(sendCount) });
  return xml('failed', { xmlns: NS_SM, h: String(inbound) }, xml('undefined-condition', { xmlns: NS_STANZA_ERRORS }), tooHigh);
}
