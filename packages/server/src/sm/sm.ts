// The session manager component: owns sessions, routes stanzas among them by
// RFC 6121 §8, and answers the internal protocol's session and user actions.
// It never touches a socket: to end a session it tells the c2s why.

import { Element } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { isStanzaError, iqPayload, iqResult, replyWithError, stanzaError, type StanzaError } from '@switchboard/protocol';
import {
  COMPONENT_ADDRESS_PREFIX,
  failedReply,
  readControl,
  sessionControl,
  sessionsControl,
  type Control,
  type EndReason,
  type Envelope,
} from '../router/envelope.ts';
import type { ComponentAddress, Router } from '../router/router.ts';
import type { Storage } from '../storage/ports.ts';
import { channels } from '../diagnostics.ts';
import { classify, type Classified } from './classify.ts';
import { toBareJid, toFullJid, toMissingAccount, type Delivery, type DeliveryPolicy } from './deliver.ts';
import { IqHandlers } from './iq-handlers.ts';
import { SerialQueue } from './serial-queue.ts';
import { ServerQueries } from './server-queries.ts';
import { SmSession } from './session.ts';
import { SessionTable } from './sessions.ts';
import { Rosters } from './roster.ts';
import { InstantMessaging, isSubscriptionType } from './im.ts';
import { recordLastActivity, type SimpleIqDeps } from './modules/simple-iq.ts';
import { blockedError, type BlockLists } from './modules/blocking.ts';
import type { Pep } from './modules/pep.ts';
import { installModules } from './modules/install.ts';
import { parseJid as parseAddress, type Jid } from '@switchboard/jid';

export interface SmOptions {
  domain: string;
  address?: ComponentAddress;
  delivery?: Partial<DeliveryPolicy>;
  /** XEP-0160: most messages stored for one offline user (default 1000). */
  offlineQuota?: number;
  /** XEP-0077 password change and account removal (default off). */
  registration?: boolean;
  scramIterations?: number;
  /** XEP-0114 component domains from the configuration. */
  componentDomains?: string[];
}


export class SessionManager {
  readonly sessions = new SessionTable();
  readonly iq = new IqHandlers();
  readonly domain: string;
  readonly address: ComponentAddress;
  private readonly policy: DeliveryPolicy;
  private readonly queues = new WeakMap<SmSession, SerialQueue>();
  private nextId = 0;
  readonly rosters: Rosters;
  readonly im: InstantMessaging;
  private readonly accounts: Storage['accounts'];
  readonly pep: Pep;
  private readonly queries: ServerQueries;
  /** XEP-0114 component domains connected now. */
  private readonly components = new Set<string>();
  /** Component domains the configuration knows (connected or not). */
  private readonly knownComponents: Set<string>;
  readonly blocking: BlockLists;
  private readonly simpleIq: SimpleIqDeps;

  constructor(
    private readonly router: Router,
    storage: Storage,
    options: SmOptions,
  ) {
    this.domain = options.domain;
    this.address = options.address ?? 'sm';
    this.policy = { chatToAllResources: true, ...options.delivery };
    this.accounts = storage.accounts;
    this.queries = new ServerQueries(this.domain);
    this.knownComponents = new Set(options.componentDomains ?? []);
    this.rosters = new Rosters(storage.rosters, this.domain);
    this.im = new InstantMessaging(
      {
        sessions: this.sessions,
        rosters: this.rosters,
        offline: storage.offline,
        accountExists: (username) => this.accounts.accountExists(username, this.domain),
        sendTo: (session, stanza) => this.sendTo(session, stanza),
        blocks: (username, bareJid) => {
          const parsed = parseAddress(bareJid);
          return parsed.ok && this.blocking.blockedSync(username, parsed.jid) === true;
        },
      },
      { domain: this.domain, offlineQuota: options.offlineQuota ?? 1000 },
    );
    ({ simpleIq: this.simpleIq, blocking: this.blocking, pep: this.pep } = installModules({
      domain: this.domain,
      storage,
      iq: this.iq,
      sessions: this.sessions,
      rosters: this.rosters,
      im: this.im,
      registration: options.registration ?? false,
      scramIterations: options.scramIterations ?? 4096,
      componentDomains: () => [...this.knownComponents].sort(),
      sendTo: (session, stanza) => this.sendTo(session, stanza),
      queryClient: (to, payload) => this.queryClient(to, payload),
      removeUser: (bare) => void this.removeUser(bare),
    }));
  }

