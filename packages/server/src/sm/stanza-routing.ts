// The sm's stanza routing (RFC 6120 §10, RFC 6121 §8): stanzas from sessions
// and components go to local sessions, to connected XEP-0114 components, or
// to the server itself; errors and replies go back the same way. Sessions are
// created and ended elsewhere (session-lifecycle.ts); here they are only read.

import { Element } from '@switchboard/xml';
import { parseJid, type Jid } from '@switchboard/jid';
import { isStanzaError, iqPayload, iqResult, replyWithError, stanzaError, type StanzaError } from '@switchboard/protocol';
import { COMPONENT_ADDRESS_PREFIX, type Control } from '../router/envelope.ts';
import type { ComponentAddress, Router } from '../router/router.ts';
import type { Storage } from '../storage/ports.ts';
import { channels } from '../diagnostics.ts';
import { classify, type Classified } from './classify.ts';
import { toBareJid, toFullJid, toMissingAccount, type Delivery, type DeliveryPolicy } from './deliver.ts';
import type { IqHandlers } from './iq-handlers.ts';
import { ServerQueries } from './server-queries.ts';
import type { SmSession } from './session.ts';
import type { SessionTable } from './sessions.ts';
import { isSubscriptionType, type InstantMessaging } from './im.ts';
import { blockedError, type BlockLists } from './modules/blocking.ts';
import type { Pep } from './modules/pep.ts';

export interface StanzaRoutingDeps {
  router: Router;
  /** The sm's own address, the `from` of every envelope it sends. */
  address: ComponentAddress;
  domain: string;
  policy: DeliveryPolicy;
  sessions: SessionTable;
  accounts: Storage['accounts'];
  iq: IqHandlers;
  im: InstantMessaging;
  blocking: BlockLists;
  pep: Pep;
  /** Component domains the configuration knows (connected or not). */
  knownComponents: ReadonlySet<string>;
}

export class StanzaRouting {
  private readonly router: Router;
  private readonly address: ComponentAddress;
  private readonly domain: string;
  private readonly policy: DeliveryPolicy;
  private readonly sessions: SessionTable;
  private readonly accounts: Storage['accounts'];
  private readonly iq: IqHandlers;
  private readonly im: InstantMessaging;
  private readonly blocking: BlockLists;
  private readonly pep: Pep;
  private readonly knownComponents: ReadonlySet<string>;
  private readonly queries: ServerQueries;
  /** XEP-0114 component domains connected now. */
  private readonly components = new Set<string>();

  constructor(deps: StanzaRoutingDeps) {
    // Copied into fields, not kept as `deps`: the message path reads them once per stanza.
    this.router = deps.router;
    this.address = deps.address;
    this.domain = deps.domain;
    this.policy = deps.policy;
    this.sessions = deps.sessions;
    this.accounts = deps.accounts;
    this.iq = deps.iq;
    this.im = deps.im;
    this.blocking = deps.blocking;
    this.pep = deps.pep;
    this.knownComponents = deps.knownComponents;
    this.queries = new ServerQueries(deps.domain);
  }

  /** The component ns of the internal protocol: a component came online or went offline. */
  componentPresence(from: string, control: Extract<Control, { ns: 'component' }>): boolean {
    if (from !== COMPONENT_ADDRESS_PREFIX + control.target) return false;
    if (control.action === 'online') this.components.add(control.target);
    else this.components.delete(control.target);
    return true;
  }

  /** A stanza a session sent; `text` is the stanza as text, when its c2s had it (Envelope.text). */
  fromSession(session: SmSession, stanza: Element, text?: string): void | Promise<void> {
    const result = classify(stanza, this.domain, text);
    if (!result.ok) return this.sendError(stanza, stanzaError(result.problem));
    const c = result.value;
    // XEP-0191 §3.4: nothing goes to someone the user blocked (the sender's list is held while it has a session).
    if (c.to && c.address !== 'host' && c.address !== 'self' && this.blocking.anyHeldBlocks && this.blocking.blockedSync(session.username, c.to)) {
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
      case 'full': {
        const bare = to.bare().toString();
        const sessions = this.sessions.bare(bare);
        // An online recipient's block list is held in memory; while no held list blocks anyone, there is nothing to check.
        if (c.address !== 'self' && (sessions.length === 0 || this.blocking.anyHeldBlocks)) {
          const blocked = this.senderBlocked(to.local!, c.stanza, session);
          if (blocked === true) return this.refuseBlocked(c);
          if (blocked instanceof Promise) return blocked.then((b) => (b ? this.refuseBlocked(c) : this.routeLocal(c, to, bare, this.sessions.bare(bare), session)));
        }
        return this.routeLocal(c, to, bare, sessions, session);
      }
    }
  }

  /** XEP-0191 §3.3: has the recipient blocked the sender? Synchronous while the recipient is online. */
  private senderBlocked(recipient: string, stanza: Element, session: SmSession | undefined): boolean | Promise<boolean> {
    // A session's stanzas carry its full JID as `from` (stamped by the c2s): no need to parse it again.
    let from = session?.jid;
    if (from === undefined) {
      const parsed = parseJid(stanza.attrs.from ?? '');
      if (!parsed.ok) return false;
      from = parsed.jid;
    }
    return this.blocking.blockedSync(recipient, from) ?? this.blocking.blocked(recipient, from);
  }

  /** A blocked sender learns nothing: presence is dropped, the rest gets service-unavailable. */
  private refuseBlocked(c: Classified): void {
    if (c.kind !== 'presence') this.sendError(c.stanza, stanzaError('service-unavailable'));
  }

  /** To a local user, whose `sessions` were just looked up by `bare`. */
  private routeLocal(c: Classified, to: Jid, bare: string, sessions: readonly SmSession[], session: SmSession | undefined): void | Promise<void> {
    switch (c.address) {
      case 'self':
      case 'bare':
        if (sessions.length > 0) return this.apply(c, toBareJid(c, sessions, this.policy), bare, session);
        return this.routeToIdleAccount(c, to.local!, bare, session);
      case 'full':
        if (sessions.length === 0) return this.routeToIdleAccount(c, to.local!, bare, session, true);
        // The resource among the user's few sessions: one table lookup per stanza, not two.
        return this.apply(c, toFullJid(c, withResource(sessions, to.resource!), sessions, this.policy), bare, session);
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
        for (const target of delivery.to) this.sendTo(target, c.stanza, c.text);
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

  /** Sends a stanza to one session's client, with its text when it is the stanza as a client sent it (Envelope.text). */
  sendTo(session: SmSession, stanza: Element, text?: string): void {
    if (session.ended) return;
    if (channels.smDeliver.hasSubscribers) channels.smDeliver.publish({ to: session.fullJid });
    session.c2s.send({ to: session.c2sAddress, from: this.address, c2s: session.c2sId, sm: session.smId, payload: stanza, text });
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
  queryClient(to: string, payload: Element): Promise<Element | undefined> {
    const session = this.sessions.full(to);
    if (!session) return Promise.resolve(undefined);
    return this.queries.ask(to, payload, (iq) => this.sendTo(session, iq));
  }

  /** XEP-0114: a stanza from a component, already checked to come from its own domain. */
  fromComponent(domain: string, stanza: Element): void {
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

/** The session bound to `resource`; the latest bound wins, as in the table by full JID. */
function withResource(sessions: readonly SmSession[], resource: string): SmSession | undefined {
  for (let i = sessions.length - 1; i >= 0; i--) if (sessions[i]!.resource === resource) return sessions[i];
  return undefined;
}
