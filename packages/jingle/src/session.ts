// XEP-0166 §5.1 / §6: the base Jingle session. It knows nothing of the
// connection: outgoing iqs leave as `send` events, answers come back through
// handleResponse(), remote actions through process(). Actions run one at a
// time in arrival order (ActionQueue); local actions (start, accept) take
// their turn in the same queue. Subclasses add an application format.

import type { Element } from '@switchboard/xml';
import { xml } from '@switchboard/xml';
import type { Jid } from '@switchboard/jid';
import { stanzaError, type StanzaError } from '@switchboard/protocol';
import { Emitter } from './emitter.ts';
import { ActionQueue } from './queue.ts';
import { Requests, type Response, type Settled } from './requests.ts';
import { AWAITS_REPLY, CONNECTION_TRANSITIONS, STATE_TRANSITIONS, type ConnectionState, type SessionState } from './session-states.ts';
import { iqId, randomId } from './ids.ts';
import {
  jingleError, jingleErrorCondition, reasonOf, writeJingle,
  type Content, type Jingle, type JingleAction, type Reason, type ReasonCondition,
} from './protocol/xep0166.ts';
import { payloadNamespace } from './protocol/payloads.ts';

/** What a session-initiate says about a session, or what the application says about an outgoing one. */
export interface SessionInit {
  readonly sid?: string;
  readonly peer: string | Jid;
  readonly peerID?: string;
  readonly initiator: boolean;
  readonly descriptionTypes?: readonly string[];
  readonly transportTypes?: readonly string[];
  /** How long an iq we send may stay unanswered (default 30 s). */
  readonly requestTimeoutMs?: number;
}

export type { ConnectionState, Response, SessionState };
export type Done = (err?: StanzaError) => void;
/** What a session says to an iq that is not Jingle (XEP-0047 data, …): not mine, handled, or refused. */
export type BytestreamOutcome = 'pass' | 'ok' | StanzaError;

/** What the manager gives a session it holds. */
export interface SessionHost {
  readonly selfID: string | undefined;
  /** Another live session with the same peer for the same application, after a lost tie-break. */
  alternativeFor(session: Session): string | undefined;
}

export interface SessionEvents {
  /** A complete iq for the peer (set with a fresh id, or result/error). */
  send: Element;
  state: { from: SessionState; to: SessionState };
  connectionState: { from: ConnectionState; to: ConnectionState };
  terminated: { reason: Reason; by: 'local' | 'peer' };
}

export class Session<Events extends SessionEvents = SessionEvents> extends Emitter<Events> {
  readonly sid: string;
  readonly peer: string | Jid;
  readonly peerID: string;
  readonly isInitiator: boolean;
  /** The action we sent and the peer has not yet acknowledged, if it is one that can tie (§7.2.16). */
  pendingAction: JingleAction | undefined;
  /** Application namespaces of our session-initiate, for session-initiate tie-breaks. */
  pendingDescriptionTypes: readonly string[];
  readonly transportTypes: readonly string[];
  endReason: Reason | undefined;
  protected host: SessionHost | undefined;
  private _state: SessionState = 'starting';
  private _connectionState: ConnectionState = 'starting';
  private readonly queue = new ActionQueue();
  private readonly requests: Requests;

  constructor(init: SessionInit) {
    super();
    this.sid = init.sid ?? randomId();
    this.peer = init.peer;
    this.peerID = init.peerID ?? init.peer.toString();
    this.isInitiator = init.initiator;
    this.pendingDescriptionTypes = init.descriptionTypes ?? [];
    this.transportTypes = init.transportTypes ?? [];
    this.requests = new Requests(init.requestTimeoutMs ?? 30_000, (settled) => this.onSettled(settled));
  }

  get state(): SessionState { return this._state; }
  get starting(): boolean { return this._state === 'starting'; }
  get pending(): boolean { return this._state === 'pending'; }
  get active(): boolean { return this._state === 'active'; }
  get ended(): boolean { return this._state === 'ended'; }
  get connectionState(): ConnectionState { return this._connectionState; }
  get connecting(): boolean { return this._connectionState === 'connecting'; }
  get connected(): boolean { return this._connectionState === 'connected'; }
  get disconnected(): boolean { return this._connectionState === 'disconnected'; }
  get interrupted(): boolean { return this._connectionState === 'interrupted'; }
  get role(): 'initiator' | 'responder' { return this.isInitiator ? 'initiator' : 'responder'; }
  get peerRole(): 'initiator' | 'responder' { return this.isInitiator ? 'responder' : 'initiator'; }
  get selfID(): string | undefined { return this.host?.selfID; }

  /** The emitter typed with the base events, for emitting them from this class. */
  private get events(): Emitter<SessionEvents> {
    return this as unknown as Emitter<SessionEvents>;
  }

  attach(host: SessionHost): void {
    this.host = host;
  }

  protected setState(to: SessionState): void {
    const from = this._state;
    if (from === to) return;
    if (!STATE_TRANSITIONS[from].includes(to)) throw new Error(`jingle session ${this.sid}: ${from} → ${to} is not a transition`);
    this._state = to;
    this.events.emit('state', { from, to });
  }