  start(): Promise<void> {
    return this.router.attach(this.address, (envelope) => this.receive(envelope));
  }

  async stop(): Promise<void> {
    for (const session of [...this.sessions.all()]) this.endSession(session, 'shutdown');
    await this.router.detach(this.address);
  }

  private receive(envelope: Envelope): void {
    const control = readControl(envelope.payload);
    if (control) {
      void this.onControl(envelope, control);
      return;
    }
    if (envelope.from.startsWith(COMPONENT_ADDRESS_PREFIX)) {
      this.fromComponent(envelope.from.slice(COMPONENT_ADDRESS_PREFIX.length), envelope.payload);
      return;
    }
    const session = envelope.sm !== undefined ? this.sessions.get(envelope.sm) : undefined;
    if (!session || session.c2sId !== envelope.c2s) {
      // A stanza for a session we do not have: tell that c2s the session is over.
      if (envelope.c2s !== undefined) this.router.route({ to: envelope.from, from: this.address, c2s: envelope.c2s, payload: sessionControl('ended', '', { reason: 'disconnected' }) });
      return;
    }
    this.queueFor(session).run(() => this.fromSession(session, envelope.payload));
  }

  private queueFor(session: SmSession): SerialQueue {
    let queue = this.queues.get(session);
    if (!queue) this.queues.set(session, (queue = new SerialQueue()));
    return queue;
  }

  // ---- the internal protocol's actions -------------------------------------------------

  private async onControl(envelope: Envelope, control: Control): Promise<void> {
    if (control.failed) return; // failures are never answered (no bounce)
    const ok = await this.perform(envelope, control);
    if (!ok) {
      const reply = failedReply(envelope, control);
      if (reply) this.router.route(reply);
    }
  }

  private async perform(envelope: Envelope, control: Control): Promise<boolean> {
    if (control.ns === 'component') {
      if (envelope.from !== COMPONENT_ADDRESS_PREFIX + control.target) return false;
      if (control.action === 'online') this.components.add(control.target);
      else this.components.delete(control.target);
      return true;
    }
    if (control.ns === 'sessions') {
      if (control.action === 'create') return this.createUser(envelope, control.target);
      if (control.action === 'delete') return this.deleteUser(envelope, control.target);
      return false;
    }
    if (control.action === 'start') return this.startSession(envelope, control.target);
    if (control.action === 'end') {
      const session = envelope.sm !== undefined ? this.sessions.get(envelope.sm) : undefined;
      if (!session || session.c2sId !== envelope.c2s) return false;
      this.queueFor(session).run(() => {
        this.destroySession(session, control.reason ?? 'disconnected');
        this.router.route({ to: envelope.from, from: this.address, c2s: session.c2sId, sm: session.smId, payload: sessionControl('ended', session.fullJid, { reason: control.reason }) });
      });
      return true;
    }
    return false;
  }

  /** `sm:session start`: bind a full JID; a session already bound to it is replaced (RFC 6120 §7.7.2.2). */
  private async startSession(envelope: Envelope, target: string): Promise<boolean> {
    const parsed = parseJid(target);
    if (!parsed.ok || envelope.c2s === undefined) return false;
    const jid = parsed.jid;
    if (jid.domain !== this.domain || jid.local === undefined || jid.resource === undefined) return false;
    if (!(await this.accounts.accountExists(jid.local, jid.domain))) return false;
    const old = this.sessions.full(jid.toString());
    if (old) this.endSession(old, 'replaced');
    const session = new SmSession(`sm${(++this.nextId).toString(36)}`, envelope.c2s, envelope.from, jid);
    // The roster is loaded once, when the user's first resource binds, and shared (RFC 6121 §2.2).
    session.roster = await this.rosters.retain(jid.local);
    await this.blocking.retain(jid.local);
    this.sessions.add(session);
    channels.smSessionStarted.publish({ jid: session.fullJid, sm: session.smId });
    this.router.route({ to: envelope.from, from: this.address, c2s: envelope.c2s, sm: session.smId, payload: sessionControl('started', session.fullJid) });
    return true;
  }

