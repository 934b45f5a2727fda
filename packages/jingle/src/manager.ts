// XEP-0166 session management, transport-independent (as StanzaJS's
// SessionManager): Jingle and bytestream iqs go in through process(), every
// iq we owe the peer comes out as a `send` event carrying a complete
// element. The application (the client library) sends those and feeds every
// answer (result or error) back into process(); answers are matched to the
// session that asked by iq id and sender.
//
// Routing, in the order the checks run (§6.3.2, §6.7, §7.2.16, §10):
//   result/error    → the session that sent that id, if the sender matches
//   jingle, bad     → bad-request
//   not initiate    → no session (peer, sid): ack a terminate, else unknown-session
//                     session-accept to a responder or a non-pending session: out-of-order
//                     same action as our unacknowledged one, we are initiator: tie-break
//   initiate        → same (peer, sid) pending and ours: lower JID wins (tie-break)
//                     same (peer, sid) otherwise: out-of-order
//                     our pending initiate to that peer, same application, lower sid: tie-break
//                     no content: bad-request; else a new session from the registry
//   ibb and others  → the session of that peer that owns the bytestream

import { Element, xml } from '@switchboard/xml';
import { parseJid, type Jid } from '@switchboard/jid';
import { NS_DISCO_INFO, iqResult, replyWithError, stanzaError, type StanzaError } from '@switchboard/protocol';
import { Emitter } from './emitter.ts';
import { octetCompare } from './ids.ts';
import { NS_JINGLE } from './namespaces.ts';
import { jingleError, parseJingle, type Jingle, type Reason, type ReasonCondition } from './protocol/xep0166.ts';
import { payloadNamespace } from './protocol/payloads.ts';
import { Session, type SessionHost, type SessionInit } from './session.ts';

/** What the registry is given to build a session for an incoming session-initiate. */
export interface IncomingInit extends SessionInit {
  readonly sid: string;
  readonly peerID: string;
  readonly initiator: false;
  readonly descriptionTypes: readonly string[];
  readonly transportTypes: readonly string[];
}

export interface Application {
  /** The description namespace this application handles (XEP-0166 §7.3). */
  readonly namespace: string;
  /** Disco features to advertise (XEP-0166 §11): the application's and its transports'. */
  readonly features: readonly string[];
  create(init: IncomingInit, request: Jingle): Session;
}

export interface ManagerOptions {
  /** Our own full JID: the session-initiate/accept initiator/responder, and the tie-break order. */
  readonly selfID?: string | Jid;
  readonly requestTimeoutMs?: number;
}

export interface ManagerEvents {
  send: Element;
  incoming: Session;
  outgoing: Session;
  accepted: Session;
  terminated: { session: Session; reason: Reason };
}

/** What process() did with a stanza: `pass` means it was not for Jingle. */
export type ProcessOutcome = 'handled' | 'pass';

export class JingleManager extends Emitter<ManagerEvents> implements SessionHost {
  selfID: string | undefined;
  readonly requestTimeoutMs: number | undefined;
  private readonly sessions = new Map<string, Map<string, Session>>();
  private readonly requests = new Map<string, Session>();
  private readonly applications = new Map<string, Application>();

  constructor(options: ManagerOptions = {}) {
    super();
    this.selfID = options.selfID?.toString();
    this.requestTimeoutMs = options.requestTimeoutMs;
  }

  registerApplication(app: Application): void {
    this.applications.set(app.namespace, app);
  }

  /** XEP-0166 §11: the features to put in our disco#info. */
  features(): string[] {
    const out = new Set<string>([NS_JINGLE]);
    for (const app of this.applications.values()) for (const f of app.features) out.add(f);
    return [...out];
  }

  /** Answers a disco#info get with our Jingle features (for applications without a disco module). */
  discoInfo(request: Element): Element {
    return iqResult(request, xml('query', { xmlns: NS_DISCO_INFO }, this.features().map((v) => xml('feature', { var: v }))));
  }

