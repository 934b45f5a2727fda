// The session manager component: owns sessions, routes stanzas among them by
// RFC 6121 §8, and answers the internal protocol's session and user actions.
// It never touches a socket: to end a session it tells the c2s why.
//
// This file wires the parts and reads each envelope once, handing it to the
// one that owns it: session-lifecycle.ts for sessions and users,
// stanza-routing.ts for stanzas and components.

import { answerShardRequest } from '../admin/shard-answers.ts';
import type { Element } from '@switchboard/xml';
import {
  COMPONENT_ADDRESS_PREFIX,
  failedReply,
  readControl,
  readAdminRoutePayload,
  readFanOut,
  sessionControl,
  type Control,
  type EndReason,
  type Envelope,
} from '../router/envelope.ts';
import type { ComponentAddress, LivenessEvent, Router, UndeliverableReason } from '../router/router.ts';
import { rerouteReturned } from './returned.ts';
import { isSmAddress, ShardMap } from '../router/shards.ts';
import { componentDomainOf } from '../router/service-shards.ts';
import { stanzaError } from '@switchboard/protocol';
import { performance } from 'node:perf_hooks';
import { channels, type SmStanzaTimedMessage } from '../diagnostics.ts';
import { moduleLogger } from '../log.ts';
import { log } from '../log-line.ts';
import type { Storage } from '../storage/ports.ts';
import type { ExternalService } from '../config.ts';
import type { Classified } from './classify.ts';
import type { DeliveryPolicy } from './deliver.ts';
import { IqHandlers } from './iq-handlers.ts';
import type { SmSession } from './session.ts';
import { SessionTable } from './sessions.ts';
import { SessionLifecycle } from './session-lifecycle.ts';
import { StanzaRouting } from './stanza-routing.ts';
import { Rosters } from './roster.ts';
import { InstantMessaging } from './im.ts';
import { Chains } from './chains.ts';
import { ModuleHost } from './module.ts';
import { installModules, type InstalledModules } from './modules/install.ts';
import type { MamOptions } from './modules/mam/index.ts';
import { DEFAULT_QUOTAS, type UserQuotas } from './quotas.ts';
import { AdminOperations } from '../admin/operations.ts';
import { SmResumption } from './resumption.ts';
import type { CopyLimits } from './resume-copy.ts';

export interface SmOptions {
  domain: string;
  /** The router address; by default the shard's (`sm` when unsharded). */
  address?: ComponentAddress;
  /** The cluster's shards and the one this sm serves (docs/protocol.md "Shards"); default one shard, this. */
  shard?: { map: ShardMap; index: number };
  delivery?: Partial<DeliveryPolicy>;
  /** XEP-0160: most messages stored for one offline user (default 1000). */
  offlineQuota?: number;
  /** XEP-0077 password change and account removal (default off). */
  registration?: boolean;
  scramIterations?: number;
  /** XEP-0114 component domains from the configuration. */
  componentDomains?: string[];
  /** Service domains split into shards, with their counts (docs/protocol.md "Service shards"). */
  serviceShards?: ReadonlyMap<string, number>;
  /** XEP-0215 external services (STUN/TURN) from the configuration. */
  externalServices?: readonly ExternalService[];
  /** XEP-0313 message archive (sm/modules/mam/); absent or false: none. */
  archive?: MamOptions | false;
  /** Per-user quotas (quotas.ts); `offlineQuota`, when given, is the message count. */
  quotas?: Partial<UserQuotas>;
  /** Bare JIDs allowed the XEP-0133 commands (sm/modules/adhoc/). */
  admins?: readonly string[];
  /** The process's administration over every shard it serves (admin/shards.ts); this sm's own when absent. */
  admin?: () => AdminOperations;
  /** XEP-0198: most stanzas and bytes kept for one session's resumption through any c2s (limits.smQueue*). */
  resumeCopy?: CopyLimits;
}

export class SessionManager {
  readonly sessions = new SessionTable();
  readonly iq = new IqHandlers();
  readonly domain: string;
  readonly address: ComponentAddress;
  readonly rosters: Rosters;
  readonly im: InstantMessaging;
  /** The hook chains the modules register on (chains.ts). */
  readonly chains = new Chains();
  readonly modules: ModuleHost;
  /** User and session administration of this sm's sessions alone (admin/operations.ts); admin/shards.ts spans a process's shards. */
  readonly admin: AdminOperations;
  /** Stanzas from sessions so far, for timing one in 16 (metrics). */
  private stanzasSeen = 0;
  private readonly routing: StanzaRouting;
  private readonly lifecycle: SessionLifecycle;
  private readonly resumption: SmResumption;