  /** `sm:sessions create`: the account was just created (credentials stored by the creator); set the user up. */
  private async createUser(envelope: Envelope, target: string): Promise<boolean> {
    const parsed = parseJid(target);
    if (!parsed.ok || parsed.jid.local === undefined || parsed.jid.domain !== this.domain) return false;
    if (!(await this.accounts.accountExists(parsed.jid.local, parsed.jid.domain))) return false;
    this.router.route({ to: envelope.from, from: this.address, payload: sessionsControl('created', parsed.jid.bare().toString()) });
    return true;
  }

  /** `sm:sessions delete`: end the user's sessions, then remove the account and all its data. */
  private async deleteUser(envelope: Envelope, target: string): Promise<boolean> {
    const bare = await this.removeUser(target);
    if (bare === undefined) return false;
    this.router.route({ to: envelope.from, from: this.address, payload: sessionsControl('deleted', bare) });
    return true;
  }

  /** The one removal path: sessions end with account-removed, then the account and its data go. */
  private async removeUser(target: string): Promise<string | undefined> {
    const parsed = parseJid(target);
    if (!parsed.ok || parsed.jid.local === undefined || parsed.jid.domain !== this.domain) return undefined;
    const bare = parsed.jid.bare().toString();
    for (const session of [...this.sessions.bare(bare)]) this.endSession(session, 'account-removed');
    if (!(await this.accounts.removeAccount(parsed.jid.local, parsed.jid.domain))) return undefined;
    this.rosters.release(parsed.jid.local);
    this.blocking.release(parsed.jid.local);
    return bare;
  }

  /** The sm ends a session on its own: destroy it and tell its c2s why, so the c2s closes the stream. */
  endSession(session: SmSession, reason: EndReason): void {
    if (session.ended) return;
    this.destroySession(session, reason);
    this.router.route({ to: session.c2sAddress, from: this.address, c2s: session.c2sId, sm: session.smId, payload: sessionControl('ended', session.fullJid, { reason }) });
  }

  /** The single destroy path every ending goes through. */
  private destroySession(session: SmSession, reason: EndReason): void {
    if (session.ended) return;
    session.ended = true;
    this.sessions.remove(session);
    // RFC 6121 §4.5.3: contacts learn of the end however it happened.
    const status = session.presence?.getChildText('status');
    this.pep.forget(session.fullJid);
    this.queueFor(session).run(async () => {
      await this.im.sessionEnded(session);
      if (this.sessions.bare(session.bareJid).length === 0) {
        this.blocking.release(session.username);
        // A removed account keeps nothing, not even its last activity.
        if (reason !== 'account-removed') await recordLastActivity(this.simpleIq, session.username, status);
      }
    });
    channels.smSessionEnded.publish({ jid: session.fullJid, reason });
  }

  // ---- stanzas ---------------------------------------------------------------------------

  private fromSession(session: SmSession, stanza: Element): void | Promise<void> {
    const result = classify(stanza, this.domain);
    if (!result.ok) return this.sendError(stanza, stanzaError(result.problem));
    const c = result.value;
    // XEP-0191 §3.4: nothing goes to someone the user blocked.
    if (c.to && c.address !== 'host' && c.address !== 'self' && this.blocking.blockedSync(session.username, c.to)) {
      return c.kind === 'presence' ? undefined : this.sendError(c.stanza, blockedError());
    }
    if (c.kind === 'presence') return this.presenceFromSession(session, c);
    if (c.address === 'self' && c.kind === 'iq') return this.serveIq(c, 'account', session.bareJid, session);
    return this.route(c, session);
  }

