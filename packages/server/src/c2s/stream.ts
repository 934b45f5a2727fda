// The c2s side of one client stream (RFC 6120 §4–§7) as a state machine, in
// the manner of xmpp_stream_in: one handler per state, one owner of the
// state, and every way out through stop(). Policy (which features, which
// mechanisms) comes from the StreamPolicy; the sm is reached only through
// the StreamHost, which is backed by sm-link.ts.

import { Element, StreamParser, xml, type Attrs } from '@switchboard/xml';
import {
  NS_BIND,
  NS_CLIENT,
  NS_SASL,
  NS_SESSION,
  NS_STANZA_ERRORS,
  NS_TLS,
  iqResult,
  replyWithError,
  stanzaError,
  streamError,
  streamErrorElement,
  type StreamError,
} from '@switchboard/protocol';
import type { EndReason } from '../router/envelope.ts';
import { bindRequest } from './bind.ts';
import { bindFeatures, saslFeatures, tlsFeatures } from './features.ts';
import type { ScramCredentials } from '../storage/ports.ts';
import { SaslNegotiation } from './sasl/negotiation.ts';
import { offeredMechanisms } from './sasl/mechanisms.ts';
import { streamErrorFor } from './end-reasons.ts';
import type { C2sTransport } from './transport.ts';
import type { ParserLimits } from '@switchboard/xml';
import { TokenBucket } from './rate-limit.ts';
import { handleRegistration, NS_REGISTER, NS_REGISTER_FEATURE, type RegisterOutcome } from './register.ts';
import { channels } from '../diagnostics.ts';
import { NS_SM, StreamManagement } from './stream-management.ts';

export type StreamState =
  | 'awaitingStream'
  | 'awaitingTls'
  | 'negotiatingTls'
  | 'awaitingAuth'
  | 'authenticating'
  | 'awaitingBind'
  | 'binding'
  | 'established'
  | 'hibernating' // XEP-0198: the connection is gone, the session waits to be resumed
  | 'closed';

/** Why a stream stopped (stop_reason in xmpp_stream_in). */
export type StopReason =
  | { stream: StreamError; direction: 'in' | 'out' }
  | { socket: 'closed' | 'idle' | 'tls-failed' }
  | { sm: EndReason }
  | { clientClosed: true }
  | { shutdown: true };

export interface StreamPolicy {
  domain: string;
  limits: Partial<ParserLimits>;
  tlsAvailable: boolean;
  allowPlaintextOnLoopback: boolean;
  authAttempts: number;
  /** A connection must authenticate and bind within this many ms. */
  loginMs: number;
  bytesPerSecond: number;
  burstBytes: number;
  /** XEP-0115 `<c/>` for the server, advertised after authentication. */
  caps?: Element;
  /** XEP-0077 in-band registration is open. */
  registration: boolean;
  /** XEP-0198: how long a resumable session waits for its client to come back. */
  resumeSeconds: number;
}

/** What a stream needs from its c2s. */
export interface StreamHost {
  lookupCredentials(username: string): Promise<ScramCredentials | undefined>;
  /** XEP-0077: creates the account and tells the sm. */
  registerAccount(username: string, password: string): Promise<RegisterOutcome>;
  /** Asks the sm to start a session for this full JID; the answer comes back as sessionStarted/sessionStartFailed. */
  startSession(stream: C2sStream, fullJid: string): void;
  forward(stream: C2sStream, stanza: Element): void;
  /** Tells the sm the session is over (only called when one was started). */
  endSession(stream: C2sStream, reason: EndReason): void;
  released(stream: C2sStream, reason: StopReason): void;
  /** XEP-0198: remember a resumable stream under its token. */
  resumable(stream: C2sStream): void;
  /** XEP-0198: hand the session behind `token` (of `username`) over to `successor`; undefined if there is none. */
  takeOver(token: string, username: string, successor: C2sStream): C2sStream | undefined;
}

let nextStreamNumber = 0;