  protected setConnectionState(to: ConnectionState): void {
    const from = this._connectionState;
    if (from === to || from === 'disconnected') return;
    if (!CONNECTION_TRANSITIONS[from].includes(to)) throw new Error(`jingle session ${this.sid}: connection ${from} → ${to} is not a transition`);
    this._connectionState = to;
    this.events.emit('connectionState', { from, to });
  }

  // ---- Outgoing -------------------------------------------------------

  /**
   * Sends a Jingle action: emits `send` with the complete iq (to, type set,
   * jingle with sid and action). Resolves with the peer's answer; never rejects.
   */
  send(action: JingleAction, data: Partial<Omit<Jingle, 'action' | 'sid'>> = {}): Promise<Response> {
    const jingle: Jingle = { contents: [], ...data, action, sid: this.sid };
    if (action === 'session-initiate' && jingle.initiator === undefined && this.selfID) Object.assign(jingle, { initiator: this.selfID });
    if (action === 'session-accept' && jingle.responder === undefined && this.selfID) Object.assign(jingle, { responder: this.selfID });
    this.pendingAction = AWAITS_REPLY.has(action) ? action : undefined;
    return this.request(xml('iq', { to: this.peerID, type: 'set', id: iqId() }, writeJingle(jingle)), action);
  }

  /** Sends any iq-set/get to the peer through `send` and resolves with its answer (or a timeout). */
  request(iq: Element, action?: JingleAction): Promise<Response> {
    const id = iq.attrs.id ?? iqId();
    const answer = this.requests.open(id, action);
    this.events.emit('send', iq.withAttrs({ id, to: iq.attrs.to ?? this.peerID }));
    return answer;
  }

  /** An iq result or error for one of our requests. Returns false when it is not ours. */
  handleResponse(iq: Element): boolean {
    const id = iq.attrs.id;
    if (id === undefined || !this.requests.has(id) || iq.attrs.from !== this.peerID) return false;
    this.requests.settle(id, iq);
    return true;
  }

  private onSettled({ action, response, timedOut }: Settled): void {
    if (action === undefined) return;
    if (this.pendingAction === action) this.pendingAction = undefined;
    if (!response.ok && !this.ended) this.onActionError(action, response.error, timedOut);
  }

  /**
   * The peer refused (or never answered) one of our actions. §6.7: unknown-session
   * means the peer has no such session; §7.2.16: a tie-break on our
   * session-initiate means the peer's session overrules ours.
   */
  protected onActionError(action: JingleAction, error: StanzaError, timedOut: boolean): void {
    const condition = jingleErrorCondition(error);
    if (condition === 'unknown-session') return this.end('gone', true);
    if (action === 'session-initiate') {
      if (condition === 'tie-break') {
        const alternative = this.host?.alternativeFor(this);
        return this.end(alternative ? { condition: 'alternative-session', alternativeSession: alternative } : 'alternative-session', true);
      }
      if (timedOut) return this.end('timeout');
      return this.end({ condition: 'general-error', text: `session-initiate refused: ${error.condition}` }, true);
    }
    if (condition === 'tie-break') this.onTieBreakLost(action);
    else if (timedOut && action === 'session-accept') this.end('timeout');
  }

  /** §7.2.16: the initiator overruled our copy of this action; subclasses drop what they proposed. */
  protected onTieBreakLost(_action: JingleAction): void {}

  // ---- Incoming -------------------------------------------------------

  /**
   * Queues a remote action. Actions run one at a time in order; `cb()` acks
   * it (iq result) and lets the next one start, `cb(err)` answers with the error.
   */
  process(action: JingleAction, data: Jingle, cb: Done): void {
    this.queue.push({
      run: () => this.runRemote(action, data, cb),
      cancel: () => cb(jingleError('unknown-session')),
    });
  }

