// The client: the state machine of states.ts, driven by one async
// negotiation (negotiation.ts) per attempt, over one Connection
// (connection.ts) per attempt. What the application wants (online or
// offline) is kept apart from the state, so disconnect() always wins over a
// pending retry (xmpp.js #956). `transition()` is the only writer of the
// state, and every transition is a `state` event.

import { xml, type Element } from '@switchboard/xml';
import { NS_PING } from '@switchboard/protocol';
import { Cancelled, Connection } from './connection.ts';
import { Emitter } from './emitter.ts';
import { IqCallee, IqCaller, type IqHandler } from './iq.ts';
import { ClientError } from './errors.ts';
import { authenticate, bindResource, connectError, establishSession, negotiateTls } from './negotiation.ts';
import { canTransition, type ConnectionState } from './states.ts';
import { assertXmlChars } from './stanzas.ts';
import { NS_SM, StreamManagement } from './stream-management.ts';
import { DEFAULT_RETRY, realTimers, retryDelay, type RetryPolicy, type Timers } from './timers.ts';
import { createTransport, unavailableTransport } from './transport/create.ts';
import { BROWSER_PLATFORM, type Platform } from './transport/platform.ts';
import { bind2Inlines, sasl2Feature, type UserAgent } from './sasl2.ts';
import { sasl2Login } from './fast-login.ts';
import { bareJid, carbonsRequest, readMessage } from './carbons.ts';
import { ClientStateIndication, NS_CSI } from './csi.ts';
import { getArchivePrefs, queryArchive, setArchivePrefs, type ArchiveFilter, type ArchiveOptions, type ArchivedMessage } from './mam.ts';
import type { MamMetadata, MamPrefs } from '@switchboard/protocol';
import { DEFAULT_KEEPALIVE, type ClientOptions, type KeepaliveOptions } from './client-options.ts';
import type { ClientEvents } from './client-events.ts';

export { DEFAULT_KEEPALIVE, type ClientOptions, type KeepaliveOptions } from './client-options.ts';
export type { ClientEvents } from './client-events.ts';

/**
 * RFC 6120 §4.9.3: stream errors that blame what the client sent. With XEP-0198 the stanza the
 * server was handling when it sent one is the oldest it had not acknowledged; re-sending that
 * stanza on the next session would only bring the same error again, forever.
 */
const BLAMES_OUR_STANZA = new Set(['policy-violation', 'bad-format', 'bad-namespace-prefix', 'improper-addressing', 'invalid-from', 'invalid-xml', 'not-well-formed', 'restricted-xml', 'unsupported-stanza-type']);

export class Client extends Emitter<ClientEvents> {
  private current: ConnectionState = 'Disconnected';
  private boundJid: string | undefined;
  private want: 'online' | 'offline' = 'offline';
  private attempts = 0;
  /** The current attempt's connection; callbacks from any other are stale and do nothing. */
  private conn: Connection | undefined;
  private retryTimer: unknown;
  private readonly timers: Timers;
  private readonly retryPolicy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly sm = new StreamManagement();
  private outbox: Element[] = [];
  private readonly iqCaller: IqCaller;
  private readonly iqCallee = new IqCallee();
  private nextId = 0;
  private connectWaiters: { resolve: (jid: string) => void; reject: (err: Error) => void }[] = [];
  private readonly csi: ClientStateIndication;
  private carbonsWanted: boolean;
  /** What the current session's Bind 2 request already turned on (XEP-0386 §3.2), so `online` does not ask again. */
  private inlined = { carbons: false, inactive: false };
  /** The presence this client made for the current session's start: never replayed onto another session. */
  private initialPresenceSent: Element | undefined;
  /** When the current session went online (timers.now()), to tell a reconnect loop from a flaky link. */
  private onlineAt = 0;
  /** Sessions in a row that the server ended with a stream error soon after they came up. */
  private quickStreamErrors = 0;
  private readonly keepalive: KeepaliveOptions | undefined;
  private readonly userAgent: UserAgent;
  private keepaliveTimer: unknown;
  /** Stanzas that were unacknowledged when a stream error blamed what we sent, and how often. */
  private readonly suspected = new WeakMap<Element, number>();
  /** Counts every element heard while Binded, so a keepalive knows whether the server spoke since its probe. */
  private heard = 0;