  constructor(
    private readonly router: Router,
    storage: Storage,
    options: SmOptions,
  ) {
    this.domain = options.domain;
    const quotas: UserQuotas = { ...DEFAULT_QUOTAS, ...options.quotas, ...(options.offlineQuota !== undefined ? { offlineMessages: options.offlineQuota } : {}) };
    const shards = options.shard?.map ?? new ShardMap(1);
    this.address = options.address ?? shards.address(options.shard?.index ?? 0);
    const knownComponents = new Set(options.componentDomains ?? []);
    this.rosters = new Rosters(storage.rosters, this.domain);
    // IM and the modules need routing, and routing needs the chains: the
    // arrows below reach `routing` and `lifecycle` only once they exist.
    const sendTo = (session: SmSession, stanza: Element): void => this.routing.sendTo(session, stanza);
    this.im = new InstantMessaging(
      {
        sessions: this.sessions,
        rosters: this.rosters,
        accountExists: (username) => storage.accounts.accountExists(username, this.domain),
        sendTo,
        routeOut: (stanza) => this.routing.deliverTo(stanza),
        presenceAllowed: (username, contact) => !this.chains.has('presenceOut') || this.chains.runSync('presenceOut', { username, contact }) === 'pass',
        peerOf: (bare) => this.routing.peerOf(bare),
        toPeer: (peer, stanza) => this.routing.toPeer(peer, stanza),
      },
      { domain: this.domain, maxRosterItems: quotas.rosterItems },
    );
    const shared = { router, address: this.address, domain: this.domain, sessions: this.sessions, accounts: storage.accounts, im: this.im, chains: this.chains };
    this.routing = new StanzaRouting({ ...shared, policy: { chatToAllResources: false, ...options.delivery }, iq: this.iq, knownComponents, serviceShards: options.serviceShards, returned: (stanza) => this.rerouteLogged(stanza), shards, resumeFull: (session, stanza) => this.resumption.full(session, stanza) });
    this.lifecycle = new SessionLifecycle({ ...shared, owns: (bare) => this.routing.peerOf(bare) === undefined, maxResources: quotas.resources, rosters: this.rosters, reroute: (stanza) => this.rerouteLogged(stanza) });
    this.resumption = new SmResumption({
      router,
      address: this.address,
      sessions: this.sessions,
      limits: options.resumeCopy ?? { stanzas: 1000, bytes: 4 * 1024 * 1024 },
      sessionOf: (envelope) => this.lifecycle.sessionOf(envelope),
      invalidate: (session) => this.lifecycle.invalidate(session, 'disconnected'),
      reroute: (stanza) => this.rerouteLogged(stanza),
    });
    this.admin = new AdminOperations({
      domain: this.domain,
      accounts: storage.accounts,
      userData: storage.userData,
      sessions: this.sessions,
      scramIterations: options.scramIterations ?? 4096,
      serves: (bare) => this.owns(bare),
      userCreated: (bare) => this.lifecycle.userCreated(bare),
      removeUser: (bare) => this.lifecycle.removeUser(bare),
      endSessions: (jid, reason) => this.lifecycle.endSessionsOf(jid, reason),
      sendTo,
    });
    const admin = options.admin ?? (() => this.admin);
    this.modules = new ModuleHost(
      {
        domain: this.domain,
        storage,
        sessions: this.sessions,
        rosters: this.rosters,
        im: this.im,
        sendTo,
        sendError: (stanza, error) => this.routing.sendError(stanza, error),
        queryClient: (to, payload) => this.routing.queryClient(to, payload),
        peerOf: (bare) => this.routing.peerOf(bare),
        toPeer: (peer, stanza) => this.routing.toPeer(peer, stanza),
        removeUser: (bare) => void this.lifecycle.removeUser(bare),
        admin,
      },
      this.chains,
      this.iq,
    );
    this.installed = installModules(this.modules, {
      quotas,
      registration: options.registration ?? false,
      scramIterations: options.scramIterations ?? 4096,
      externalServices: options.externalServices ?? [],
      componentDomains: () => [...knownComponents].sort(),
      archive: options.archive ?? false,
      admins: options.admins ?? [],
    });
  }

  private unwatch: (() => void) | undefined;
  private readonly installed: InstalledModules;

  async start(): Promise<void> {
    await this.router.attach(this.address, (envelope) => this.receive(envelope), { undeliverable: (envelope, reason) => this.undeliverable(envelope, reason) });
    this.unwatch = this.router.watch((event) => this.liveness(event));
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    for (const session of [...this.sessions.all()]) this.lifecycle.endSession(session, 'shutdown');
    await this.router.detach(this.address);
    await this.installed.stop();
  }

