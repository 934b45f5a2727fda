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
import type { MechanismName } from './sasl/mechanism.ts';
import { canTransition, type ConnectionState } from './states.ts';
import { assertXmlChars } from './stanzas.ts';
import { NS_SM, StreamManagement } from './stream-management.ts';
import { DEFAULT_RETRY, realTimers, retryDelay, type RetryPolicy, type Timers } from './timers.ts';
import type { ClientTransport, TransportOptions } from './transport/transport.ts';
import { createTransport } from './transport/create.ts';
import { bareJid, carbonsRequest, readMessage, type IncomingMessage } from './carbons.ts';
import { ClientStateIndication } from './csi.ts';
import { queryArchive, type ArchiveFilter, type ArchiveOptions, type ArchivedMessage } from './mam.ts';

export interface ClientOptions {
  domain: string;
  username: string;
  password: string;
  /** Requested resource; the server picks one when absent. */
  resource?: string;
  /** How to reach the server; default TCP with SRV lookup of the domain. */
  transport?: TransportOptions;
  /** Refuse to authenticate without TLS (default true). */
  requireTls?: boolean;
  /** Allow PLAIN without TLS (default false). */
  allowPlainWithoutTls?: boolean;
  /** Mechanisms to use, in order of preference (default: strongest first). */
  mechanisms?: MechanismName[];
  /** Send initial presence after binding (default true), or this presence. */
  initialPresence?: boolean | Element;
  retry?: Partial<RetryPolicy>;
  /** XEP-0198 when the server offers it (default true). */
  streamManagement?: boolean;
  /** Longest wait for the transport to open and for each answer during negotiation, ms (default 20000). */
  timeoutMs?: number;
  iqTimeoutMs?: number;
  timers?: Timers;
  /** For tests and custom transports. */
  transportFactory?: (options: ClientOptions) => ClientTransport;
}

export interface ClientEvents {
  /** Every transition, in order. */
  state: { from: ConnectionState; to: ConnectionState };
  /** Binding: a new session is up (initial presence goes out right after). */
  online: { jid: string };
  /** Binding: the previous session was resumed (XEP-0198); unacknowledged stanzas are re-sent. */
  resumed: { jid: string };
  /** The machine reached Disconnected; `error` says why when it was not disconnect(). */
  offline: { error?: ClientError };
  /** An attempt failed and the machine waits `delayMs` before the next. */
  retrying: { attempt: number; delayMs: number; error: ClientError };
  /** A stanza from the server, while Binded. */
  stanza: Element;
  /** A message for the application (carbons unwrapped, forged ones and archive results left out): carbons.ts. */
  message: IncomingMessage;
  /** An attempt failed (emitted before `retrying` or `offline`). */
  error: ClientError;
}

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
  private readonly csi = new ClientStateIndication(
    (nonza) => this.send(nonza),
    () => this.conn?.features,
  );
  private carbonsWanted = false;

  constructor(readonly options: ClientOptions) {
    super();
    this.timers = options.timers ?? realTimers;
    this.iqCaller = new IqCaller(this.timers);
    this.retryPolicy = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 20_000;
    // XEP-0199: answer pings.
    this.handleIq(NS_PING, 'ping', () => undefined);
    // A new session (not a resumed one) starts with carbons off and the client active: say again what the application chose.
    this.on('online', () => {
      this.csi.sessionStarted();
      if (this.carbonsWanted) this.iq(carbonsRequest(true)).catch((error: unknown) => this.emit('error', new ClientError('SB_ERR_NEGOTIATION', `carbons: ${String(error)}`)));
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
    const transport = this.options.transportFactory ? this.options.transportFactory(this.options) : createTransport(this.options);
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
    if ((this.options.streamManagement ?? true) && features.getChild('sm', NS_SM)) {
      stream.send(this.sm.enableRequest());
      const answer = await stream.expect('<enabled/> or <failed/>', (el) => el.attrs.xmlns === NS_SM && (el.name === 'enabled' || el.name === 'failed'));
      if (answer.name === 'enabled') this.sm.onEnabled(answer);
    }
    if (stream !== this.conn) throw new Cancelled();
    this.boundJid = jid;
    this.transition('Binding');
    this.emit('online', { jid });
    const presence = this.options.initialPresence ?? true;
    this.goOnline(stream, presence === false ? [] : [presence === true ? xml('presence') : presence]);
  }

  /** XEP-0198 §5: resume the previous session when the server still has it; false means bind anew. */
  private async tryResume(stream: Connection, features: Element): Promise<boolean> {
    const request = this.sm.resumeRequest();
    if (!request || !features.getChild('sm', NS_SM)) return false;
    stream.send(request);
    const answer = await stream.expect('<resumed/> or <failed/>', (el) => el.attrs.xmlns === NS_SM && (el.name === 'resumed' || el.name === 'failed'));
    if (answer.name !== 'resumed') {
      // The session is gone: what it had not acknowledged goes out on the new one.
      this.outbox.unshift(...this.sm.onResumeFailed(answer));
      return false;
    }
    const again = this.sm.onResumed(answer);
    this.transition('Binding');
    this.emit('resumed', { jid: this.boundJid! });
    this.goOnline(stream, again);
    return true;
  }

  /** Binding → Binded: hand queued elements to the application and flush what waited to be sent. */
  private goOnline(conn: Connection, resend: Element[]): void {
    this.transition('Binded');
    this.attempts = 0;
    const jid = this.boundJid!;
    const queued = conn.online();
    const outbox = this.outbox.splice(0);
    for (const stanza of [...resend, ...outbox]) this.send(stanza);
    for (const w of this.connectWaiters.splice(0)) w.resolve(jid);
    for (const el of queued) this.onOnlineElement(el);
  }

  // ---- Binded ----------------------------------------------------------------------------

  private onOnlineElement(el: Element): void {
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

  // ---- endings ---------------------------------------------------------------------------

  /** This attempt is over: report it, then retry if the application still wants to be online and it can help, else stop. */
  private failed(conn: Connection, error: ClientError): void {
    if (conn !== this.conn) return;
    this.endAttempt();
    this.emit('error', error);
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

  /** Forgets the current attempt: its transport, parser and pending negotiation step. */
  private endAttempt(): void {
    const conn = this.conn;
    this.conn = undefined;
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
    if (wasOnline) this.emit('offline', error ? { error } : {});
  }
}

function isStanza(el: Element): boolean {
  return el.name === 'message' || el.name === 'presence' || el.name === 'iq';
}