  /**
   * `platform` is what the entry point brings: Node's TCP and ws (index.ts), or nothing beyond the
   * browser's WebSocket (browser.ts, and this class used directly).
   */
  constructor(
    readonly options: ClientOptions,
    private readonly platform: Platform = BROWSER_PLATFORM,
  ) {
    super();
    const unavailable = unavailableTransport(options, platform);
    if (unavailable) throw unavailable;
    this.timers = options.timers ?? realTimers;
    this.iqCaller = new IqCaller(this.timers);
    this.retryPolicy = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.keepalive = options.keepalive === false ? undefined : { ...DEFAULT_KEEPALIVE, ...options.keepalive };
    this.userAgent = options.userAgent ?? { id: crypto.randomUUID(), software: '@switchboard/client' };
    this.carbonsWanted = options.carbons ?? false;
    this.csi = new ClientStateIndication(
      (nonza) => this.send(nonza),
      () => this.conn?.features,
      (features) => bind2Inlines(features, NS_CSI),
      options.active ?? true,
    );
    // XEP-0199: answer pings.
    this.handleIq(NS_PING, 'ping', () => undefined);
    // A new session (not a resumed one) starts with carbons off and the client active: say again what the
    // application chose, unless Bind 2 did it inline.
    this.on('online', () => {
      this.csi.sessionStarted(this.inlined.inactive);
      if (this.carbonsWanted && !this.inlined.carbons) this.iq(carbonsRequest(true)).catch((error: unknown) => this.emit('error', new ClientError('SB_ERR_NEGOTIATION', `carbons: ${String(error)}`)));
    });
  }

  // ---- public API ------------------------------------------------------------------------

  /** The current state of the machine. */
  get state(): ConnectionState {
    return this.current;
  }

  /** The bound full JID (kept across a resumption), once online. */
  get jid(): string | undefined {
    return this.boundJid;
  }

  /** Goes online and stays online (reconnecting) until disconnect(). Resolves with the JID when next online. */
  connect(): Promise<string> {
    this.want = 'online';
    const done = new Promise<string>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (this.current === 'Disconnected') {
      this.attempts = 0;
      void this.attempt();
    }
    return done;
  }

  /** Closes the stream cleanly (RFC 6120 §4.4) and stays offline; cancels any pending retry. */
  async disconnect(): Promise<void> {
    this.want = 'offline';
    this.timers.clearTimeout(this.retryTimer);
    if (this.current === 'Binded' && this.conn) {
      // XEP-0198 §5: a clean close ends the session; it is not to be resumed.
      // Acknowledge what arrived first: a server hands stanzas it holds as
      // unacknowledged back for offline storage, and they would come again.
      if (this.sm.enabled) this.write(this.sm.ackAnswer());
      this.sm.reset();
      await this.conn.closeStream();
    }
    this.stop();
  }

  /** Sends a stanza; while not online it waits in an outbox and goes out once online. Throws SB_ERR_INVALID_XML for text XML cannot carry. */
  send(stanza: Element): void {
    assertXmlChars(stanza);
    if (this.current !== 'Binded' || !this.conn || this.conn.isClosing) {
      this.outbox.push(stanza);
      return;
    }
    this.write(stanza);
    if (isStanza(stanza) && this.sm.enabled) {
      this.sm.sent(stanza);
      this.write(this.sm.ackRequest());
    }
  }

  /** Sends an iq get/set and resolves with the result, or rejects with an IqError carrying the stanza error. */
  iq(request: Element, timeoutMs = this.options.iqTimeoutMs ?? 30_000): Promise<Element> {
    const stanza = request.attrs.id ? request : request.withAttrs({ id: this.newId() });
    return this.iqCaller.request(stanza, timeoutMs, (el) => this.send(el));
  }

  /** Answers incoming iq get/set with this payload namespace and name; unhandled ones get service-unavailable. */
  handleIq(xmlns: string, name: string, handler: IqHandler): () => void {
    return this.iqCallee.register(xmlns, name, handler);
  }

  /** XEP-0352: tells the server whether the user is looking; false when the server does not offer CSI (nothing was sent). */
  setActive(active: boolean): boolean {
    return this.csi.set(active);
  }

  /** XEP-0280: copies of the account's messages to and from other resources, as `message` events; kept on across new sessions. */
  async setCarbons(enabled: boolean): Promise<void> {
    await this.iq(carbonsRequest(enabled));
    this.carbonsWanted = enabled;
  }

  /** XEP-0313: the archived messages matching `filter`, a page fetched whenever the loop needs the next (mam.ts). */
  archive(filter: ArchiveFilter = {}, options: ArchiveOptions = {}): AsyncGenerator<ArchivedMessage, void, undefined> {
    return queryArchive(this, filter, options);
  }

  /** XEP-0313 §6: the archiving preferences; with `prefs`, sets them first. Resolves with what the server holds. */
  archivePrefs(prefs?: MamPrefs): Promise<MamPrefs> {
    return prefs ? setArchivePrefs(this, prefs) : getArchivePrefs(this);
  }