  /** RFC 6121 §3 and §4: the presence a client sends. */
  private async presenceFromSession(session: SmSession, c: Extract<Classified, { kind: 'presence' }>): Promise<void> {
    if (c.address === 'self') {
      if (c.type === 'available' || c.type === 'unavailable') await this.im.ownPresence(session, c.stanza, c.type);
      // XEP-0163 §4.3: learn what the resource wants to be notified of. Not awaited: the client's
      // answer to our disco query comes through this same session queue.
      if (c.type === 'available') void this.pep.presenceWithCaps(session, c.stanza).catch((err: unknown) => console.error('switchboard: pep', err));
      return;
    }
    const to = c.to!;
    if (isSubscriptionType(c.type)) {
      // §3.1.2: subscription stanzas go out from the bare JID, to the contact's bare JID.
      if (c.address === 'remote') return this.route(c, session);
      if (to.local === undefined) return;
      await this.im.subscription(session.bareJid, to.bare().toString(), c.type, c.stanza);
      return;
    }
    // §4.3: a probe is answered by the server from what it knows, never delivered.
    if (c.type === 'probe') return this.im.answerProbe(session, to.bare().toString());
    // Directed presence (§4.6).
    if (c.address !== 'remote' && c.address !== 'host') await this.im.directed(session, c.stanza, to.toString(), to.bare().toString());
    return this.route(c, session);
  }

  /** Routes a classified stanza to its destination (RFC 6120 §10). */
  route(c: Classified, session?: SmSession): void | Promise<void> {
    const to = c.to ?? (session ? session.jid.bare() : undefined);
    if (!to) return;
    switch (c.address) {
      case 'remote':
        // XEP-0114: a connected component's domain; anything else needs s2s, which we lack (RFC 6120 §10.4.3).
        if (this.components.has(to.domain)) {
          this.router.route({ to: COMPONENT_ADDRESS_PREFIX + to.domain, from: this.address, payload: c.stanza });
          return;
        }
        return this.sendError(c.stanza, stanzaError(this.knownComponents.has(to.domain) ? 'service-unavailable' : 'remote-server-not-found'));
      case 'host':
        if (c.kind === 'iq') {
          // The answer to a query the server sent (caps discovery)?
          if (this.queries.answer(c.stanza)) return;
          return this.serveIq(c, 'host', undefined, session);
        }
        return; // messages and presence to the server itself: nothing to do
      case 'self':
      case 'bare':
      case 'full':
        if (c.address !== 'self') {
          const blocked = this.senderBlocked(to.local!, c.stanza);
          if (blocked === true) return this.refuseBlocked(c);
          if (blocked instanceof Promise) return blocked.then((b) => (b ? this.refuseBlocked(c) : this.routeLocal(c, to, session)));
        }
        return this.routeLocal(c, to, session);
    }
  }

  /** XEP-0191 §3.3: has the recipient blocked the sender? Synchronous while the recipient is online. */
  private senderBlocked(recipient: string, stanza: Element): boolean | Promise<boolean> {
    const from = parseAddress(stanza.attrs.from ?? '');
    if (!from.ok) return false;
    return this.blocking.blockedSync(recipient, from.jid) ?? this.blocking.blocked(recipient, from.jid);
  }

  /** A blocked sender learns nothing: presence is dropped, the rest gets service-unavailable. */
  private refuseBlocked(c: Classified): void {
    if (c.kind !== 'presence') this.sendError(c.stanza, stanzaError('service-unavailable'));
  }

  private routeLocal(c: Classified, to: Jid, session: SmSession | undefined): void | Promise<void> {
    switch (c.address) {
      case 'self':
      case 'bare': {
        const bare = to.bare().toString();
        const sessions = this.sessions.bare(bare);
        if (sessions.length > 0) return this.apply(c, toBareJid(c, sessions, this.policy), bare, session);
        return this.routeToIdleAccount(c, to.local!, bare, session);
      }
      case 'full': {
        const bare = to.bare().toString();
        const sessions = this.sessions.bare(bare);
        if (sessions.length === 0) return this.routeToIdleAccount(c, to.local!, bare, session, true);
        return this.apply(c, toFullJid(c, this.sessions.full(to.toString()), sessions, this.policy), bare, session);
      }
      default:
        return;
    }
  }

  /** A user with no session: whether the account exists decides (§8.5.1 vs §8.5.2.2). */
  private async routeToIdleAccount(c: Classified, local: string, bare: string, session: SmSession | undefined, full = false): Promise<void> {
    if (!(await this.accounts.accountExists(local, this.domain))) return this.apply(c, toMissingAccount(c), bare, session);
    const delivery = full ? toFullJid(c, undefined, [], this.policy) : toBareJid(c, [], this.policy);
    return this.apply(c, delivery, bare, session);
  }