  getSession(peerID: string, sid: string): Session | undefined {
    return this.sessions.get(peerID)?.get(sid);
  }

  sessionsWith(peerID: string): Session[] {
    return [...(this.sessions.get(peerID)?.values() ?? [])];
  }

  /** Takes charge of a session: its iqs go out through our `send`, its answers are routed to it. */
  addSession<S extends Session>(session: S): S {
    session.attach(this);
    let byPeer = this.sessions.get(session.peerID);
    if (!byPeer) this.sessions.set(session.peerID, (byPeer = new Map()));
    byPeer.set(session.sid, session);
    session.on('send', (iq) => {
      if (iq.attrs.type === 'set' || iq.attrs.type === 'get') this.requests.set(iq.attrs.id!, session);
      this.emit('send', iq);
    });
    session.on('state', ({ from, to }) => {
      if (to === 'pending' && from === 'starting' && session.isInitiator) this.emit('outgoing', session);
      if (to === 'active') this.emit('accepted', session);
    });
    session.on('terminated', ({ reason }) => {
      this.forget(session);
      this.emit('terminated', { session, reason });
    });
    return session;
  }

  private forget(session: Session): void {
    const byPeer = this.sessions.get(session.peerID);
    if (byPeer?.get(session.sid) === session) byPeer.delete(session.sid);
    if (byPeer?.size === 0) this.sessions.delete(session.peerID);
    // Late answers to its requests are dropped; the session-terminate ack among them too.
    for (const [id, owner] of this.requests) if (owner === session) this.requests.delete(id);
  }

  alternativeFor(session: Session): string | undefined {
    for (const other of this.sessionsWith(session.peerID)) {
      if (other !== session && !other.ended && overlaps(other.pendingDescriptionTypes, session.pendingDescriptionTypes)) return other.sid;
    }
    return undefined;
  }

  /** XEP-0166 §6.7: the peer went offline; its sessions are over (a full JID ends its sessions, a bare JID all of that account's). */
  peerUnavailable(jid: string | Jid, reason: ReasonCondition = 'gone'): void {
    const target = jid.toString();
    const bare = !target.includes('/');
    for (const peerID of [...this.sessions.keys()]) {
      if (peerID === target || (bare && peerID.split('/')[0] === target)) this.endPeerSessions(peerID, reason);
    }
  }

  endPeerSessions(peerID: string, reason: ReasonCondition | Reason = 'gone', silent = false): void {
    for (const session of this.sessionsWith(peerID)) session.end(reason, silent);
  }

  /** The connection is gone: nothing can be sent, every session ends here. */
  endAllSessions(reason: ReasonCondition | Reason = 'gone', silent = true): void {
    for (const peerID of [...this.sessions.keys()]) this.endPeerSessions(peerID, reason, silent);
  }

  /**
   * Takes an iq (or an unavailable presence) from the connection. Returns
   * `pass` for stanzas that are not Jingle's business.
   */
  process(stanza: Element): ProcessOutcome {
    const from = stanza.attrs.from;
    if (stanza.name === 'presence') {
      if (stanza.attrs.type === 'unavailable' && from && this.knowsPeer(from)) {
        this.peerUnavailable(from);
        return 'handled';
      }
      return 'pass';
    }
    if (stanza.name !== 'iq' || !from) return 'pass';
    const type = stanza.attrs.type;
    if (type === 'result' || type === 'error') {
      const id = stanza.attrs.id;
      const owner = id === undefined ? undefined : this.requests.get(id);
      if (!owner || !owner.handleResponse(stanza)) return 'pass';
      this.requests.delete(id!);
      return 'handled';
    }
    if (type !== 'set') return 'pass';
    const payload = stanza.getChildren()[0];
    if (!payload) return 'pass';
    if (payload.localName === 'jingle' && payload.attrs.xmlns === NS_JINGLE) {
      this.processJingle(stanza, payload, from);
      return 'handled';
    }
    for (const session of this.sessionsWith(from)) {
      const outcome = session.handleBytestream(stanza);
      if (outcome === 'pass') continue;
      this.reply(stanza, outcome === 'ok' ? undefined : outcome);
      return 'handled';
    }
    return 'pass';
  }