export class C2sStream {
  /** The c2s's id for the session; a resumed stream takes over the id of the one it replaces. */
  id: string;
  /** XEP-0198, once enabled. */
  sm: StreamManagement | undefined;
  private hibernation: NodeJS.Timeout | undefined;
  /** Prosody's session type: unauthenticated until SASL succeeds. */
  type: 'c2s_unauthed' | 'c2s' = 'c2s_unauthed';
  state: StreamState = 'awaitingStream';
  username: string | undefined;
  fullJid: string | undefined;
  smId: string | undefined;
  private parser: StreamParser;
  private headerSent = false;
  private sasl: SaslNegotiation | undefined;
  private bindIq: Element | undefined;
  /** Stanzas pipelined behind the bind request, replayed once the session has started. */
  private held: Element[] = [];
  private readonly bucket: TokenBucket;
  private smKnowsSession = false;
  private loginTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly transport: C2sTransport,
    private readonly policy: StreamPolicy,
    private readonly host: StreamHost,
  ) {
    this.id = `${(++nextStreamNumber).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    this.bucket = new TokenBucket(policy.bytesPerSecond, policy.burstBytes);
    this.parser = this.newParser();
    this.loginTimer = setTimeout(() => this.fail(streamError('connection-timeout', 'login took too long'), 'out'), policy.loginMs);
    this.loginTimer.unref();
    transport.setEvents({
      data: (text) => this.onData(text),
      close: () => this.onTransportClosed(),
      idle: () => this.fail(streamError('connection-timeout'), 'out'),
    });
  }

  private newParser(): StreamParser {
    return new StreamParser(
      {
        streamOpen: (attrs) => this.onStreamOpen(attrs),
        element: (el) => this.onElement(el),
        streamClose: () => this.stop({ clientClosed: true }),
        failure: (f) => this.fail(streamError(f.condition, f.text), 'in'),
      },
      this.transport.framing,
      this.policy.limits,
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
    this.openStream(attrs);
  }

  private openStream(attrs: Attrs): void {
    if (attrs.version !== '1.0') return this.fail(streamError('unsupported-version'), 'in');
    if (attrs.to !== undefined && attrs.to.toLowerCase() !== this.policy.domain) return this.fail(streamError('host-unknown'), 'in');
    this.sendFeatures();
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.transport.openStream({ id: this.id, from: this.policy.domain, version: '1.0', 'xml:lang': 'en' });
  }

  private get plaintextAllowed(): boolean {
    return this.policy.allowPlaintextOnLoopback && this.transport.isLoopback;
  }

  private sendFeatures(): void {
    if (this.username !== undefined) {
      this.state = 'awaitingBind';
      this.transport.send(bindFeatures(this.policy.caps));
      return;
    }
    const secure = this.transport.secure || this.plaintextAllowed;
    const mechanisms = secure
      ? offeredMechanisms({ channelBinding: this.transport.channelBinding() !== undefined, plainAllowed: true })
      : [];
    const register = this.policy.registration && secure ? xml('register', { xmlns: NS_REGISTER_FEATURE }) : undefined;
    this.sasl = new SaslNegotiation(
      mechanisms,
      { domain: this.policy.domain, channelBinding: this.transport.channelBinding() },
      (u) => this.host.lookupCredentials(u),
      this.policy.authAttempts,
    );
    if (this.transport.canStartTls && this.policy.tlsAvailable) {
      this.state = secure ? 'awaitingAuth' : 'awaitingTls';
      this.transport.send(tlsFeatures(!secure, mechanisms, register));
      return;
    }
    if (!secure) return this.fail(streamError('policy-violation', 'TLS is required and not available here'), 'out');
    this.state = 'awaitingAuth';
    this.transport.send(saslFeatures(mechanisms, register));
  }

  private onElement(el: Element): void {
    if (this.transport.framing === 'websocket') {
      if (el.name === 'open') return this.onStreamOpenFramed(el);
      if (el.name === 'close') return this.stop({ clientClosed: true });
    }
    if (el.attrs.xmlns === NS_SM) return this.onStreamManagement(el);
    switch (this.state) {
      case 'awaitingTls':
      case 'awaitingAuth':
        return this.onNegotiationElement(el);
      case 'awaitingBind':
        return this.onBindElement(el);
      case 'binding':
        if (this.held.length >= 32) return this.fail(streamError('policy-violation', 'too many stanzas before bind'), 'out');
        this.held.push(el);
        return;
      case 'established':
        return this.onStanza(el);
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

  private onStreamOpenFramed(el: Element): void {
    if (this.state !== 'awaitingStream') return this.fail(streamError('not-well-formed', 'unexpected <open/>'), 'in');
    this.sendHeader();
    this.openStream(el.attrs);
  }

  private onNegotiationElement(el: Element): void {
    if (el.name === 'starttls' && el.attrs.xmlns === NS_TLS && this.transport.canStartTls) {
      void this.startTls();
      return;
    }
    if (el.attrs.xmlns === NS_SASL && this.sasl) {
      if (this.sasl.offered.length === 0) {
        this.transport.send(xml('failure', { xmlns: NS_SASL }, xml('encryption-required')));
        return;
      }
      void this.authenticate(el);
      return;
    }
    if (el.name === 'iq' && el.getChild('query', NS_REGISTER)) {
      void this.register(el);
      return;
    }
    // RFC 6120 §6.4.1 / §5.3.1: no stanzas before authentication.
    this.fail(streamError('not-authorized'), 'out');
  }

  private async register(el: Element): Promise<void> {
    const reply = await handleRegistration(el, {
      enabled: this.policy.registration,
      secure: this.transport.secure || this.plaintextAllowed,
      create: (username, password) => this.host.registerAccount(username, password),
    });
    if (reply && this.state !== 'closed') this.transport.send(reply.withAttrs({ from: undefined }));
  }

  private async startTls(): Promise<void> {
    this.state = 'negotiatingTls';
    this.transport.send(xml('proceed', { xmlns: NS_TLS }));
    try {
      await this.transport.startTls();
    } catch {
      return this.stop({ socket: 'tls-failed' });
    }
    this.restart();
  }

  private async authenticate(el: Element): Promise<void> {
    const previous = this.state;
    this.state = 'authenticating';
    const outcome = await this.sasl!.handle(el);
    if (this.state !== 'authenticating') return; // stopped meanwhile
    this.transport.send(outcome.reply);
    if (outcome.result === 'success') {
      this.username = outcome.username;
      this.type = 'c2s';
      channels.c2sAuthenticated.publish({ id: this.id, username: outcome.username, mechanism: outcome.mechanism, transport: this.transport.kind });
      this.sasl = undefined;
      this.restart();
      return;
    }
    this.state = previous === 'awaitingTls' ? 'awaitingTls' : 'awaitingAuth';
    if (outcome.result === 'failure' && outcome.attemptsLeft <= 0) {
      this.fail(streamError('policy-violation', 'too many failed authentication attempts'), 'out');
    }
  }

  /** RFC 6120 §4.3.3: after TLS and after SASL the stream starts over, with a fresh parser and header. */
  private restart(): void {
    this.state = 'awaitingStream';
    this.headerSent = false;
    this.parser = this.newParser();
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

  /** The sm started the session: answer the bind request and let held stanzas through. */
  sessionStarted(smId: string): void {
    if (this.state !== 'binding' || !this.bindIq) return;
    this.smId = smId;
    this.smKnowsSession = true;
    this.state = 'established';
    clearTimeout(this.loginTimer);
    this.transport.send(iqResult(this.bindIq.withAttrs({ from: undefined }), xml('bind', { xmlns: NS_BIND }, xml('jid', {}, this.fullJid!))));
    this.bindIq = undefined;
    const held = this.held;
    this.held = [];
    for (const el of held) this.onStanza(el);
  }

  sessionStartFailed(): void {
    if (this.state !== 'binding' || !this.bindIq) return;
    const reply = replyWithError(this.bindIq, stanzaError('internal-server-error', { text: 'the session could not be started' }));
    if (reply) this.transport.send(reply);
    this.bindIq = undefined;
    this.fullJid = undefined;
    this.state = 'awaitingBind';
  }

  private onStanza(el: Element): void {
    if (el.name !== 'message' && el.name !== 'presence' && el.name !== 'iq') {
      return this.fail(streamError('unsupported-stanza-type'), 'in');
    }
    this.sm?.received();
    if (el.attrs.xmlns !== undefined && el.attrs.xmlns !== NS_CLIENT) return this.fail(streamError('invalid-namespace'), 'in');
    // RFC 6120 §8.1.2.1: the server stamps `from` with the full JID; whatever the client put there is replaced.
    const stamped = el.withAttrs({ from: this.fullJid, xmlns: undefined });
    if (isLegacySession(stamped, this.policy.domain)) {
      this.transport.send(iqResult(stamped.withAttrs({ from: undefined, to: this.fullJid })));
      return;
    }
    this.host.forward(this, stamped);
  }

  /** A stanza from the sm for this client. */
  deliver(stanza: Element): void {
    if (this.state === 'hibernating') {
      this.sm!.sent(stanza);
      return;
    }
    if (this.state !== 'established') return;
    this.transport.send(stanza);
    if (this.sm?.sent(stanza)) this.transport.send(this.sm.request());
  }

  // ---- XEP-0198 ------------------------------------------------------------------------

  private onStreamManagement(el: Element): void {
    const failed = (condition: string): void => this.transport.send(xml('failed', { xmlns: NS_SM }, xml(condition, { xmlns: NS_STANZA_ERRORS })));
    if (el.name === 'resume') {
      if (this.state !== 'awaitingBind') return failed('unexpected-request');
      return this.resume(el);
    }
    if (this.state !== 'established') return failed('unexpected-request');
    switch (el.name) {
      case 'enable':
        if (this.sm) return failed('unexpected-request');
        this.sm = new StreamManagement(el.attrs.resume === 'true' || el.attrs.resume === '1');
        if (this.sm.resumable) this.host.resumable(this);
        this.transport.send(this.sm.enabled(this.policy.resumeSeconds));
        return;
      case 'r':
        if (this.sm) this.transport.send(this.sm.answer());
        return;
      case 'a':
        // §4: acknowledging more than was sent is a stream error.
        if (this.sm && !this.sm.acknowledge(Number(el.attrs.h))) {
          this.fail(streamError('undefined-condition', undefined, xml('handled-count-too-high', { xmlns: NS_SM, h: el.attrs.h, 'send-count': '0' })), 'in');
        }
        return;
    }
  }

  /** §5: this new, authenticated stream takes over a hibernating (or stale) session. */
  private resume(el: Element): void {
    const previous = this.host.takeOver(el.attrs.previd ?? '', this.username!, this);
    if (!previous || !previous.sm || !previous.sm.acknowledge(Number(el.attrs.h))) {
      this.transport.send(xml('failed', { xmlns: NS_SM }, xml('item-not-found', { xmlns: NS_STANZA_ERRORS })));
      return;
    }
    this.id = previous.id;
    this.smId = previous.smId;
    this.fullJid = previous.fullJid;
    this.sm = previous.sm;
    this.host.resumable(this);
    this.smKnowsSession = true;
    this.state = 'established';
    clearTimeout(this.loginTimer);
    previous.retire();
    this.transport.send(xml('resumed', { xmlns: NS_SM, previd: this.sm.token, h: String(this.sm.inbound) }));
    for (const stanza of this.sm.pending()) this.transport.send(stanza);
  }

  /** The socket is gone: a resumable session hibernates, anything else ends. */
  private onTransportClosed(): void {
    if (this.state !== 'established' || !this.sm?.resumable) return this.stop({ socket: 'closed' });
    this.state = 'hibernating';
    this.hibernation = setTimeout(() => this.stop({ socket: 'closed' }), this.policy.resumeSeconds * 1000);
    this.hibernation.unref();
  }

  /** Replaced by a resumed stream: goes away without ending the session, which lives on in the successor. */
  retire(): void {
    clearTimeout(this.hibernation);
    clearTimeout(this.loginTimer);
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
    clearTimeout(this.hibernation);
    if ('clientClosed' in reason) this.sendHeader();
    this.transport.closeStream();
    if (this.smKnowsSession) {
      this.smKnowsSession = false;
      this.host.endSession(this, endReasonFor(reason));
    }
    this.host.released(this, reason);
  }
}

function endReasonFor(reason: StopReason): EndReason {
  if ('clientClosed' in reason) return 'closed';
  if ('shutdown' in reason) return 'shutdown';
  if ('sm' in reason) return reason.sm;
  if ('stream' in reason && reason.stream.condition === 'connection-timeout') return 'timeout';
  return 'disconnected';
}

/** RFC 3921 §3 session establishment, kept for old clients (RFC 6121 Appendix E). */
function isLegacySession(el: Element, domain: string): boolean {
  if (el.name !== 'iq' || el.attrs.type !== 'set') return false;
  if (el.attrs.to !== undefined && el.attrs.to !== domain) return false;
  const children = el.getChildren();
  return children.length === 1 && children[0]!.is('session', NS_SESSION);
}

