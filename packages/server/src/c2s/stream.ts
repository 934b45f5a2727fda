// The c2s side of one client stream (RFC 6120 §4–§7) as a state machine, in
// the manner of xmpp_stream_in: one handler per state, one owner of the
// state, and every way out through stop(). Policy (which features, which
// mechanisms) comes from the StreamPolicy; the sm is reached only through
// the StreamHost, which is backed by sm-link.ts.
//
// Negotiation up to bind is in stream-negotiation.ts and XEP-0198 in
// stream-resumption.ts; this file keeps the parser, the dispatch by state,
// bind, the stanzas both ways, and the ending.

import { randomBytes } from 'node:crypto';
import { DEFAULT_LIMITS, Element, StreamParser, xml, type Attrs } from '@switchboard/xml';
import {
  NS_BIND,
  NS_CLIENT,
  NS_MAM,
  NS_SESSION,
  iqResult,
  replyWithError,
  stanzaError,
  streamError,
  streamErrorElement,
  type StreamError,
} from '@switchboard/protocol';
import type { EndReason } from '../router/envelope.ts';
import { bindRequest } from './bind.ts';
import { ClientState, NS_CSI } from './csi.ts';
import { streamErrorFor } from './end-reasons.ts';
import type { C2sTransport } from './transport.ts';
import { TokenBucket } from '../limits/token-bucket.ts';
import { fromAttribute, stampedText } from './stamp.ts';
import { NS_SM } from './stream-management.ts';
import { endReasonFor, type StopReason, type StreamHost, type StreamPolicy, type StreamState } from './stream-contract.ts';
import { StreamNegotiation } from './stream-negotiation.ts';
import { StreamResumption } from './stream-resumption.ts';
import { REPORT_MS, StreamManagement } from './stream-management.ts';
import type { Control } from '../router/envelope.ts';
import { bind2Resource, NS_BIND2, NS_CARBONS, NS_SASL2, type Sasl2Request } from './xep0388.ts';
import { bindFeatures } from './features.ts';

export type { StopReason, StreamHost, StreamPolicy, StreamState } from './stream-contract.ts';

let nextStreamNumber = 0;

export class C2sStream {
  /** The c2s's id for the session; a resumed stream takes over the id of the one it replaces. */
  id: string;
  /** XEP-0198, once enabled. */
  sm: StreamManagement | undefined;
  /** Prosody's session type: unauthenticated until SASL succeeds. */
  type: 'c2s_unauthed' | 'c2s' = 'c2s_unauthed';
  state: StreamState = 'awaitingStream';
  username: string | undefined;
  fullJid: string | undefined;
  smId: string | undefined;
  private parser: StreamParser;
  private headerSent = false;
  private readonly negotiation: StreamNegotiation;
  private readonly resumption: StreamResumption;
  private bindIq: Element | undefined;
  /** Stanzas pipelined behind the bind request, replayed once the session has started. */
  private held: Element[] = [];
  private readonly bucket: TokenBucket;
  /** Stanzas sent by the bound session (issue #18); made when the session is established. */
  private stanzaBucket: TokenBucket | undefined;
  private smKnowsSession = false;
  private loginTimer: NodeJS.Timeout | undefined;
  private readonly openedAt = Date.now();
  /** The host was told of the authentication (it counts the stream as unauthenticated until then). */
  private authenticationNoted = false;
  /** ` from="…"` for the bound full JID, made when the session is established (see stamp.ts). */
  private fromAttr = '';
  /** XEP-0352: what waits while the client is inactive (csi.ts). */
  private readonly csi: ClientState;

