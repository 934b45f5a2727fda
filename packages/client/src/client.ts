// The client connection: the state machine of states.ts, driven by one
// async negotiation per attempt. What the application wants (online or
// offline) is kept apart from the state, so disconnect() always wins over a
// pending retry. Every transition is an event and `state` is its one owner.

import { Element, StreamParser, xml } from '@switchboard/xml';
import {
  NS_BIND,
  NS_PING,
  NS_SASL,
  NS_SESSION,
  NS_STREAMS,
  NS_TLS,
  parseStanzaError,
  parseStreamError,
  type StreamErrorCondition,
} from '@switchboard/protocol';
import { Emitter } from './emitter.ts';
import { IqCallee, IqCaller, type IqHandler } from './iq.ts';
import { ClientError } from './errors.ts';
import { serialize, streamClose, streamOpen } from './framing.ts';
import { fromBase64, toBase64 } from './sasl/bytes.ts';
import type { MechanismName } from './sasl/mechanism.ts';
import { selectMechanism } from './sasl/select.ts';
import { canTransition, type ConnectionState } from './states.ts';
import { NS_SM, StreamManagement } from './stream-management.ts';
import { DEFAULT_RETRY, realTimers, retryDelay, type RetryPolicy, type Timers } from './timers.ts';
import type { ClientTransport, TransportOptions } from './transport/transport.ts';
import { createTransport } from './transport/create.ts';

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
  iqTimeoutMs?: number;
  timers?: Timers;
  /** For tests and custom transports. */
  transportFactory?: (options: ClientOptions) => ClientTransport;
}

export interface ClientEvents {
  state: { from: ConnectionState; to: ConnectionState };
  online: { jid: string };
  resumed: { jid: string };
  offline: { error?: ClientError };
  retrying: { attempt: number; delayMs: number; error?: ClientError };
  stanza: Element;
  error: ClientError;
}

/** Stream errors after which reconnecting would only repeat the refusal. */
const FATAL_STREAM_ERRORS = new Set<StreamErrorCondition>(['conflict', 'not-authorized', 'host-unknown', 'host-gone', 'invalid-namespace', 'unsupported-version', 'invalid-from', 'bad-format']);

class Cancelled extends Error {}

export class Client extends Emitter<ClientEvents> {
  state: ConnectionState = 'Disconnected';
  /** The bound full JID while online. */
  jid: string | undefined;
  private want: 'online' | 'offline' = 'offline';
  private generation = 0;
  private attempts = 0;
  private transport: ClientTransport | undefined;
  private parser: StreamParser | undefined;
  private inbox: Element[] = [];
  private waiter: { resolve: (el: Element) => void; reject: (err: Error) => void } | undefined;
  private retryTimer: unknown;
  private readonly timers: Timers;
  private readonly retryPolicy: RetryPolicy;
  private readonly sm = new StreamManagement();
  private outbox: Element[] = [];
  private readonly iqCaller: IqCaller;
  private readonly iqCallee = new IqCallee();
  private nextId = 0;
  private connectWaiters: { resolve: (jid: string) => void; reject: (err: Error) => void }[] = [];

  constructor(readonly options: ClientOptions) {
    super();
    this.timers = options.timers ?? realTimers;
    this.iqCaller = new IqCaller(this.timers);
    this.retryPolicy = { ...DEFAULT_RETRY, ...options.retry };
    // XEP-0199: answer pings.
    this.handleIq(NS_PING, 'ping', () => undefined);
  }

  // ---- public API ------------------------------------------------------------------------

  /** Goes online and stays online (reconnecting) until disconnect(). Resolves with the JID when first online. */
  connect(): Promise<string> {
    this.want = 'online';
    const done = new Promise<string>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (this.state === 'Disconnected') {
      this.attempts = 0;
      void this.attempt();
    }
    return done;
  }

  /** Closes the stream cleanly and stays offline; cancels any pending retry. */
  async disconnect(): Promise<void> {
    this.want = 'offline';
    this.timers.clearTimeout(this.retryTimer);
    const transport = this.transport;
    if (this.state === 'Binded' && transport) {
      // XEP-0198: a clean close ends the session; it is not to be resumed.
      this.sm.reset();
      transport.send(streamClose(transport.framing));
      await this.waitFor((el) => el === CLOSED, 2000).catch(() => {});
    }
    this.stop();
  }

