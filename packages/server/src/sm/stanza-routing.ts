// The sm's dispatcher (RFC 6120 §10, RFC 6121 §8), jabberd2's dispatch in
// a few steps: a stanza from a session is classified once and runs the
// in-sess chain; one for a local user runs pkt-user with the §8.5 decision of
// deliver.ts; one for the server runs pkt-sm; errors and replies go back the
// same way. Features are modules on those chains (chains.ts, modules/); the
// core's own steps are the handlers below zero registered here. Sessions are
// created and ended elsewhere (session-lifecycle.ts); here they are only read.

import { Element } from '@switchboard/xml';
import { parseJid, type Jid } from '@switchboard/jid';
import { isStanzaError, iqPayload, iqResult, replyWithError, stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Control, FanOut } from '../router/envelope.ts';
import { componentDomainOf, serviceShardAddress, serviceShardOf } from '../router/service-shards.ts';
import type { ComponentAddress, Router, UndeliverableReason } from '../router/router.ts';
import { bareOf, type ShardMap } from '../router/shards.ts';
import { log } from '../log-line.ts';
import { FanOutBatch } from './fan-out.ts';
import type { Storage } from '../storage/ports.ts';
import { channels } from '../diagnostics.ts';
import { CORE_PRIORITY, type Chains, type InSess, type PktSm, type PktUser, type Verdict } from './chains.ts';
import { classify, type Classified } from './classify.ts';
import { toBareJid, toFullJid, toMissingAccount, type DeliveryPolicy } from './deliver.ts';
import type { IqHandlers } from './iq-handlers.ts';
import { ServerQueries } from './server-queries.ts';
import type { SmSession } from './session.ts';
import type { SessionTable } from './sessions.ts';
import { isSubscriptionType, type InstantMessaging } from './im.ts';

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
  chains: Chains;
  /** Component domains the configuration knows (connected or not). */
  knownComponents: ReadonlySet<string>;
  /** Service domains split into shards, with their counts (docs/protocol.md "Service shards"); absent: one. */
  serviceShards?: ReadonlyMap<string, number>;
  /** A stanza for a session that ended after it was chosen: RFC 6121 §8.5 decides again (returned.ts). */
  returned: (stanza: Element) => void;
  /** The cluster's shards; a user of another shard is that shard's sm's (docs/protocol.md "Shards"). */
  shards: ShardMap;
  /** XEP-0198: a session's resumption copy is full (resumption.ts); 'ended' when the session ended over it. */
  resumeFull: (session: SmSession, stanza: Element) => 'ended' | 'uncopied';
}

type Async<T> = T | Promise<T>;