  private apply(c: Classified, delivery: Delivery, bare: string, session: SmSession | undefined): void | Promise<void> {
    switch (delivery.action) {
      case 'deliver':
        for (const target of delivery.to) this.sendTo(target, c.stanza);
        return;
      case 'error':
        return this.sendError(c.stanza, delivery.error);
      case 'ignore':
        return;
      case 'offline':
        return this.storeOffline(c, bare);
      case 'server':
        if (c.kind === 'iq') return this.serveIq(c, 'account', bare, session);
        return;
    }
  }

  /** XEP-0160: kept for later; past the quota the sender learns it was not (RFC 6121 §8.5.2.2.1). */
  private async storeOffline(c: Classified, bare: string): Promise<void> {
    const username = bare.slice(0, bare.indexOf('@'));
    if (!(await this.im.storeOffline(username, c.stanza))) this.sendError(c.stanza, stanzaError('service-unavailable', { text: 'offline storage is full' }));
  }

  private async serveIq(c: Classified, target: 'host' | 'account', account: string | undefined, session: SmSession | undefined): Promise<void> {
    const stanza = c.stanza;
    if (c.kind !== 'iq' || c.type === 'result' || c.type === 'error') return; // responses to the server are consumed
    const payload = iqPayload(stanza);
    if (!payload) return this.sendError(stanza, stanzaError('bad-request', { text: 'an iq get/set carries exactly one payload' }));
    const handler = this.iq.find(payload, target);
    if (!handler) return this.sendError(stanza, stanzaError('service-unavailable'));
    const from = parseJid(stanza.attrs.from ?? '');
    if (!from.ok) return;
    let outcome;
    try {
      outcome = await handler({ stanza, payload, type: c.type, from: from.jid, target, account, session });
    } catch (err) {
      console.error('switchboard: iq handler failed', err);
      outcome = stanzaError('internal-server-error');
    }
    if (isStanzaError(outcome)) return this.sendError(stanza, outcome);
    const reply = iqResult(stanza, outcome instanceof Element ? outcome : undefined);
    if (stanza.attrs.to === undefined) delete reply.attrs.from;
    this.deliverTo(reply);
  }

  /** Sends a stanza to one session's client. */
  sendTo(session: SmSession, stanza: Element): void {
    if (session.ended) return;
    channels.smDeliver.publish({ to: session.fullJid });
    this.router.route({ to: session.c2sAddress, from: this.address, c2s: session.c2sId, sm: session.smId, payload: stanza });
  }

  /** Routes a stanza the server generated (a reply, an error) to its `to`: a local session or a component. */
  private deliverTo(stanza: Element): void {
    const to = stanza.attrs.to;
    if (to === undefined) return;
    const target = this.sessions.full(to);
    if (target) return this.sendTo(target, stanza);
    const parsed = parseJid(to);
    if (parsed.ok && this.components.has(parsed.jid.domain)) this.router.route({ to: COMPONENT_ADDRESS_PREFIX + parsed.jid.domain, from: this.address, payload: stanza });
  }

  /** Sends an iq get from the server to a client (caps discovery). */
  private queryClient(to: string, payload: Element): Promise<Element | undefined> {
    const session = this.sessions.full(to);
    if (!session) return Promise.resolve(undefined);
    return this.queries.ask(to, payload, (iq) => this.sendTo(session, iq));
  }

  /** XEP-0114: a stanza from a component, already checked to come from its own domain. */
  private fromComponent(domain: string, stanza: Element): void {
    if (!this.components.has(domain)) return;
    const from = parseJid(stanza.attrs.from ?? '');
    if (!from.ok || from.jid.domain !== domain) return;
    const result = classify(stanza, this.domain);
    if (!result.ok) return this.sendError(stanza, stanzaError(result.problem));
    const c = result.value;
    // A component has no account: stanzas without `to` or to the host are the server's.
    if (c.address === 'self' || c.address === 'host') {
      if (c.kind === 'iq') void this.serveIq(c, 'host', undefined, undefined);
      return;
    }
    void this.route(c);
  }

  private sendError(stanza: Element, error: StanzaError): void {
    const reply = replyWithError(stanza, error);
    if (!reply) return;
    // RFC 6120 §8.3.1: the error comes from the entity that was addressed; if none, from the server.
    if (reply.attrs.from === undefined) reply.attrs.from = this.domain;
    this.deliverTo(reply);
  }
}