  /** Sends a stanza; while not online it waits in an outbox and goes out once online. */
  send(stanza: Element): void {
    if (this.state !== 'Binded' || !this.transport) {
      this.outbox.push(stanza);
      return;
    }
    this.write(stanza);
    if (isStanza(stanza)) {
      this.sm.sent(stanza);
      if (this.sm.enabled) this.write(this.sm.ackRequest());
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

  newId(): string {
    return `sb${(++this.nextId).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  }

  // ---- the machine -----------------------------------------------------------------------

  private transition(to: ConnectionState): void {
    const from = this.state;
    if (from === to && to !== 'Retrying') return;
    if (!canTransition(from, to)) throw new Error(`invalid transition ${from} → ${to}`);
    this.state = to;
    this.emit('state', { from, to });
  }

  private async attempt(): Promise<void> {
    const gen = ++this.generation;
    const transport = this.options.transportFactory ? this.options.transportFactory(this.options) : createTransport(this.options);
    this.transport = transport;
    this.inbox = [];
    transport.setEvents({
      data: (text) => this.onData(gen, text),
      close: () => this.onTransportClosed(gen),
    });
    try {
      await transport.connect();
    } catch (err) {
      if (gen !== this.generation) return;
      return this.failed(gen, new ClientError('SB_ERR_TRANSPORT', `cannot connect: ${(err as Error).message}`));
    }
    if (gen !== this.generation) return transport.close();
    try {
      this.transition('Connected');
      this.parser = this.newParser(gen);
      this.transition('StreamInit');
      await this.negotiate(gen, transport);
    } catch (err) {
      if (err instanceof Cancelled || gen !== this.generation) return;
      this.failed(gen, err instanceof ClientError ? err : new ClientError('SB_ERR_NEGOTIATION', (err as Error).message));
    }
  }

  private newParser(gen: number): StreamParser {
    const framing = this.transport!.framing;
    return new StreamParser(
      {
        streamOpen: () => {},
        element: (el) => this.onElement(gen, el),
        streamClose: () => this.onElement(gen, CLOSED),
        failure: (f) => this.failed(gen, new ClientError('SB_ERR_STREAM', `the server's XML was refused: ${f.condition}: ${f.text}`)),
      },
      framing,
      { maxStanzaSize: 16 * 1024 * 1024 },
    );
  }

  private onData(gen: number, text: string): void {
    if (gen !== this.generation || !this.parser) return;
    if (this.transport!.framing === 'websocket') this.parser.writeMessage(text);
    else this.parser.write(text);
  }

  private onElement(gen: number, el: Element): void {
    if (gen !== this.generation) return;
    if (el !== CLOSED && el.name === 'open' && this.transport?.framing === 'websocket') return; // the <open/> header
    if (el !== CLOSED && (el.name === 'stream:error' || (el.name === 'error' && el.attrs['xmlns:stream'] === NS_STREAMS))) {
      const streamErr = parseStreamError(el);
      const error = new ClientError('SB_ERR_STREAM', `stream error: ${streamErr.condition}${streamErr.text ? ` (${streamErr.text})` : ''}`, { streamError: streamErr });
      this.emit('error', error);
      if (FATAL_STREAM_ERRORS.has(streamErr.condition)) this.want = 'offline';
      this.failed(gen, error);
      return;
    }
    if (this.state === 'Binded') {
      if (el === CLOSED || (el.name === 'close' && this.transport?.framing === 'websocket')) return this.failed(gen, new ClientError('SB_ERR_TRANSPORT', 'the server closed the stream'));
      this.onOnlineElement(el);
      return;
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(el);
    } else {
      this.inbox.push(el);
    }
  }