export class StanzaRouting {
  private readonly router: Router;
  private readonly address: ComponentAddress;
  private readonly domain: string;
  private readonly policy: DeliveryPolicy;
  private readonly sessions: SessionTable;
  private readonly accounts: Storage['accounts'];
  private readonly iq: IqHandlers;
  private readonly im: InstantMessaging;
  private readonly chains: Chains;
  private readonly knownComponents: ReadonlySet<string>;
  private readonly serviceShards: ReadonlyMap<string, number>;
  private readonly returned: (stanza: Element) => void;
  private readonly shards: ShardMap;
  private readonly resumeFull: StanzaRoutingDeps['resumeFull'];
  private readonly queries: ServerQueries;
  /** Component and service shard addresses alive now (`component/<domain>`, `component/<domain>/shard-k`). */
  private readonly components = new Set<ComponentAddress>();
  /** Addresses that went down without a goodbye (a crash): a standby may be taking them over. */
  private readonly vanished = new Set<ComponentAddress>();
  /** The fan-out being expanded (fanOutFromComponent): sendTo adds its copies to it instead of sending each. */
  private batch: FanOutBatch | undefined;

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
    this.chains = deps.chains;
    this.knownComponents = deps.knownComponents;
    this.serviceShards = deps.serviceShards ?? new Map();
    this.returned = deps.returned;
    this.shards = deps.shards;
    this.resumeFull = deps.resumeFull;
    this.queries = new ServerQueries(deps.domain);
    // The core's own handlers, below zero: modules intercept before them.
    this.chains.hook('inSess', (p) => this.coreInSess(p), CORE_PRIORITY);
    this.chains.hook('pktUser', (p) => this.corePktUser(p), CORE_PRIORITY);
    this.chains.hook('pktSm', (p) => this.corePktSm(p), CORE_PRIORITY);
  }

  /** The component ns of the internal protocol: a component came online or went offline. */
  componentPresence(from: ComponentAddress, control: Extract<Control, { ns: 'component' }>, vanished = false): boolean {
    if (componentDomainOf(from) !== control.target) return false;
    if (control.action === 'online' && !this.components.has(from)) this.checkShardCount(from, control.target);
    if (control.action === 'online') {
      this.components.add(from);
      this.vanished.delete(from);
    } else {
      this.components.delete(from);
      if (vanished) this.vanished.add(from);
      else this.vanished.delete(from);
    }
    return true;
  }

  private vanishedAt(jid: Jid): boolean {
    if (this.vanished.size === 0) return false;
    const count = this.serviceShards.get(jid.domain) ?? 1;
    return this.vanished.has(serviceShardAddress(jid.domain, count === 1 ? 0 : serviceShardOf(jid.bare().toString(), count), count));
  }

  /** A service shard's address this sm would never route to: the processes disagree on `serviceShards` (every stanza for some rooms would be service-unavailable). */
  private checkShardCount(address: ComponentAddress, domain: string): void {
    const count = this.serviceShards.get(domain) ?? 1;
    for (let k = 0; k < count; k++) if (serviceShardAddress(domain, k, count) === address) return;
    log('warn', `sm ${this.address}: ${address} is alive but this sm splits ${domain} into ${count} shard(s): do all processes have the same serviceShards?`, undefined, 'sm.service.shards.mismatch');
  }

  /** The live address serving `jid` of a component domain: the domain's, or the shard of its bare JID's (shard 0 for the domain itself). */
  private componentFor(jid: Jid): ComponentAddress | undefined {
    const count = this.serviceShards.get(jid.domain) ?? 1;
    const address = serviceShardAddress(jid.domain, count === 1 ? 0 : serviceShardOf(jid.bare().toString(), count), count);
    return this.components.has(address) ? address : undefined;
  }

  /** A stanza a session sent; `text` is the stanza as text, when its c2s had it (Envelope.text). */
  fromSession(session: SmSession, stanza: Element, text?: string): void | Promise<void> {
    const result = classify(stanza, this.domain, text);
    if (!result.ok) return this.sendError(stanza, stanzaError(result.problem));
    return this.settle(this.chains.run('inSess', { session, c: result.value }), stanza);
  }

  /** A chain's verdict: an error goes back to the stanza's sender. */
  private settle(verdict: Async<Verdict>, stanza: Element): void | Promise<void> {
    // A handler that failed (the store refused or timed out) leaves no stanza unanswered: internal-server-error.
    if (verdict instanceof Promise) return verdict.then((v) => this.settle(v, stanza), () => this.sendError(stanza, stanzaError('internal-server-error')));
    if (typeof verdict === 'object') this.sendError(stanza, verdict);
  }

  /** in-sess, core: presence to the presence logic, iqs without `to` to the account, the rest routed. */
  private coreInSess({ session, c }: InSess): Async<Verdict> {
    if (c.kind === 'presence') return handled(this.presenceFromSession(session, c));
    if (c.address === 'self' && c.kind === 'iq') return this.chains.run('pktSm', { c, target: 'account', account: session.bareJid, session });
    return handled(this.route(c, session));
  }

  /** RFC 6121 §3 and §4: the presence a client sends. */
  private async presenceFromSession(session: SmSession, c: Extract<Classified, { kind: 'presence' }>): Promise<void> {
    if (c.address === 'self') {
      if (c.type !== 'available' && c.type !== 'unavailable') return;
      const initial = await this.im.ownPresence(session, c.stanza, c.type);
      // What the resource now is, for the modules (XEP-0163 caps, XEP-0160 stored messages).
      if (c.type === 'available') await this.chains.emit('sessAvailable', { session, presence: c.stanza, initial });
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
    if (c.type === 'probe') return this.im.answerProbe(session, to.bare().toString(), c.stanza.attrs.id);
    // Directed presence (§4.6), to users and to services (a MUC room hears of the session's end through it).
    if (c.address !== 'host') await this.im.directed(session, c.stanza, to.toString(), to.bare().toString());
    return this.route(c, session);
  }

  /** Routes a classified stanza to its destination (RFC 6120 §10). */
  route(c: Classified, session?: SmSession): void | Promise<void> {
    const to = c.to ?? (session ? session.jid.bare() : undefined);
    if (!to) return;
    switch (c.address) {
      case 'remote': {
        // XEP-0114: a connected component's domain (the live shard of a service's); anything else needs s2s,
        // which we lack (RFC 6120 §10.4.3). A service shard with no owner now (a failover) is service-unavailable.
        const component = this.componentFor(to);
        if (component !== undefined) {
          this.router.route({ to: component, from: this.address, payload: c.stanza });
          return;
        }
        if (!this.knownComponents.has(to.domain)) return this.sendError(c.stanza, stanzaError('remote-server-not-found'));
        // Gone without a goodbye (a crash; a standby takes over within the liveness bound): remote-server-timeout,
        // which a XEP-0410 self-ping reads as "no decision, try again" — service-unavailable would read "still joined".
        return this.sendError(c.stanza, stanzaError(this.vanishedAt(to) ? 'remote-server-timeout' : 'service-unavailable'));
      }
      case 'host':
        return this.settle(this.chains.run('pktSm', { c, target: 'host', account: undefined, session }), c.stanza);
      case 'self':
      case 'bare':
      case 'full': {
        const bare = to.bare().toString();
        // A user of another shard: that shard's sm applies RFC 6121 §8.5 for its user.
        const peer = this.peerOf(bare);
        if (peer !== undefined) return this.toPeer(peer, c.stanza, c.text);
        const sessions = this.sessions.bare(bare);
        if (sessions.length === 0) return this.routeToIdleAccount(c, to, bare, session);
        const delivery = c.address === 'full' ? toFullJid(c, withResource(sessions, to.resource!), sessions, this.policy) : toBareJid(c, sessions, this.policy);
        return this.settle(this.chains.run('pktUser', { c, to, bare, username: to.local!, sessions, from: session, delivery }), c.stanza);
      }
    }
  }

  /** A user with no session: whether the account exists decides (§8.5.1 vs §8.5.2.2). */
  private async routeToIdleAccount(c: Classified, to: Jid, bare: string, session: SmSession | undefined): Promise<void> {
    const exists = await this.accounts.accountExists(to.local!, this.domain);
    const delivery = !exists ? toMissingAccount(c) : c.address === 'full' ? toFullJid(c, undefined, [], this.policy) : toBareJid(c, [], this.policy);
    return this.settle(this.chains.run('pktUser', { c, to, bare, username: to.local!, sessions: [], from: session, delivery }), c.stanza);
  }

  /** pkt-user, core: carries out the RFC 6121 §8.5 delivery (deliver.ts). */
  private corePktUser({ c, bare, delivery, from }: PktUser): Async<Verdict> {
    switch (delivery.action) {
      case 'deliver':
        for (const target of delivery.to) this.sendTo(target, c.stanza, c.text);
        return 'handled';
      case 'error':
        return delivery.error;
      case 'ignore':
        return 'handled';
      case 'offline':
        // No module kept it (XEP-0160 is the offline module's): §8.5.2.2.1.
        return c.kind === 'message' ? stanzaError('service-unavailable') : 'handled';
      case 'server':
        return this.chains.run('pktSm', { c, target: 'account', account: bare, session: from });
    }
  }

  /** pkt-sm, core: iqs to the server's registry (iq-handlers.ts); messages and presence to the server itself are consumed. */
  private corePktSm({ c, target, account, session }: PktSm): Async<Verdict> {
    if (c.kind !== 'iq') return 'handled';
    // The answer to a query the server sent (caps discovery)?
    if (target === 'host' && this.queries.answer(c.stanza)) return 'handled';
    return handled(this.serveIq(c, target, account, session));
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
    // Chosen before an await (a chain handler, a store) and ended since: not dropped, decided again.
    if (session.ended) return this.returned(stanza);
    if (this.chains.has('outSess')) {
      const out = { session, stanza, text };
      const verdict = this.chains.runSync('outSess', out);
      if (verdict !== 'pass') {
        if (typeof verdict === 'object') this.sendError(stanza, verdict);
        return;
      }
      stanza = out.stanza;
      text = out.text;
    }
    if (channels.smDeliver.hasSubscribers) channels.smDeliver.publish({ to: session.fullJid });
    let seq: number | undefined;
    if (session.resume !== undefined) {
      // XEP-0198 through any c2s: the sm keeps what it sends until the client acknowledges it (resume-copy.ts).
      const kept = session.resume.keep(stanza, text);
      if (kept !== 'full') seq = kept;
      else if (this.resumeFull(session, stanza) === 'ended') return;
      // Its c2s is gone: the stanza waits in the copy for the client to resume through another.
      if (session.resume?.detached) return;
    }
    // A copy of the fan-out being expanded, unchanged by the chains: it goes in its c2s's envelope.
    if (this.batch !== undefined && this.batch.current === stanza) return this.batch.add(session, seq);
    session.c2s.send({ to: session.c2sAddress, from: this.address, c2s: session.c2sId, sm: session.smId, payload: stanza, text, seq });
  }

  /** Routes a stanza the server generated (a reply, an error) to its `to`: a local session or a component. */
  deliverTo(stanza: Element): void {
    const to = stanza.attrs.to;
    if (to === undefined) return;
    const target = this.sessions.full(to);
    if (target) return this.sendTo(target, stanza);
    const peer = this.shards.count > 1 && this.isLocalUser(to) ? this.peerOf(bareOf(to)) : undefined;
    if (peer !== undefined) return this.toPeer(peer, stanza);
    const parsed = parseJid(to);
    const component = parsed.ok ? this.componentFor(parsed.jid) : undefined;
    if (component !== undefined) this.router.route({ to: component, from: this.address, payload: stanza });
  }

  private isLocalUser(jid: string | undefined): boolean {
    const parsed = parseJid(jid ?? '');
    return parsed.ok && parsed.jid.local !== undefined && parsed.jid.domain === this.domain;
  }

  /** Sends an iq get from the server to a client (caps discovery). */
  queryClient(to: string, payload: Element): Promise<Element | undefined> {
    const session = this.sessions.full(to);
    if (!session) return Promise.resolve(undefined);
    return this.queries.ask(to, payload, (iq) => this.sendTo(session, iq));
  }

  /** XEP-0114: a stanza from a component (or a service shard) at `address`, checked to come from its own domain. */
  fromComponent(address: ComponentAddress, stanza: Element): void {
    const domain = componentDomainOf(address);
    if (domain === undefined || !this.components.has(address)) return;
    const from = parseJid(stanza.attrs.from ?? '');
    if (!from.ok || from.jid.domain !== domain) return;
    const result = classify(stanza, this.domain);
    if (!result.ok) return this.sendError(stanza, stanzaError(result.problem));
    const c = result.value;
    // A component has no account: stanzas without `to` or to the host are the server's.
    if (c.address === 'self' || c.address === 'host') {
      void this.settle(this.chains.run('pktSm', { c, target: 'host', account: undefined, session: undefined }), stanza);
      return;
    }
    void this.route(c);
  }

  // ---- shards (docs/protocol.md "Shards") -------------------------------------------------

  /** The address of the sm owning `bare` when it is another shard; undefined when it is this one. */
  peerOf(bare: string): ComponentAddress | undefined {
    if (this.shards.count === 1 || !bare.endsWith(`@${this.domain}`)) return undefined;
    const address = this.shards.addressOf(bare);
    return address === this.address ? undefined : address;
  }

  /** Hands a stanza for a user of another shard to that shard's sm, `from` as stamped. */
  toPeer(peer: ComponentAddress, stanza: Element, text?: string): void {
    this.router.route({ to: peer, from: this.address, payload: stanza, text });
  }

  /**
   * A stanza another shard's sm sent for a user of this one: that sm did the
   * sender's side (in-sess, the outbound subscription state); this is the
   * recipient's, as a server's inbound side is (RFC 6121 §3 inbound, §4.3
   * probes, §8.5 delivery). Whatever happens to it, it is delivered, stored
   * or answered to its sender on its shard (answered()): a step that fails
   * (the store refused or timed out) gets internal-server-error, as a
   * session's stanza does (settle), and RFC 6121 §3.1 wants a subscription
   * request that could not be stored answered, never lost. `forwarded`: a
   * shard already passed it on once (misrouted()).
   */
  fromPeer(stanza: Element, text?: string, forwarded = false): void | Promise<void> {
    return this.answered(stanza, () => this.recipientSide(stanza, text, forwarded));
  }

  private recipientSide(stanza: Element, text: string | undefined, forwarded: boolean): void | Promise<void> {
    const result = classify(stanza, this.domain, text);
    if (!result.ok) return this.sendError(stanza, stanzaError(result.problem));
    const c = result.value;
    // Shards send each other stanzas for users; anything else (the host, a component) is routed as any stanza.
    if (c.address !== 'bare' && c.address !== 'full') return c.to === undefined ? this.sendError(stanza, stanzaError('bad-request')) : this.route(c);
    const bare = c.to!.bare().toString();
    const owner = this.peerOf(bare);
    if (owner !== undefined) return this.misrouted(c, owner, forwarded);
    if (c.kind === 'presence') {
      const from = parseJid(stanza.attrs.from ?? '');
      if (!from.ok) return;
      if (isSubscriptionType(c.type)) return this.im.inboundSubscription(bare, from.jid.bare().toString(), c.type, stanza);
      if (c.type === 'probe') return this.im.answerProbeFor(from.jid.toString(), bare);
    }
    return this.route(c);
  }

  /**
   * A stanza for a user of another shard reached this one: the owner changed
   * while it was in flight (a takeover, a rebalance) or the processes
   * disagree on the shard count. It goes on once to the shard the user's
   * hash names, when the router knows a live owner there (its lease holder
   * announced it); with none, it is decided as for a shard with no owner
   * (peerUnreachable: stored or answered). One that was passed on already is
   * answered instead, so two processes that disagree on the count cannot
   * pass it back and forth.
   */
  private misrouted(c: Classified, owner: ComponentAddress, forwarded: boolean): void | Promise<void> {
    const bare = c.to!.bare().toString();
    if (forwarded) {
      log('warn', `sm ${this.address}: a stanza for ${bare} was passed on to this shard and is not its own either (do all processes have the same shards?)`, undefined, 'sm.shard.misrouted');
      return this.sendError(c.stanza, stanzaError('service-unavailable', { text: 'the shard of the recipient could not be found' }));
    }
    if (this.router.epochOf(owner) === undefined) return this.peerUnreachable(c.stanza, 'no-component');
    log('info', `sm ${this.address}: a stanza for ${bare} passed on to ${owner}, its owner`, undefined, 'sm.shard.forwarded');
    this.router.route({ to: owner, from: this.address, payload: c.stanza, text: c.text, forwarded: true });
  }

  /**
   * Runs a step for a stanza that came to the sm without a session's queue
   * (from another shard, returned by a c2s, undeliverable): a failure (the
   * store refused or timed out, or a bug) answers the stanza's sender with
   * internal-server-error instead of a log line or an unhandled rejection.
   * replyWithError never answers an error or a result, so errors cannot loop.
   */
  answered(stanza: Element, step: () => void | Promise<void>): void | Promise<void> {
    const failed = (err: unknown): void => {
      log('warn', `sm ${this.address}: a <${stanza.name}/> from ${stanza.attrs.from ?? '?'} to ${stanza.attrs.to ?? '?'} failed; answering its sender`, err, 'sm.stanza.failed');
      this.sendError(stanza, stanzaError('internal-server-error'));
    };
    let pending: void | Promise<void>;
    try {
      pending = step();
    } catch (err) {
      return failed(err);
    }
    if (pending instanceof Promise) return pending.catch(failed);
  }

  /**
   * A stanza for another shard that the router could not hand over (no sm owns
   * that shard right now: a failover; or no connection). Nothing is dropped
   * silently: a message is decided here as the owner would for a user with no
   * session (offline storage in the shared store, or an error), an iq is
   * answered, and so are subscription requests and probes (RFC 6121 §3.1: a
   * subscription request is never lost; the sender may send it again). Other
   * presence is state and is dropped (the next broadcast replaces it).
   * An `unconfirmed` one may have arrived, so it is answered with an error
   * rather than stored twice.
   */
  peerUnreachable(stanza: Element, reason: UndeliverableReason): void | Promise<void> {
    const result = classify(stanza, this.domain);
    if (!result.ok || result.value.type === 'error' || result.value.type === 'result') return;
    const c = result.value;
    if (c.kind === 'presence' && !isSubscriptionType(c.type) && c.type !== 'probe') return;
    if (c.kind === 'message' && reason !== 'unconfirmed' && c.to?.local !== undefined) {
      const to = c.to;
      return this.answered(stanza, () => this.routeToIdleAccount(c, to, to.bare().toString(), undefined));
    }
    return this.sendError(stanza, stanzaError(reason === 'unconfirmed' ? 'remote-server-timeout' : 'service-unavailable'));
  }

  /**
   * A component's stanza for many full JIDs (docs/protocol.md "Fan-out"):
   * each recipient goes through pkt-user as its own copy would (XEP-0191
   * blocking, the other modules, errors back to the component), and the
   * copies that are delivered unchanged go out in one envelope per c2s.
   */
  fanOutFromComponent(address: ComponentAddress, { stanza, targets }: FanOut): void {
    const domain = componentDomainOf(address);
    if (domain === undefined || !this.components.has(address)) return;
    const from = parseJid(stanza.attrs.from ?? '');
    if (!from.ok || from.jid.domain !== domain) return;
    const shape = classify(stanza, this.domain);
    if (!shape.ok) return this.sendError(stanza, stanzaError(shape.problem));
    const outer = this.batch;
    const batch = new FanOutBatch(stanza, this.address);
    this.batch = batch;
    try {
      for (const target of targets) {
        const copy = stanza.withAttrs({ to: target.jid });
        const session = this.sessions.full(target.jid);
        if (session === undefined) {
          // Not bound here (gone, or not a local session): routed on its own, as any stanza (an error back, a component).
          const result = classify(copy, this.domain);
          if (result.ok) void this.route(result.value);
          continue;
        }
        batch.current = copy;
        const c = { ...shape.value, stanza: copy, to: session.jid, address: 'full' } as Classified;
        const sessions = this.sessions.bare(session.bareJid);
        const delivery = toFullJid(c, session, sessions, this.policy);
        void this.settle(this.chains.run('pktUser', { c, to: session.jid, bare: session.bareJid, username: session.username, sessions, from: undefined, delivery }), copy);
      }
    } finally {
      this.batch = outer;
    }
    batch.flush();
  }

  sendError(stanza: Element, error: StanzaError): void {
    const reply = replyWithError(stanza, error);
    if (!reply) return;
    // RFC 6120 §8.3.1: the error comes from the entity that was addressed. A local user's stanza
    // without `to` addressed the user's own account (§10.3.3): answered without `from`, as its
    // result is, since strict clients match replies to the account; anyone else's, by the server.
    if (reply.attrs.from === undefined && !this.isLocalUser(stanza.attrs.from)) reply.attrs.from = this.domain;
    this.deliverTo(reply);
  }
}

/** The session bound to `resource`; the latest bound wins, as in the table by full JID. */
function withResource(sessions: readonly SmSession[], resource: string): SmSession | undefined {
  for (let i = sessions.length - 1; i >= 0; i--) if (sessions[i]!.resource === resource) return sessions[i];
  return undefined;
}

/** A core step done (now or once its promise settles). */
function handled(result: void | Promise<void>): Async<Verdict> {
  return result instanceof Promise ? result.then(() => 'handled' as const) : 'handled';
}