  constructor(
    private readonly transport: C2sTransport,
    private readonly policy: StreamPolicy,
    private readonly host: StreamHost,
  ) {
    this.id = `${(++nextStreamNumber).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    this.bucket = new TokenBucket(policy.bytesPerSecond, policy.burstBytes);
    this.csi = new ClientState(policy.csiQueueSize ?? 100, (dropped) => this.sm?.droppedSeq(dropped.seq));
    this.negotiation = new StreamNegotiation(this, transport, policy, host, () => this.restart(), (data, request, inline) => this.sasl2Succeeded(data, request, inline));
    this.resumption = new StreamResumption(this, transport, policy, host, () => this.establish());
    this.parser = this.newParser();
    // Issue #18: less time to authenticate than to log in; the rest of loginMs is for binding.
    this.loginTimer = setTimeout(() => this.fail(streamError('connection-timeout', 'authentication took too long'), 'out'), Math.min(policy.preAuthMs, policy.loginMs));
    this.loginTimer.unref();
    transport.setEvents({
      data: (text) => this.onData(text),
      close: () => this.onTransportClosed(),
      idle: () => this.fail(streamError('connection-timeout'), 'out'),
      // RFC 6120 §11.6 and §4.9.3.22: the stream is not UTF-8.
      notUtf8: () => this.fail(streamError('unsupported-encoding', 'the stream is not UTF-8'), 'in'),
    });
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  get isLoopback(): boolean {
    return this.transport.isLoopback;
  }

  private newParser(): StreamParser {
    // Issue #18: before authentication a stanza may hold only the pre-auth limit (SASL and
    // registration need little), so what an unauthenticated connection can make us hold is small.
    const limits = this.type === 'c2s' ? this.policy.limits : { ...this.policy.limits, maxStanzaSize: Math.min(this.policy.preAuthStanzaSize, this.policy.limits.maxStanzaSize ?? Infinity) };
    return new StreamParser(
      {
        streamOpen: (attrs) => this.onStreamOpen(attrs),
        element: (el, source) => this.onElement(el, source),
        streamClose: () => this.stop({ clientClosed: true }),
        failure: (f) => this.fail(streamError(f.condition, f.text), 'in'),
      },
      this.transport.framing,
      limits,
    );
  }

  private onData(text: string): void {
    if (this.state === 'closed') return;
    const delay = this.bucket.take(text.length);
    if (delay > 0) this.transport.pauseFor(delay);
    if (this.transport.framing === 'websocket') this.parser.writeMessage(text);
    else this.parser.write(text);
  }

  /** RFC 6120 §4.7 (TCP) / RFC 7395 §3.3.2 (WebSocket <open/>). */
  private onStreamOpen(attrs: Attrs): void {
    if (this.state !== 'awaitingStream') return this.fail(streamError('not-well-formed', 'unexpected stream header'), 'in');
    this.sendHeader();
    if (attrs.xmlns !== NS_CLIENT) return this.fail(streamError('invalid-namespace'), 'in');
    this.negotiation.open(attrs);
  }

  private onStreamOpenFramed(el: Element): void {
    if (this.state !== 'awaitingStream') return this.fail(streamError('not-well-formed', 'unexpected <open/>'), 'in');
    this.sendHeader();
    this.negotiation.open(el.attrs);
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    // RFC 6120 §4.7.3: every header the server sends carries a new, unpredictable id (after STARTTLS
    // and after SASL too, §4.3.3); `this.id` is the c2s's own name for the session, not put on the wire.
    this.transport.openStream({ id: randomBytes(12).toString('base64url'), from: this.policy.domain, version: '1.0', 'xml:lang': 'en' });
  }

  /** RFC 6120 §4.3.3: after TLS and after SASL the stream starts over, with a fresh parser and header. */
  private restart(): void {
    this.state = 'awaitingStream';
    this.headerSent = false;
    this.parser = this.newParser();
    this.noteAuthenticated();
  }

  /**
   * Authenticated (after RFC 6120 SASL's restart, or at XEP-0388 SASL2's <success/>, which has none): the
   * connection stops counting as unauthenticated at the gate, and the rest of loginMs is for binding.
   */
  private noteAuthenticated(): void {
    if (this.type !== 'c2s' || this.authenticationNoted) return;
    this.authenticationNoted = true;
    this.host.authenticated(this);
    clearTimeout(this.loginTimer);
    const left = Math.max(0, this.policy.loginMs - (Date.now() - this.openedAt));
    this.loginTimer = setTimeout(() => this.fail(streamError('connection-timeout', 'login took too long'), 'out'), left);
    this.loginTimer.unref();
  }

  private onElement(el: Element, source: string | undefined): void {
    if (this.transport.framing === 'websocket') {
      if (el.name === 'open') return this.onStreamOpenFramed(el);
      if (el.name === 'close') return this.stop({ clientClosed: true });
    }
    if (el.attrs.xmlns === NS_SM) return this.resumption.onElement(el);
    if (el.attrs.xmlns === NS_CSI && this.type === 'c2s') return this.onClientState(el);
    switch (this.state) {
      case 'awaitingTls':
      case 'awaitingAuth':
        return this.negotiation.onElement(el);
      case 'awaitingBind':
        return this.onBindElement(el);
      case 'binding':
      case 'resuming':
        if (this.held.length >= 32) return this.fail(streamError('policy-violation', 'too many stanzas before bind'), 'out');
        this.held.push(el);
        return;
      case 'established':
        return this.onStanza(el, source);
      case 'negotiatingTls':
      case 'authenticating':
        // RFC 6120 §6.4.1: nothing may be sent while a step is outstanding.
        return this.fail(streamError('policy-violation', 'data sent during negotiation'), 'in');
      case 'awaitingStream':
        return this.fail(streamError('not-well-formed', 'stream not opened'), 'in');
      case 'closed':
        return;
    }
  }

  private onBindElement(el: Element): void {
    const request = bindRequest(el);
    if (request.kind === 'not-bind') return this.fail(streamError('not-authorized', 'bind a resource first'), 'out');
    if (request.kind === 'error') {
      const reply = replyWithError(el, request.error);
      if (reply) this.transport.send(reply);
      return;
    }
    this.bindIq = el;
    this.fullJid = `${this.username}@${this.policy.domain}/${request.resource}`;
    this.state = 'binding';
    this.host.startSession(this, this.fullJid);
  }

  /** A Bind 2 request waiting for the sm to start the session (XEP-0386), with what <success/> will carry. */
  private bind2: { additionalData: string | undefined; request: Sasl2Request; resumeAnswer: Element | undefined; inline: Element[] } | undefined;

  /** XEP-0388 §5.6 <success/>: the server's final data, the identity, and what was done inline. */
  private sasl2Success(additionalData: string | undefined, jid: string, inline: (Element | undefined)[]): Element {
    return xml('success', { xmlns: NS_SASL2 }, additionalData !== undefined && xml('additional-data', {}, additionalData), xml('authorization-identifier', {}, jid), inline);
  }

  /** SASL2 succeeded: resume inline, bind inline, or leave binding to the client (the features follow at once, no restart). */
  private sasl2Succeeded(additionalData: string | undefined, request: Sasl2Request, inline: Element[]): void {
    // No restart follows SASL2 (§5.6): what restart() does for an authenticated stream is done here. Without it
    // a SASL2 session counted as unauthenticated until it closed (1,000 online, or hibernating, and the gate's
    // preAuthTotal refused every new connection) and kept the pre-auth stanza limit.
    this.noteAuthenticated();
    this.parser.setMaxStanzaSize(this.policy.limits.maxStanzaSize ?? DEFAULT_LIMITS.maxStanzaSize);
    if (request.resume) {
      let resumeAnswer: Element | undefined;
      // The answer may come later, from the sm, when another c2s held the session.
      this.resumption.resumeInline(request.resume, (answer) => {
        resumeAnswer = answer;
        if (answer.name === 'resumed') this.transport.send(this.sasl2Success(additionalData, this.fullJid!, [answer, ...inline]));
      }, (resumed) => {
        if (!resumed && this.state !== 'closed') this.sasl2Bind(additionalData, request, inline, resumeAnswer);
      });
      return;
    }
    this.sasl2Bind(additionalData, request, inline, undefined);
  }

  /** SASL2 without a resumption (or after one failed): bind inline, or leave binding to the client. */
  private sasl2Bind(additionalData: string | undefined, request: Sasl2Request, inline: Element[], resumeAnswer: Element | undefined): void {
    const bare = `${this.username}@${this.policy.domain}`;
    if (request.bind) {
      const secret = this.policy.bind2Secret;
      const stable = secret && request.userAgentId !== undefined ? { secret, bare, userAgentId: request.userAgentId } : undefined;
      this.fullJid = `${bare}/${bind2Resource(request.bind.tag, stable)}`;
      this.state = 'binding';
      this.bind2 = { additionalData, request, resumeAnswer, inline };
      // XEP-0386 §3.2: carbons go on in the sm as the session starts; the c2s's own (CSI) when it is up. The archive's
      // <metadata/> (XEP-0313), which §3.2 says <bound/> SHOULD carry, is asked for at the same moment: the sm's
      // archive answers it in `started` when it is on, describing the archive as the session is bound.
      this.host.startSession(this, this.fullJid, [request.bind.carbons ? xml('enable', { xmlns: NS_CARBONS }) : undefined, xml('metadata', { xmlns: NS_MAM })].filter((f) => f !== undefined));
      return;
    }
    this.state = 'awaitingBind';
    this.transport.send(this.sasl2Success(additionalData, bare, [resumeAnswer, ...inline]));
    this.transport.send(bindFeatures(this.policy.caps));
  }

  /** XEP-0386 §3: the session is up; <success/> says where it is bound and what was enabled. */
  private bind2Started(smId: string, bound: readonly Element[]): void {
    const { additionalData, request, resumeAnswer, inline } = this.bind2!;
    this.bind2 = undefined;
    this.smId = smId;
    // XEP-0386 §3.2: "the session must begin in that state": set before anything can be delivered to it.
    if (request.bind!.inactive) this.csi.set(true);
    this.establish();
    let enabled: Element | undefined;
    if (request.bind!.enableSm) {
      enabled = this.startSm(request.bind!.resumable).enabled(this.policy.resumeSeconds);
    }
    this.transport.send(this.sasl2Success(additionalData, this.fullJid!, [resumeAnswer, xml('bound', { xmlns: NS_BIND2 }, enabled, ...bound), ...inline]));
    const held = this.held;
    this.held = [];
    for (const el of held) this.onStanza(el);
  }

  /** The sm started the session: answer the bind request and let held stanzas through. */
  sessionStarted(smId: string, bound: readonly Element[] = []): void {
    if (this.state === 'binding' && this.bind2) return this.bind2Started(smId, bound);
    if (this.state !== 'binding' || !this.bindIq) return;
    this.smId = smId;
    this.establish();
    this.transport.send(iqResult(this.bindIq.withAttrs({ from: undefined }), xml('bind', { xmlns: NS_BIND }, xml('jid', {}, this.fullJid!))));
    this.bindIq = undefined;
    const held = this.held;
    this.held = [];
    for (const el of held) this.onStanza(el);
  }

  sessionStartFailed(condition?: 'resource-constraint'): void {
    if (this.state === 'binding' && this.bind2) {
      this.bind2 = undefined;
      // XEP-0386 has no error inside <success/>: the stream ends with the reason.
      return this.fail(streamError(condition === 'resource-constraint' ? 'policy-violation' : 'internal-server-error', condition === 'resource-constraint' ? 'too many resources bound to this account' : 'the session could not be started'), 'out');
    }
    if (this.state !== 'binding' || !this.bindIq) return;
    // RFC 6120 §7.6.2.1: the account has reached its limit of connected resources.
    const error = condition === 'resource-constraint'
      ? stanzaError('resource-constraint', { type: 'wait', text: 'too many resources bound to this account' })
      : stanzaError('internal-server-error', { text: 'the session could not be started' });
    const reply = replyWithError(this.bindIq, error);
    if (reply) this.transport.send(reply);
    this.bindIq = undefined;
    this.fullJid = undefined;
    this.state = 'awaitingBind';
  }

  /** XEP-0198 <enable/> (or Bind 2's): counting starts; a resumable session may be resumed through any c2s when the sm keeps a copy. */
  startSm(resumable: boolean): StreamManagement {
    const sm = new StreamManagement(resumable, resumable && this.policy.resumeThroughSm ? this.smId : undefined);
    this.sm = sm;
    if (resumable) this.host.resumable(this);
    if (sm.viaSm !== undefined) this.host.announceResumable(this);
    return sm;
  }

  /** Tells the sm what the client acknowledged when a batch is due (`any`: whenever anything changed); else within a second. */
  reportToSm(any = false): void {
    const sm = this.sm;
    if (sm?.viaSm === undefined || !this.smKnowsSession) return;
    if (sm.reportDue(any)) {
      clearTimeout(this.reportTimer);
      this.reportTimer = undefined;
      this.host.reportAcks(this, sm.takeReport());
    } else if (this.reportTimer === undefined && sm.reportDue(true)) {
      this.reportTimer = setTimeout(() => {
        this.reportTimer = undefined;
        this.reportToSm(true);
      }, REPORT_MS);
      this.reportTimer.unref();
    }
  }

  private reportTimer: NodeJS.Timeout | undefined;

  /** A session is up behind this stream, bound now or resumed (XEP-0198 §5). */
  private establish(): void {
    this.fromAttr = fromAttribute(this.fullJid!);
    this.smKnowsSession = true;
    this.state = 'established';
    clearTimeout(this.loginTimer);
  }

  private onStanza(el: Element, source?: string): void {
    if (el.name !== 'message' && el.name !== 'presence' && el.name !== 'iq') {
      return this.fail(streamError('unsupported-stanza-type'), 'in');
    }
    this.sm?.received();
    if (el.attrs.xmlns !== undefined && el.attrs.xmlns !== NS_CLIENT) return this.fail(streamError('invalid-namespace'), 'in');
    if (this.overStanzaRate(el)) {
      if (this.sm) this.sm.local++;
      return;
    }
    // RFC 6120 §8.1.2.1: the server stamps `from` with the full JID; whatever the client put there is replaced.
    const text = stampedText(el, source, this.fromAttr);
    // The element is fresh from this stream's parser and no one else holds it, so it is stamped in place.
    const stamped = el.attrs.xmlns === undefined ? el : el.withAttrs({ xmlns: undefined });
    stamped.attrs.from = this.fullJid!;
    if (isLegacySession(stamped, this.policy.domain)) {
      if (this.sm) this.sm.local++;
      this.write(iqResult(stamped.withAttrs({ from: undefined, to: this.fullJid })), undefined, undefined);
      return;
    }
    this.host.forward(this, stamped, text);
  }

  /**
   * Issue #18, fair service: a session past its stanza rate has each stanza answered
   * resource-constraint (RFC 6120 §8.3.3.18, "wait"), and is closed with policy-violation once it
   * goes on past another burst. A result or error cannot be answered; it goes through, counted.
   */
  private overStanzaRate(el: Element): boolean {
    const rate = this.policy.stanzaRate;
    this.stanzaBucket ??= new TokenBucket(rate.perSecond, rate.burst);
    const waitMs = this.stanzaBucket.take(1);
    if (waitMs === 0) return false;
    if ((waitMs * rate.perSecond) / 1000 > rate.burst) {
      this.fail(streamError('policy-violation', 'stanza rate exceeded'), 'in');
      return true;
    }
    const reply = replyWithError(el.withAttrs({ from: this.fullJid }), stanzaError('resource-constraint', { text: `over ${rate.perSecond} stanzas per second` }));
    if (!reply) return false;
    // A stanza like any other for XEP-0198: the client counts it.
    this.write(reply, undefined, undefined);
    return true;
  }

  /** A stanza from the sm for this client, its text when the sm has it (see Envelope.text), and its seq in the sm's copy. */
  deliver(stanza: Element, text?: string, seq?: number): void {
    if (this.state === 'hibernating') {
      this.sm!.sent(stanza, text?.length ?? stanza.toString().length, seq);
      // XEP-0198 queue full while no one is there to take it: the wait ends now, and what was
      // queued goes back to the sm (stop) to be stored or answered, as when the wait times out.
      if (this.smQueueFull()) return this.stop({ socket: 'closed' });
      this.reportToSm();
      return;
    }
    if (this.state !== 'established') return;
    const now = this.csi.offer(stanza, text, seq);
    if (now === undefined) this.write(stanza, text, seq);
    else for (const out of now) this.write(out.stanza, out.text, out.seq);
    this.checkOutput();
    if (this.sm?.viaSm !== undefined) this.reportToSm();
  }

  private write(stanza: Element, text: string | undefined, seq: number | undefined): void {
    const size = this.transport.send(stanza, text);
    if (this.sm?.sent(stanza, size, seq)) {
      this.transport.send(this.sm.request());
      this.resumption.requested();
    }
  }

  /** After a write (or a batch of them, so a batch is never cut in the middle). */
  private checkOutput(): void {
    // RFC 6120 §13.12: memory is bounded by configuration, not by a client that does not read
    // (or never acknowledges): it is closed, and the unacknowledged stanzas go back to the sm.
    if (this.transport.backlog > this.policy.maxOutputBytes) {
      this.fail(streamError('policy-violation', 'the client does not read what is sent to it'), 'out');
    } else if (this.smQueueFull()) {
      this.fail(streamError('policy-violation', 'too many unacknowledged stanzas (XEP-0198)'), 'out');
    }
  }

  private smQueueFull(): boolean {
    const sm = this.sm;
    return sm !== undefined && (sm.unackedCount > this.policy.smQueue.stanzas || sm.unackedBytes > this.policy.smQueue.bytes);
  }

  /** XEP-0352 §4: <active/> or <inactive/>, after authentication; anything else in the namespace is ignored. */
  private onClientState(el: Element): void {
    if (el.name !== 'active' && el.name !== 'inactive') return;
    const now = this.csi.set(el.name === 'inactive');
    if (this.state !== 'established' || now.length === 0) return;
    for (const out of now) this.write(out.stanza, out.text, out.seq);
    this.checkOutput();
    this.reportToSm();
  }

  /** What the inactive client has not been sent joins the XEP-0198 queue, to go out on resumption. */
  private queueHeld(): void {
    for (const out of this.csi.drain()) this.sm?.sent(out.stanza, out.text?.length ?? out.stanza.toString().length, out.seq);
    this.reportToSm();
  }

  /** The socket is gone: a resumable session hibernates, anything else ends. */
  private onTransportClosed(): void {
    if (!this.resumption.hibernate()) return this.stop({ socket: 'closed' });
    this.queueHeld();
    if (this.smQueueFull()) this.stop({ socket: 'closed' });
  }

  /** Replaced by a resumed stream: goes away without ending the session, which lives on in the successor. */
  retire(): void {
    this.queueHeld();
    this.resumption.cancelHibernation();
    clearTimeout(this.loginTimer);
    clearTimeout(this.reportTimer);
    this.state = 'closed';
    this.smKnowsSession = false;
    this.transport.destroy();
  }

  /** The socket goes away under the stream; the usual close path follows. */
  drop(): void {
    this.transport.destroy();
  }

  keepalive(): void {
    if (this.state !== 'closed') this.transport.keepalive();
  }

  /** A stanza from this client that the sm could not take: the client gets an error for it (iqs always answered). */
  bounce(stanza: Element): void {
    if (this.state !== 'established') return;
    const reply = replyWithError(stanza, stanzaError('remote-server-timeout', { text: 'the session manager could not be reached' }));
    if (!reply) return;
    reply.attrs.to = this.fullJid!;
    // Answered here, not by the sm: for XEP-0198 the c2s handled it, and the client counts the error.
    if (this.sm) this.sm.local++;
    this.write(reply, undefined, undefined);
  }

  /** The sm is gone (dead, stopped, restarted): a pending bind fails at once, a session's stream closes so the client reconnects. */
  smGone(): void {
    if (this.state === 'binding') return this.sessionStartFailed();
    if (this.state === 'resuming') return this.resumption.remoteFailed();
    if (!this.smKnowsSession) return;
    this.smKnowsSession = false;
    this.fail(streamError('system-shutdown', 'the session manager went away; reconnect'), 'out', { sm: 'shutdown' });
  }

  /** The sm answered a resumption through it (XEP-0198 §5): the session is this stream's now, or not. */
  resumeAnswered(smId: string | undefined, answer: Extract<Control, { ns: 'resume' }> | undefined): void {
    if (this.state !== 'resuming') return;
    if (smId === undefined || answer === undefined || answer.failed) return this.resumption.remoteFailed(answer);
    this.smId = smId;
    this.fullJid = answer.target;
    this.resumption.remoteResumed(answer);
  }

  /**
   * This c2s is stopping: the sm still knows the session and is told, with reason shutdown. A session its client
   * may resume through another c2s (the sm keeps its copy: resumeThroughSm) is left to hibernate in the sm instead,
   * for a rolling restart: the connection is cut as a broken link is (no stream error, which would tell the client
   * its session is over), the stream hibernates here as after a cut link (what arrives meanwhile is in the sm's copy
   * too), the sm is told nothing, and this c2s's goodbye makes the sm hibernate it (docs/protocol.md).
   */
  shutdown(): void {
    const sm = this.sm;
    if (sm?.viaSm !== undefined && sm.resumable && this.smKnowsSession && (this.state === 'established' || this.state === 'hibernating')) {
      if (this.state === 'established') this.transport.destroy();
      return;
    }
    if (this.state === 'hibernating') return this.stop({ shutdown: true });
    this.fail(streamError('system-shutdown'), 'out', { shutdown: true });
  }

  /** The sm ended the session on its own (conflict, account removed, shutdown). */
  endedBySm(reason: EndReason): void {
    this.smKnowsSession = false;
    const err = streamErrorFor(reason);
    if (err) this.fail(err, 'out', { sm: reason });
    else this.stop({ sm: reason });
  }

  /** Sends a stream error and closes (RFC 6120 §4.9.1.1: header first if none was sent). */
  fail(err: StreamError, direction: 'in' | 'out', reason?: StopReason): void {
    if (this.state === 'closed') return;
    this.sendHeader();
    this.transport.send(streamErrorElement(err));
    this.stop(reason ?? { stream: err, direction });
  }

  /** The single way out: every ending passes here once. */
  stop(reason: StopReason): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.loginTimer);
    clearTimeout(this.reportTimer);
    this.resumption.cancelHibernation();
    if ('clientClosed' in reason) this.sendHeader();
    this.transport.closeStream();
    if (this.smKnowsSession) {
      this.smKnowsSession = false;
      // XEP-0198: what the client never acknowledged goes back to the sm whole, to be stored or answered.
      this.host.endSession(this, endReasonFor(reason), this.sm?.pending() ?? []);
    }
    this.host.released(this, reason);
  }
}

/** RFC 3921 §3 session establishment, kept for old clients (RFC 6121 Appendix E). */
function isLegacySession(el: Element, domain: string): boolean {
  if (el.name !== 'iq' || el.attrs.type !== 'set') return false;
  if (el.attrs.to !== undefined && el.attrs.to !== domain) return false;
  const children = el.getChildren();
  return children.length === 1 && children[0]!.is('session', NS_SESSION);
}