  private next(gen: number): Promise<Element> {
    if (gen !== this.generation) return Promise.reject(new Cancelled());
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private waitFor(predicate: (el: Element) => boolean, ms: number): Promise<Element> {
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => reject(new ClientError('SB_ERR_TIMEOUT', 'timed out')), ms);
      const gen = this.generation;
      const loop = (): void => {
        this.next(gen).then((el) => {
          if (predicate(el)) {
            this.timers.clearTimeout(timer);
            resolve(el);
          } else loop();
        }, reject);
      };
      loop();
    });
  }

  private async expect(gen: number, what: string, predicate: (el: Element) => boolean): Promise<Element> {
    const el = await this.next(gen);
    if (el === CLOSED) throw new ClientError('SB_ERR_TRANSPORT', `the server closed the stream while ${what}`);
    if (!predicate(el)) throw new ClientError('SB_ERR_NEGOTIATION', `expected ${what}, got <${el.name}>`);
    return el;
  }

  /** Opens (or restarts) the stream and returns the features (RFC 6120 §4.3.2). */
  private async openStream(gen: number, transport: ClientTransport): Promise<Element> {
    this.parser = this.newParser(gen);
    transport.send(streamOpen(transport.framing, this.options.domain));
    return this.expect(gen, 'stream features', (el) => el.name === 'stream:features' || el.name === 'features');
  }

  private async negotiate(gen: number, transport: ClientTransport): Promise<void> {
    let features = await this.openStream(gen, transport);
    this.transition('Authenticate');
    const starttls = features.getChild('starttls', NS_TLS);
    if (!transport.secure && starttls && transport.canStartTls) {
      transport.send(xml('starttls', { xmlns: NS_TLS }).toString());
      await this.expect(gen, '<proceed/>', (el) => el.name === 'proceed');
      await transport.startTls();
      features = await this.openStream(gen, transport);
    } else if (!transport.secure && (this.options.requireTls ?? true)) {
      this.want = 'offline';
      throw new ClientError('SB_ERR_NEGOTIATION', 'the server does not offer TLS and requireTls is set');
    }
    await this.authenticate(gen, transport, features);
    features = await this.openStream(gen, transport);
    this.transition('Bind');
    if (await this.tryResume(gen, transport, features)) return;
    await this.bind(gen, transport, features);
  }

  private async authenticate(gen: number, transport: ClientTransport, features: Element): Promise<void> {
    const offered = features.getChild('mechanisms', NS_SASL)?.getChildren('mechanism').map((m) => m.text().trim()) ?? [];
    const mechanism = selectMechanism({
      offered,
      credentials: { username: this.options.username, password: this.options.password },
      allowed: this.options.mechanisms,
      secure: transport.secure,
      allowPlainWithoutTls: this.options.allowPlainWithoutTls ?? false,
      channelBinding: transport.channelBinding(),
    });
    if (!mechanism) {
      this.want = 'offline';
      throw new ClientError('SB_ERR_AUTH', `no usable SASL mechanism (offered: ${offered.join(' ') || 'none'})`);
    }
    const initial = await mechanism.initial();
    transport.send(xml('auth', { xmlns: NS_SASL, mechanism: mechanism.name }, initial === undefined ? undefined : initial.length === 0 ? '=' : toBase64(initial)).toString());
    for (;;) {
      const el = await this.expect(gen, 'a SASL answer', (e) => e.attrs.xmlns === NS_SASL);
      const data = el.text().trim();
      if (el.name === 'challenge') {
        const response = await mechanism.challenge(data && data !== '=' ? fromBase64(data) : new Uint8Array());
        transport.send(xml('response', { xmlns: NS_SASL }, toBase64(response)).toString());
      } else if (el.name === 'success') {
        await mechanism.success(data && data !== '=' ? fromBase64(data) : undefined);
        return;
      } else {
        const condition = el.getChildren().find((c) => c.name !== 'text')?.name ?? 'not-authorized';
        this.want = 'offline';
        throw new ClientError('SB_ERR_AUTH', `authentication failed: ${condition}`, { saslCondition: condition });
      }
    }
  }

  private async tryResume(gen: number, transport: ClientTransport, features: Element): Promise<boolean> {
    const request = this.sm.resumeRequest();
    if (!request || !features.getChild('sm', NS_SM)) return false;
    transport.send(request.toString());
    const answer = await this.expect(gen, 'resumption answer', (el) => el.attrs.xmlns === NS_SM);
    if (answer.name !== 'resumed') {
      this.outbox.unshift(...this.sm.onResumeFailed());
      return false;
    }
    const again = this.sm.onResumed(answer);
    this.transition('Binding');
    this.emit('resumed', { jid: this.jid! });
    this.goOnline(again);
    return true;
  }

  private async bind(gen: number, transport: ClientTransport, features: Element): Promise<void> {
    if (!features.getChild('bind', NS_BIND)) throw new ClientError('SB_ERR_NEGOTIATION', 'the server offers no resource binding');
    const id = this.newId();
    transport.send(serialize(transport.framing, xml('iq', { type: 'set', id }, xml('bind', { xmlns: NS_BIND }, this.options.resource !== undefined && xml('resource', {}, this.options.resource)))));
    const bound = await this.expect(gen, 'the bind result', (el) => el.name === 'iq' && el.attrs.id === id);
    if (bound.attrs.type !== 'result') {
      const err = parseStanzaError(bound);
      throw new ClientError('SB_ERR_NEGOTIATION', `resource binding failed: ${err?.condition ?? 'unknown'}`);
    }
    this.jid = bound.getChild('bind', NS_BIND)?.getChildText('jid');
    if (!this.jid) throw new ClientError('SB_ERR_NEGOTIATION', 'the bind result carries no JID');
    // RFC 6121 Appendix E: only when the server still requires the legacy session.
    const session = features.getChild('session', NS_SESSION);
    if (session && !session.getChild('optional')) {
      const sid = this.newId();
      transport.send(serialize(transport.framing, xml('iq', { type: 'set', id: sid }, xml('session', { xmlns: NS_SESSION }))));
      await this.expect(gen, 'the session result', (el) => el.name === 'iq' && el.attrs.id === sid);
    }
    this.sm.reset();
    if ((this.options.streamManagement ?? true) && features.getChild('sm', NS_SM)) {
      transport.send(this.sm.enableRequest().toString());
      const enabled = await this.expect(gen, 'stream management answer', (el) => el.attrs.xmlns === NS_SM);
      if (enabled.name === 'enabled') this.sm.onEnabled(enabled);
    }
    const presence = this.options.initialPresence ?? true;
    this.transition('Binding');
    this.emit('online', { jid: this.jid });
    const first: Element[] = presence === false ? [] : [presence === true ? xml('presence') : presence];
    this.goOnline(first);
  }

  /** Binding → Binded: hand queued elements to the application and flush what waited to be sent. */
  private goOnline(resend: Element[]): void {
    this.transition('Binded');
    this.attempts = 0;
    const jid = this.jid!;
    for (const w of this.connectWaiters.splice(0)) w.resolve(jid);
    const queued = this.inbox.splice(0);
    const outbox = this.outbox.splice(0);
    for (const stanza of [...resend, ...outbox]) this.send(stanza);
    for (const el of queued) if (el !== CLOSED) this.onOnlineElement(el);
  }

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
  }

  private write(el: Element): void {
    const transport = this.transport;
    if (transport) transport.send(serialize(transport.framing, el));
  }

  // ---- endings ---------------------------------------------------------------------------

  private onTransportClosed(gen: number): void {
    if (gen !== this.generation) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(CLOSED);
      return;
    }
    if (this.state === 'Binded' || this.state === 'Connected') this.failed(gen, new ClientError('SB_ERR_TRANSPORT', 'the connection closed'));
    else this.inbox.push(CLOSED);
  }

  /** This attempt is over: retry if the application still wants to be online, else stop. */
  private failed(gen: number, error: ClientError): void {
    if (gen !== this.generation) return;
    this.generation++;
    this.transport?.close();
    this.transport = undefined;
    this.parser = undefined;
    if (this.waiter) {
      this.waiter.reject(new Cancelled());
      this.waiter = undefined;
    }
    if (this.want === 'offline' || error.code === 'SB_ERR_AUTH') {
      this.stop(error);
      return;
    }
    this.attempts++;
    if (this.attempts >= this.retryPolicy.maxAttempts + 1) {
      this.stop(new ClientError('SB_ERR_ATTEMPTS', `gave up after ${this.attempts - 1} attempts: ${error.message}`));
      return;
    }
    const delayMs = retryDelay(this.retryPolicy, this.attempts);
    this.transition('Retrying');
    this.emit('retrying', { attempt: this.attempts, delayMs, error });
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => {
      if (this.want === 'online' && this.state === 'Retrying') void this.attempt();
    }, delayMs);
  }

  private stop(error?: ClientError): void {
    this.generation++;
    this.timers.clearTimeout(this.retryTimer);
    this.transport?.close();
    this.transport = undefined;
    this.parser = undefined;
    this.iqCaller.rejectAll();
    if (this.state !== 'Disconnected') this.transition('Disconnected');
    for (const w of this.connectWaiters.splice(0)) w.reject(error ?? new ClientError('SB_ERR_TRANSPORT', 'disconnected'));
    if (error && error.code !== 'SB_ERR_STREAM') this.emit('error', error);
    this.emit('offline', error ? { error } : {});
  }
}

/** Marks the end of the server's stream in the element queue. */
const CLOSED = new Element('</stream>');

function isStanza(el: Element): boolean {
  return el.name === 'message' || el.name === 'presence' || el.name === 'iq';
}