  newId(): string {
    return `sb${(++this.nextId).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  }

  // ---- the machine -----------------------------------------------------------------------

  private transition(to: ConnectionState): void {
    const from = this.current;
    if (!canTransition(from, to)) throw new Error(`invalid transition ${from} → ${to}`);
    this.current = to;
    this.emit('state', { from, to });
  }

  private async attempt(): Promise<void> {
    const transport = this.options.transportFactory ? this.options.transportFactory(this.options) : createTransport(this.options, this.platform);
    const conn: Connection = new Connection(transport, this.options.domain, this.timers, this.timeoutMs, {
      element: (el) => this.onOnlineElement(el),
      ended: (error) => this.failed(conn, error),
    });
    this.conn = conn;
    try {
      await conn.open();
    } catch (err) {
      return this.failed(conn, err instanceof ClientError ? err : connectError(err));
    }
    if (conn !== this.conn) return conn.close();
    try {
      this.transition('Connected');
      conn.resetParser();
      this.transition('StreamInit');
      await this.negotiate(conn);
    } catch (err) {
      if (err instanceof Cancelled || conn !== this.conn) return;
      this.failed(conn, err instanceof ClientError ? err : new ClientError('SB_ERR_NEGOTIATION', (err as Error).message));
    }
  }

  private async negotiate(stream: Connection): Promise<void> {
    let features = await stream.restart();
    this.transition('Authenticate');
    features = await negotiateTls(stream, features, this.options.requireTls ?? true);
    this.inlined = { carbons: false, inactive: false };
    const sasl2 = (this.options.sasl2 ?? true) ? sasl2Feature(features) : undefined;
    if (sasl2) return this.negotiate2(stream, features, sasl2);
    await authenticate(stream, features, {
      credentials: { username: this.options.username, password: this.options.password },
      mechanisms: this.options.mechanisms,
      allowPlainWithoutTls: this.options.allowPlainWithoutTls ?? false,
    });
    features = await stream.restart();
    this.transition('Bind');
    if (await this.tryResume(stream, features)) return;
    const jid = await bindResource(stream, features, this.options.resource, this.newId());
    await establishSession(stream, features, this.newId());
    this.sm.reset();
    await this.enableStreamManagement(stream, features);
    this.bound(stream, jid);
  }

  /** XEP-0198 §3: asks for stream management (with resumption) when the server offers it. */
  private async enableStreamManagement(stream: Connection, features: Element): Promise<void> {
    if (!(this.options.streamManagement ?? true) || !features.getChild('sm', NS_SM)) return;
    stream.send(this.sm.enableRequest());
    const answer = await stream.expect('<enabled/> or <failed/>', (el) => el.attrs.xmlns === NS_SM && (el.name === 'enabled' || el.name === 'failed'));
    if (answer.name === 'enabled') this.sm.onEnabled(answer);
  }

  /** A new session is bound, by RFC 6120 or inline: Binding, `online`, then the initial presence and the outbox. */
  private bound(stream: Connection, jid: string, archive?: MamMetadata): void {
    if (stream !== this.conn) throw new Cancelled();
    this.boundJid = jid;
    this.transition('Binding');
    // A `state` listener may have called disconnect(): then this attempt is over and says nothing more.
    if (stream !== this.conn) throw new Cancelled();
    this.emit('online', archive ? { jid, archive } : { jid });
    if (stream !== this.conn) throw new Cancelled();
    const presence = this.options.initialPresence ?? true;
    this.initialPresenceSent = presence === false ? undefined : presence === true ? xml('presence') : presence;
    this.goOnline(stream, this.initialPresenceSent ? [this.initialPresenceSent] : []);
  }

  /** XEP-0388: authenticate, and bind or resume inline when the server can; else bind as RFC 6120 does, without a restart. */
  private async negotiate2(stream: Connection, features: Element, feature: Element): Promise<void> {
    const resume = this.sm.resumeRequest();
    const result = await sasl2Login(stream, features, feature, {
      credentials: { username: this.options.username, password: this.options.password },
      mechanisms: this.options.mechanisms,
      allowPlainWithoutTls: this.options.allowPlainWithoutTls ?? false,
      userAgent: this.userAgent,
      tag: this.options.resource,
      streamManagement: this.options.streamManagement ?? true,
      carbons: this.carbonsWanted,
      inactive: !this.csi.isActive,
      resume,
    }, this.options.fast);
    this.transition('Bind');
    if (result.resume?.name === 'resumed') {
      const again = this.sm.onResumed(result.resume);
      this.transition('Binding');
      if (stream !== this.conn) throw new Cancelled();
      this.emit('resumed', { jid: this.boundJid! });
      if (stream !== this.conn) throw new Cancelled();
      return this.goOnline(stream, again);
    }
    if (result.resume || (resume && !result.resume)) {
      const initial = this.initialPresenceSent;
      this.outbox.unshift(...this.sm.onResumeFailed(result.resume ?? xml('failed', { xmlns: NS_SM })).filter((el) => el !== initial));
    }
    this.sm.reset();
    let jid = result.jid;
    if (result.bound) {
      if (result.bound.enabled) this.sm.onEnabled(result.bound.enabled);
      this.inlined = { carbons: result.bound.carbons, inactive: result.bound.inactive };
    } else {
      // §5.6: the features follow <success/> at once, no restart; bind there.
      const after = await stream.expect('stream features', (el) => el.localName === 'features');
      jid = await bindResource(stream, after, this.options.resource, this.newId());
      await this.enableStreamManagement(stream, after);
    }
    this.bound(stream, jid, result.bound?.archive);
  }

  /** XEP-0198 §5: resume the previous session when the server still has it; false means bind anew. */
  private async tryResume(stream: Connection, features: Element): Promise<boolean> {
    const request = this.sm.resumeRequest();
    if (!request || !features.getChild('sm', NS_SM)) return false;
    stream.send(request);
    const answer = await stream.expect('<resumed/> or <failed/>', (el) => el.attrs.xmlns === NS_SM && (el.name === 'resumed' || el.name === 'failed'));
    if (answer.name !== 'resumed') {
      // The session is gone: what it had not acknowledged goes out on the new one, except the old
      // session's initial presence (the new session sends its own).
      const initial = this.initialPresenceSent;
      this.outbox.unshift(...this.sm.onResumeFailed(answer).filter((el) => el !== initial));
      return false;
    }
    const again = this.sm.onResumed(answer);
    this.transition('Binding');
    if (stream !== this.conn) throw new Cancelled();
    this.emit('resumed', { jid: this.boundJid! });
    if (stream !== this.conn) throw new Cancelled();
    this.goOnline(stream, again);
    return true;
  }

  /** Binding → Binded: hand queued elements to the application and flush what waited to be sent. */
  private goOnline(conn: Connection, resend: Element[]): void {
    this.transition('Binded');
    this.attempts = 0;
    this.onlineAt = this.timers.now();
    this.armKeepalive(conn);
    const jid = this.boundJid!;
    const queued = conn.online();
    const outbox = this.outbox.splice(0);
    for (const stanza of [...resend, ...outbox]) this.send(stanza);
    for (const w of this.connectWaiters.splice(0)) w.resolve(jid);
    for (const el of queued) this.onOnlineElement(el);
  }

  // ---- Binded ----------------------------------------------------------------------------

  private onOnlineElement(el: Element): void {
    this.heard++;
    if (el.attrs.xmlns === NS_SM) {
      if (el.name === 'r') this.write(this.sm.ackAnswer());
      else if (el.name === 'a') this.sm.acknowledge(Number(el.attrs.h));
      return;
    }
    if (!isStanza(el)) return;
    this.sm.received();
    if (el.name === 'iq') {
      const type = el.attrs.type;
      if ((type === 'result' || type === 'error') && this.iqCaller.answer(el)) return;
      if (type === 'get' || type === 'set') {
        // RFC 6120 §8.2.3: every request gets an answer; the application still sees the ones nobody handles.
        if (!this.iqCallee.has(el)) this.emit('stanza', el);
        void this.iqCallee.answer(el).then((reply) => reply && this.send(reply));
        return;
      }
    }
    this.emit('stanza', el);
    if (el.name === 'message' && this.boundJid !== undefined) {
      const message = readMessage(el, bareJid(this.boundJid));
      if (message) this.emit('message', message);
    }
  }

  private write(el: Element): void {
    this.conn?.send(el);
  }

  /** The keepalive of one session: probe after a silence, fail the attempt when the probe goes unanswered. */
  private armKeepalive(conn: Connection): void {
    const ka = this.keepalive;
    if (!ka) return;
    let heardAt = this.heard;
    let quietSince = this.timers.now();
    const tick = (): void => {
      if (conn !== this.conn || this.current !== 'Binded') return;
      if (this.heard !== heardAt) {
        heardAt = this.heard;
        quietSince = this.timers.now();
      }
      const quiet = this.timers.now() - quietSince;
      if (quiet < ka.intervalMs) {
        this.keepaliveTimer = this.timers.setTimeout(tick, ka.intervalMs - quiet);
        return;
      }
      this.probe(ka);
      this.keepaliveTimer = this.timers.setTimeout(() => {
        if (conn !== this.conn) return;
        if (this.heard === heardAt) return this.failed(conn, new ClientError('SB_ERR_TIMEOUT', `the server did not answer a keepalive in ${ka.timeoutMs} ms`));
        tick();
      }, ka.timeoutMs);
    };
    this.keepaliveTimer = this.timers.setTimeout(tick, ka.intervalMs);
  }

  private probe(ka: KeepaliveOptions): void {
    // XEP-0198 §4: an <r/> is answered by <a/>, and costs the server no stanza processing.
    if (ka.method !== 'ping' && this.sm.enabled) return this.write(this.sm.ackRequest());
    // XEP-0199 §4.2: a ping to the server; an error answer is an answer too.
    this.iq(xml('iq', { type: 'get', to: this.options.domain }, xml('ping', { xmlns: NS_PING })), ka.timeoutMs).catch(() => {});
  }

  // ---- endings ---------------------------------------------------------------------------

  /** This attempt is over: report it, then retry if the application still wants to be online and it can help, else stop. */
  private failed(conn: Connection, error: ClientError): void {
    if (conn !== this.conn) return;
    const wasBinded = this.current === 'Binded';
    this.endAttempt();
    this.emit('error', error);
    const condition = error.detail.streamError?.condition;
    if (wasBinded && condition && BLAMES_OUR_STANZA.has(condition)) this.blame(error);
    if (wasBinded && condition) {
      // A server that ends every session soon after it starts, with a stream error, is a loop retrying cannot end.
      this.quickStreamErrors = this.timers.now() - this.onlineAt < this.retryPolicy.stableMs ? this.quickStreamErrors + 1 : 0;
      if (this.quickStreamErrors >= this.retryPolicy.maxQuickStreamErrors) {
        this.quickStreamErrors = 0;
        return this.stop(new ClientError('SB_ERR_LOOP', `the server ended ${this.retryPolicy.maxQuickStreamErrors} sessions in a row within ${this.retryPolicy.stableMs} ms of their start: ${error.message}`, { streamError: error.detail.streamError, fatal: true }));
      }
    } else if (wasBinded) this.quickStreamErrors = 0;
    if (this.want === 'offline' || error.fatal) return this.stop(error);
    this.attempts++;
    if (this.attempts > this.retryPolicy.maxAttempts) {
      return this.stop(new ClientError('SB_ERR_ATTEMPTS', `gave up after ${this.attempts - 1} retries: ${error.message}`));
    }
    const delayMs = retryDelay(this.retryPolicy, this.attempts);
    this.transition('Retrying');
    this.emit('retrying', { attempt: this.attempts, delayMs, error });
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => {
      if (this.want === 'online' && this.current === 'Retrying') void this.attempt();
    }, delayMs);
  }

  /**
   * A stream error that blames what we sent: the culprit is among the stanzas the server had not
   * acknowledged. One suspect is the culprit; of several (an <a/> may not have come before the
   * server stopped reading), a stanza suspected a second time is: it is dropped from what the next
   * session re-sends and handed back to the application, so nothing is lost silently.
   */
  private blame(error: ClientError): void {
    const suspects = this.sm.unackedStanzas();
    for (const stanza of suspects) {
      const strikes = (this.suspected.get(stanza) ?? 0) + 1;
      this.suspected.set(stanza, strikes);
      if (suspects.length === 1 || strikes > 1) {
        this.sm.forget(stanza);
        this.emit('refused', { stanza, error });
      }
    }
  }

  /** Forgets the current attempt: its transport, parser and pending negotiation step. */
  private endAttempt(): void {
    const conn = this.conn;
    this.conn = undefined;
    this.timers.clearTimeout(this.keepaliveTimer);
    conn?.close();
  }

  private stop(error?: ClientError): void {
    this.want = 'offline';
    this.endAttempt();
    this.timers.clearTimeout(this.retryTimer);
    this.iqCaller.rejectAll();
    const wasOnline = this.current !== 'Disconnected';
    if (wasOnline) this.transition('Disconnected');
    for (const w of this.connectWaiters.splice(0)) w.reject(error ?? new ClientError('SB_ERR_TRANSPORT', 'disconnect() was called'));
    // An attempt that failed before any transition (direct TLS refusing the certificate) ends offline too.
    if (wasOnline || error) this.emit('offline', error ? { error } : {});
  }
}

function isStanza(el: Element): boolean {
  return el.name === 'message' || el.name === 'presence' || el.name === 'iq';
}