  private runRemote(action: JingleAction, data: Jingle, cb: Done): Promise<void> {
    if (this.ended) {
      cb(jingleError('unknown-session'));
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      let answered = false;
      const done: Done = (err) => {
        if (answered) return;
        answered = true;
        cb(err);
        resolve();
      };
      try {
        const result = this.handlerFor(action).call(this, data, done);
        if (result) result.catch((err: unknown) => done(stanzaError('internal-server-error', { text: String(err) })));
      } catch (err) {
        done(stanzaError('internal-server-error', { text: String(err) }));
      }
    });
  }

  /** Runs local work (start, accept, …) in its turn between remote actions. */
  protected runLocal<T>(fn: () => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        run: async () => {
          try {
            resolve(await fn());
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        },
        cancel: () => reject(new Error(`jingle session ${this.sid} has ended`)),
      });
    });
  }

  private handlerFor(action: JingleAction): (data: Jingle, done: Done) => void | Promise<void> {
    switch (action) {
      case 'content-accept': return this.onContentAccept;
      case 'content-add': return this.onContentAdd;
      case 'content-modify': return this.onContentModify;
      case 'content-reject': return this.onContentReject;
      case 'content-remove': return this.onContentRemove;
      case 'description-info': return this.onDescriptionInfo;
      case 'security-info': return this.onSecurityInfo;
      case 'session-accept': return this.onSessionAccept;
      case 'session-info': return this.onSessionInfo;
      case 'session-initiate': return this.onSessionInitiate;
      case 'session-terminate': return this.onSessionTerminate;
      case 'transport-accept': return this.onTransportAccept;
      case 'transport-info': return this.onTransportInfo;
      case 'transport-reject': return this.onTransportReject;
      case 'transport-replace': return this.onTransportReplace;
    }
  }

  /** Not a Jingle iq: subclasses that own a bytestream (XEP-0047) answer it. Synchronous, so data stays in order. */
  handleBytestream(_iq: Element): BytestreamOutcome {
    return 'pass';
  }

  // ---- Lifecycle ------------------------------------------------------

  /** starting → pending: sends session-initiate with the given contents. */
  start(contents: readonly Content[] = []): Promise<void> {
    return this.runLocal(() => {
      const types = contents.flatMap((c) => (c.description ? [payloadNamespace(c.description)] : []));
      if (types.length > 0) this.pendingDescriptionTypes = types;
      this.setState('pending');
      void this.send('session-initiate', { contents });
    });
  }

  /** The base class understands no application format (§6.7 unsupported-applications). */
  accept(): Promise<void> {
    return this.runLocal(() => this.end('unsupported-applications'));
  }

  cancel(): void {
    this.end('cancel');
  }

  decline(): void {
    this.end('decline');
  }

  /**
   * §6.7: sends session-terminate (unless silent) and considers the session
   * ended at once. Waiting actions are answered with unknown-session.
   */
  end(reason: ReasonCondition | Reason = 'success', silent = false): void {
    this.finish(reasonOf(reason), silent, 'local');
  }

  private finish(reason: Reason, silent: boolean, by: 'local' | 'peer'): void {
    if (this.ended) return;
    this.endReason = reason;
    this.setState('ended');
    this.setConnectionState('disconnected');
    if (!silent) void this.send('session-terminate', { reason });
    this.queue.close();
    this.requests.abandon((action) => action === 'session-terminate');
    try {
      this.onEnded(reason);
    } finally {
      this.events.emit('terminated', { reason, by });
    }
  }

  /** Subclasses release transports here. */
  protected onEnded(_reason: Reason): void {}

  // ---- Default action handlers (§7.2) ---------------------------------

  protected onSessionInitiate(_data: Jingle, done: Done): void {
    this.setState('pending');
    done();
  }

  protected onSessionAccept(_data: Jingle, done: Done): void {
    this.setState('active');
    done();
  }

  /** Acknowledged first: ending answers the actions queued behind it (unknown-session), and those answers come after this one. */
  protected onSessionTerminate(data: Jingle, done: Done): void {
    done();
    this.finish(data.reason ?? { condition: 'success' }, true, 'peer');
  }

  /** §6.8: an empty session-info is a ping; an unknown payload is unsupported-info. */
  protected onSessionInfo(data: Jingle, done: Done): void {
    done(data.info === undefined ? undefined : jingleError('unsupported-info'));
  }

  protected onDescriptionInfo(_data: Jingle, done: Done): void {
    done(jingleError('unsupported-info'));
  }

  protected onTransportInfo(_data: Jingle, done: Done): void {
    done(jingleError('unsupported-info'));
  }

  protected onSecurityInfo(_data: Jingle, done: Done): void {
    done(jingleError('unsupported-info'));
  }

  /** §7.2.2: content-add MUST be answered with content-accept or content-reject. */
  protected onContentAdd(data: Jingle, done: Done): void {
    done();
    void this.send('content-reject', {
      contents: data.contents.map((c) => ({ creator: c.creator, name: c.name })),
      reason: { condition: 'failed-application', text: 'content-add is not supported' },
    });
  }

  /** §7.2.15: transport-replace MUST be answered with transport-accept or transport-reject. */
  protected onTransportReplace(data: Jingle, done: Done): void {
    done();
    void this.send('transport-reject', {
      contents: data.contents,
      reason: { condition: 'failed-transport', text: 'transport-replace is not supported' },
    });
  }

  /** Answers to requests we never made. */
  protected onContentAccept(_data: Jingle, done: Done): void { done(jingleError('out-of-order')); }
  protected onContentReject(_data: Jingle, done: Done): void { done(jingleError('out-of-order')); }
  protected onTransportAccept(_data: Jingle, done: Done): void { done(jingleError('out-of-order')); }
  protected onTransportReject(_data: Jingle, done: Done): void { done(jingleError('out-of-order')); }
  protected onContentModify(_data: Jingle, done: Done): void { done(jingleError('unknown-content')); }
  protected onContentRemove(_data: Jingle, done: Done): void { done(jingleError('unknown-content')); }
}