  private knowsPeer(jid: string): boolean {
    if (this.sessions.has(jid)) return true;
    return !jid.includes('/') && [...this.sessions.keys()].some((p) => p.split('/')[0] === jid);
  }

  private reply(request: Element, err?: StanzaError): void {
    const out = err ? replyWithError(request, err) : iqResult(request);
    if (out) this.emit('send', out.withAttrs({ from: undefined }));
  }

  private processJingle(iq: Element, payload: Element, from: string): void {
    const parsed = parseJingle(payload);
    if (!parsed.ok) return this.reply(iq, stanzaError('bad-request', { text: parsed.text }));
    const jingle = parsed.jingle;
    const { action, sid } = jingle;
    let session = this.getSession(from, sid);

    if (action !== 'session-initiate') {
      if (!session) {
        // §6.7: a terminate for a session we already forgot is simply acknowledged.
        return this.reply(iq, action === 'session-terminate' ? undefined : jingleError('unknown-session'));
      }
      if (action === 'session-accept' && (!session.isInitiator || session.state !== 'pending')) return this.reply(iq, jingleError('out-of-order'));
      // §7.2.16, existing session: the initiator's action overrules the responder's.
      if (action !== 'session-terminate' && action === session.pendingAction && session.isInitiator) return this.reply(iq, jingleError('tie-break'));
      return session.process(action, jingle, (err) => this.reply(iq, err));
    }

    const descriptionTypes = jingle.contents.flatMap((c) => (c.description ? [payloadNamespace(c.description)] : []));
    const transportTypes = jingle.contents.flatMap((c) => (c.transport ? [payloadNamespace(c.transport)] : []));
    if (session) {
      if (!(session.isInitiator && session.state === 'pending' && overlaps(session.pendingDescriptionTypes, descriptionTypes))) return this.reply(iq, jingleError('out-of-order'));
      // §7.2.16, no session yet and equal sids: the lower JID's action overrules.
      if (this.selfID === undefined || octetCompare(this.selfID, from) < 0) return this.reply(iq, jingleError('tie-break'));
      session.end({ condition: 'alternative-session', alternativeSession: sid }, true);
    } else {
      // §7.2.16, no session yet: the session-initiate with the lower sid overrules.
      for (const mine of this.sessionsWith(from)) {
        if (mine.isInitiator && mine.state === 'pending' && overlaps(mine.pendingDescriptionTypes, descriptionTypes) && octetCompare(mine.sid, sid) < 0) {
          return this.reply(iq, jingleError('tie-break'));
        }
      }
    }
    if (jingle.contents.length === 0) return this.reply(iq, stanzaError('bad-request', { text: 'session-initiate without content' }));

    const peerJid = parseJid(from);
    const init: IncomingInit = {
      sid, peer: peerJid.ok ? peerJid.jid : from, peerID: from, initiator: false,
      descriptionTypes, transportTypes, requestTimeoutMs: this.requestTimeoutMs,
    };
    const app = descriptionTypes.map((ns) => this.applications.get(ns)).find((a) => a !== undefined);
    session = this.addSession(app ? app.create(init, jingle) : new Session(init));
    const created = session;
    created.process('session-initiate', jingle, (err) => {
      this.reply(iq, err);
      if (err) return created.end('general-error', true);
      // §6.3.1: acknowledge first, then refuse what we cannot do.
      if (!app) return created.end('unsupported-applications');
      // After the session has looked at the offer: one it refused at once is never announced.
      queueMicrotask(() => {
        if (!created.ended) this.emit('incoming', created);
      });
    });
  }
}

function overlaps(a: readonly string[], b: readonly string[]): boolean {
  return a.some((x) => b.includes(x));
}