  /**
   * A step started from a synchronous path. The steps answer their own failures (StanzaRouting.answered);
   * this is the last guard, so a bug there is a log line, never an unhandled rejection.
   */
  private logged(pending: void | Promise<void>): void {
    if (pending) pending.catch((err: unknown) => moduleLogger('sm').error({ event: 'sm.step.failed', err }, 'a stanza could not be handled'));
  }

  /**
   * reroute(), settled when the stanza is delivered, stored or answered, so that a batch handed back can go in
   * order (offline storage keeps arrival order only if each store is done before the next starts). A failure (the
   * store is away) answers the stanza's sender (internal-server-error, StanzaRouting.answered); never an
   * unhandled rejection.
   */
  private rerouteLogged(stanza: Element): Promise<void> {
    const failed = (err: unknown): void => moduleLogger('sm').error({ event: 'reroute.failed', err }, 'a returned stanza could not be routed again');
    return Promise.resolve(this.routing.answered(stanza, () => this.reroute(stanza))).catch(failed);
  }

  /** A stanza no client took (returned.ts): delivered to another resource, stored, or answered. */
  private reroute(stanza: Element): void | Promise<void> {
    return rerouteReturned(stanza, { domain: this.domain, sessions: this.sessions, route: (c) => this.routing.route(c) });
  }

  /** A c2s went away (goodbye, silence past the bound, restart): every session it held ends through the one destroy path. */
  private liveness(event: LivenessEvent): void {
    // A service or external component (`component/<domain>`, or one shard of a service's) is routed to while it is
    // alive: its liveness is its presence.
    const target = componentDomainOf(event.address);
    if (target !== undefined) {
      const vanished = event.state === 'down' && event.why === 'timeout';
      this.routing.componentPresence(event.address, { ns: 'component', action: event.state === 'up' ? 'online' : 'offline', target, failed: false }, vanished);
      return;
    }
    if (event.state !== 'down' || !event.address.startsWith('c2s/')) return;
    const lost = [...this.sessions.all()].filter((s) => s.c2sAddress === event.address);
    if (lost.length > 0) log('warn', `sm: ${event.address} is gone (${event.why}); ending its ${lost.length} sessions (XEP-0198 resumable ones hibernate)`);
    // XEP-0198: a session its client may resume through another c2s waits for it (resumption.ts).
    for (const session of lost) if (!this.resumption.detach(session)) this.lifecycle.invalidate(session, 'disconnected');
  }

  /** An envelope of ours the router could not hand to a c2s: its session is over there, and a stanza in it is not lost. */
  private undeliverable(envelope: Envelope, reason: UndeliverableReason): void {
    if (isSmAddress(envelope.to)) {
      // Another shard's sm is not there (a failover) or unreachable: decided here, never dropped.
      if (!readControl(envelope.payload)) this.logged(this.routing.peerUnreachable(envelope.payload, reason));
      return;
    }
    const component = componentDomainOf(envelope.to);
    if (component !== undefined) {
      if (readControl(envelope.payload)) return;
      // It may have arrived (NATS failed after the publish): answered, not sent twice (as for another shard's sm).
      if (reason === 'unconfirmed') return this.routing.sendError(envelope.payload, stanzaError('remote-server-timeout'));
      // The service (or this shard of it) is not there: offline until it announces itself again (a standby taking
      // the shard over), and the stanza is answered (remote-server-timeout: it vanished) by routing it once more.
      this.routing.componentPresence(envelope.to, { ns: 'component', action: 'offline', target: component, failed: false }, true);
      void this.rerouteLogged(envelope.payload);
      return;
    }
    const fanOut = envelope.payload.name === 'fanout' ? readFanOut(envelope.payload) : undefined;
    if (fanOut) {
      // Each recipient of a fan-out as if it had been sent its own copy.
      for (const target of fanOut.targets) {
        this.undeliverable({ to: envelope.to, from: envelope.from, c2s: target.c2s, sm: target.sm, payload: fanOut.stanza.withAttrs({ to: target.jid }), seq: target.seq }, reason);
      }
      return;
    }
    const session = envelope.sm !== undefined ? this.sessions.get(envelope.sm) : undefined;
    if (session && session.c2sAddress === envelope.to && reason !== 'unconfirmed') {
      // XEP-0198: a stanza in the session's copy waits there for its client to resume through another c2s.
      if (this.resumption.detach(session) && envelope.seq !== undefined) return;
      this.lifecycle.invalidate(session, 'disconnected');
    }
    if (readControl(envelope.payload)) return;
    if (reason === 'unconfirmed' && session && !session.ended) {
      // It may have arrived: the c2s still answers for the session, and XEP-0198 covers its client.
      return;
    }
    void this.rerouteLogged(envelope.payload);
  }

  /** Routes a classified stanza to its destination (RFC 6120 §10). */
  route(c: Classified, session?: SmSession): void | Promise<void> {
    return this.routing.route(c, session);
  }

  /** Sends a stanza to one session's client. */
  sendTo(session: SmSession, stanza: Element): void {
    this.routing.sendTo(session, stanza);
  }

  /** This sm's shard holds the user (always, unsharded). */
  owns(bare: string): boolean {
    return this.routing.peerOf(bare) === undefined;
  }

  /** The user's account was stored: the modules set it up (`sm:sessions create`'s path). */
  userCreated(bare: string): Promise<string | undefined> {
    return this.lifecycle.userCreated(bare);
  }

  /** `sm:sessions delete`'s path: the user's sessions end (account-removed), then the account and its data go. */
  removeUser(bare: string): Promise<string | undefined> {
    return this.lifecycle.removeUser(bare);
  }

  /** Ends the sessions of a bare JID, or of one full JID, with a reason; the account stays. */
  endSessionsOf(jid: string, reason: EndReason): string[] {
    return this.lifecycle.endSessionsOf(jid, reason);
  }

  /** The sm ends a session on its own: destroy it and tell its c2s why, so the c2s closes the stream. */
  endSession(session: SmSession, reason: EndReason): void {
    this.lifecycle.endSession(session, reason);
  }

  private receive(envelope: Envelope): void {
    const control = readControl(envelope.payload);
    // At once, not after a turn: a resumption's counts depend on the order of these and the session's stanzas.
    if (control?.ns === 'resume') return this.resumption.perform(envelope, control);
    if (control) {
      void this.onControl(envelope, control);
      return;
    }
    const adminRequest = readAdminRoutePayload(envelope.payload);
    if (adminRequest) {
      // Another process's admin socket asks about this shard's users and sessions (admin/cluster.ts).
      void answerShardRequest(envelope, adminRequest, this.admin, this.address, (e) => this.router.route(e));
      return;
    }
    if (isSmAddress(envelope.from)) {
      this.logged(this.routing.fromPeer(envelope.payload, envelope.text, envelope.forwarded === true));
      return;
    }
    if (envelope.from.startsWith(COMPONENT_ADDRESS_PREFIX)) {
      const fanOut = envelope.payload.name === 'fanout' ? readFanOut(envelope.payload) : undefined;
      if (fanOut) this.routing.fanOutFromComponent(envelope.from, fanOut);
      else this.routing.fromComponent(envelope.from, envelope.payload);
      return;
    }
    const session = this.lifecycle.sessionOf(envelope);
    if (!session) {
      // A stanza for a session we do not have (we restarted, or ended it just now): that c2s's stream is a
      // zombie. The stanza goes back whole, for the client to get an error, and the stream is reset.
      if (envelope.c2s !== undefined) this.router.route({ to: envelope.from, from: this.address, c2s: envelope.c2s, payload: sessionControl('ended', envelope.payload.attrs.from ?? '', { reason: 'reset', returned: [envelope.payload] }) });
      return;
    }
    if (session.resume !== undefined) {
      if (session.resume.detached) {
        // Its c2s was taken for dead and is not: that stream is reset and its client resumes, through the copy.
        this.router.route({ to: envelope.from, from: this.address, c2s: envelope.c2s, sm: session.smId, payload: sessionControl('ended', session.fullJid, { reason: 'reset', returned: [envelope.payload] }) });
        return;
      }
      session.resume.received++;
    }
    // Metrics on, one stanza in 16 is timed from here to its chain's end, queue wait included.
    if (!channels.smStanzaTimed.hasSubscribers || (++this.stanzasSeen & 15) !== 0) {
      session.queue.run(() => this.routing.fromSession(session, envelope.payload, envelope.text));
      return;
    }
    const start = performance.now();
    const kind = envelope.payload.name;
    const done = (): void => channels.smStanzaTimed.publish({ kind, seconds: (performance.now() - start) / 1000 } satisfies SmStanzaTimedMessage);
    session.queue.run(() => {
      const result = this.routing.fromSession(session, envelope.payload, envelope.text);
      if (result instanceof Promise) return result.finally(done);
      done();
    });
  }

  private async onControl(envelope: Envelope, control: Exclude<Control, { ns: 'resume' }>): Promise<void> {
    if (control.failed) return; // failures are never answered (no bounce)
    let ok: boolean;
    try {
      ok = await (control.ns === 'component' ? this.routing.componentPresence(envelope.from, control) : this.lifecycle.perform(envelope, control));
    } catch (err) {
      // The store failed or timed out (a bind, a user action): the sender learns it failed; the sm serves on.
      log('warn', `sm: ${control.ns} ${control.action} for ${control.target} failed`, err, 'sm.control.failed');
      ok = false;
    }
    if (!ok) {
      const reply = failedReply(envelope, control);
      if (reply) this.router.route(reply);
    }
  }
}
