// The composition root. A process runs the sm, the c2s, or both, wired to a
// router in this visible order: storage, TLS, router, sm, c2s, listeners.
// `startServer` is the one-machine default (everything, in-process router);
// `startSmNode` and `startC2sNode` are the two halves of a NATS cluster.

import { resolve } from 'node:path';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { Server as HttpsServer } from 'node:https';
import type { StreamPolicy } from './c2s/stream-contract.ts';
import { applyLiveLimits } from './ops/reload.ts';
import { adminOverShards } from './admin/shards.ts';
import type { AdminOperations } from './admin/operations.ts';
import { hostname } from 'node:os';
import { parseJid } from '@switchboard/jid';
import { DEFAULT_CONFIG, mergeConfig, mucServices, type ConfigOverrides, type ServerConfig } from './config.ts';
import { openStorage } from './storage/open.ts';
import { timedStorage } from './storage/timed.ts';
import type { Storage } from './storage/ports.ts';
import { deriveScramCredentials } from './auth/scram-credentials.ts';
import { loadTlsMaterial } from './tls/certificate.ts';
import { InProcessRouter } from './router/in-process.ts';
import { NatsRouter } from './router/nats.ts';
import { ShardClaims } from './router/shard-claims.ts';
import { ShardMap } from './router/shards.ts';
import type { Router } from './router/router.ts';
import { SessionManager } from './sm/sm.ts';
import { C2s } from './c2s/c2s.ts';
import { ConnectionGate } from './c2s/connection-gate.ts';
import { listenDirectTls, listenTcp } from './c2s/listen-tcp.ts';
import { listenWebSocket } from './c2s/listen-ws.ts';
import { capsElement, capsVerification } from './caps.ts';
import { Components } from './component/components.ts';
import { AuthThrottle } from './auth/throttle.ts';

import { serverSecret } from './auth/server-secret.ts';
import { FastTokens, loadFastKey } from './auth/fast-tokens.ts';
import { RegistrationLimiter } from './auth/registration-limit.ts';
import { SharedAuthThrottle, SharedRegistrationLimit, type LoginThrottle, type RegistrationLimit } from './auth/shared-throttle.ts';
import { Invites } from './auth/invites.ts';
import { CaptchaChallenges } from './auth/captcha.ts';
import type { Element } from '@switchboard/xml';
import { installLogEvents, logAuthFailure } from './log-events.ts';
import { ServiceHost } from './service/service-host.ts';
import { MucService } from './muc/muc-service.ts';
import { moduleLogger } from './log.ts';

export interface SmNode {
  /** The sm of the first shard this process serves (the only one, unsharded). */
  readonly sm: SessionManager;
  /** The sm of each shard this process serves now, by shard index. */
  readonly sms: ReadonlyMap<number, SessionManager>;
  /** User and session administration over those shards (the admin socket, XEP-0133). */
  readonly admin: AdminOperations;
  stop(): Promise<void>;
}

export interface C2sNode {
  readonly c2s: C2s;
  /** Where XEP-0114 components connect (when any are configured). */
  readonly componentPort: number | undefined;
  readonly c2sPort: number;
  readonly c2sDirectTlsPort: number | undefined;
  readonly wsPort: number | undefined;
  /** Creates an account and tells the sm (`sm:sessions create`). */
  addUser(username: string, password: string): Promise<void>;
  /** Ends the user's sessions and removes the account and its data (`sm:sessions delete`). */
  removeUser(username: string): Promise<boolean>;
  /** XEP-0445: a single-use invitation token for in-band registration. */
  createInvite(ttlSeconds?: number): Promise<string>;
  /** Re-reads the certificate and key (of `next`) for new connections; existing ones keep theirs. Throws TlsConfigError. */
  reloadTls(next: ServerConfig): Promise<string[]>;
  /** The limits that new connections take from the configuration (ops/reload.ts LIVE_LIMITS). */
  applyLimits(next: ServerConfig): void;
  stop(): Promise<void>;
}

export interface RunningServer extends SmNode, C2sNode {
  readonly services: ServicesNode;
  readonly config: ServerConfig;
  readonly domain: string;
  readonly storage: Storage;
  readonly router: Router;
}

export async function openRouter(config: ServerConfig): Promise<Router> {
  if (config.router.kind === 'nats') {
    return NatsRouter.connect(config.router.url, {
      prefix: config.router.prefix,
      heartbeatMs: config.timeouts.heartbeatSeconds * 1000,
      deadAfterMs: config.timeouts.deadAfterSeconds * 1000,
    });
  }
  return new InProcessRouter();
}

export async function startSmNode(config: ServerConfig, router: Router, storage: Storage): Promise<SmNode> {
  installLogEvents();
  // Services are routed as components: the sm knows their domains (so a stanza for one that is down gets an error), nothing more.
  const componentDomains = [...config.components.map((c) => c.domain), ...mucServices(config).map((m) => m.domain)];
  const serviceShards = new Map(mucServices(config).map((m) => [m.domain, config.serviceShards]));
  const shards = new ShardMap(config.shards);
  const newSm = (index: number): SessionManager =>
    new SessionManager(router, storage, { domain: config.domain, shard: { map: shards, index }, delivery: { chatToAllResources: config.chatToAllResources }, quotas: { ...config.quotas, ...(config.offlineQuota !== DEFAULT_CONFIG.offlineQuota ? { offlineMessages: config.offlineQuota } : {}) }, registration: config.registration, scramIterations: config.scramIterations, componentDomains, serviceShards, externalServices: config.externalServices, admins: config.admins, admin: () => admin, resumeCopy: { stanzas: config.limits.smQueueStanzas, bytes: config.limits.smQueueBytes },
      archive: config.archive && { default: config.archiveDefault, expirySeconds: config.archiveExpirySeconds, maxPerUser: config.archiveMaxPerUser, fullText: config.archiveFullText, writer: { delayMs: config.archiveWriteDelayMs } } });
  const sms = new Map<number, SessionManager>();
  const admin = adminOverShards(config, storage, sms);
  if (!(router instanceof NatsRouter)) {
    // One process serves every shard (shards > 1 in one process is for tests of the cross-shard paths).
    for (let k = 0; k < shards.count; k++) {
      const sm = newSm(k);
      await sm.start();
      sms.set(k, sm);
    }
    return {
      sm: sms.get(0)!,
      sms,
      admin,
      async stop() {
        for (const sm of sms.values()) await sm.stop();
      },
    };
  }
  // Across processes each shard's address is owned through a lease: a process takes its share of the shards, others
  // stand by until an owner is gone, and two can never process the same shard's stanzas (router/shard-claims.ts).
  let stopping = false;
  const claims = new ShardClaims(await router.leaseBucket(config.timeouts.deadAfterSeconds * 1000), {
    group: 'sm',
    count: shards.count,
    ttlMs: config.timeouts.deadAfterSeconds * 1000,
    holder: `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    keyOf: (k) => shards.address(k),
    async acquired(k) {
      const sm = newSm(k);
      await sm.start();
      sms.set(k, sm);
      moduleLogger('sm').info({ event: 'shard.serving', shard: k, address: sm.address }, `sm serving ${sm.address} (shard ${k} of ${shards.count})`);
    },
    async releasing(k) {
      const sm = sms.get(k);
      sms.delete(k);
      await sm?.stop();
    },
    lost() {
      // Fenced: stop serving at once (the c2s close the streams, their clients reconnect to the new owner), and
      // exit for the supervisor to start this process again, as a standby (EX_TEMPFAIL).
      if (stopping) return;
      void Promise.all([...sms.values()].map((sm) => sm.stop())).finally(() => process.exit(75));
    },
  });
  await claims.start();
  await claims.untilServing();
  return {
    get sm() {
      return sms.values().next().value!;
    },
    sms,
    admin,
    async stop() {
      stopping = true;
      await claims.stop();
    },
  };
}

export interface ServicesNode {
  readonly services: ServiceHost;
  /** The group chat services by domain. */
  readonly muc: ReadonlyMap<string, MucService>;
  stop(): Promise<void>;
}

/**
 * The services of the configuration (group chat), each a component on the
 * router. Across processes each service shard is owned through a lease, so
 * any number of processes may host a service: the others stand by.
 */
export async function startServicesNode(config: ServerConfig, router: Router, storage: Storage): Promise<ServicesNode> {
  const ttlMs = config.timeouts.deadAfterSeconds * 1000;
  const leases = router instanceof NatsRouter ? { bucket: await router.leaseBucket(ttlMs), ttlMs, holder: `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}` } : undefined;
  const host = new ServiceHost(router, { smShards: new ShardMap(config.shards), serviceShards: config.serviceShards, ...(leases ? { leases } : {}) });
  const muc = new Map<string, MucService>();
  for (const options of mucServices(config)) {
    const service = new MucService(options, storage.muc, storage.archive);
    await host.add(service);
    muc.set(service.domain, service);
  }
  return { services: host, muc, stop: () => host.stop() };
}

/** XEP-0115: the server's caps element, from the same disco#info the sm answers with. */
function serverCaps(sm: SessionManager): Element {
  return capsElement(capsVerification([{ category: 'server', type: 'im', name: 'Switchboard' }], sm.iq.features('host')));
}

/**
 * The login throttle and registration limit of a c2s: its own, and in a cluster (NATS) also counted in
 * tables every c2s shares (auth/shared-throttle.ts), so alternating c2s processes gains an attacker nothing.
 * Entries are forgotten as the local tables forget them; each bucket is capped at about 256 bytes per
 * tracked key. A bucket that cannot be opened leaves the process with its own tables, and says so.
 */
async function authLimits(config: ServerConfig, router: Router): Promise<{ throttle: LoginThrottle; registrationLimit: RegistrationLimit }> {
  const throttle = new AuthThrottle(config.authThrottle);
  const registrationLimit = new RegistrationLimiter(config.registrationLimit);
  if (!(router instanceof NatsRouter)) return { throttle, registrationLimit };
  try {
    const failures = await router.sharedTable('auth_failures', { ttlMs: config.authThrottle.forgetAfterMs, maxBytes: config.authThrottle.maxTracked * 2 * 256 });
    const registrations = await router.sharedTable('registrations', { ttlMs: config.registrationLimit.windowSeconds * 1000, maxBytes: config.registrationLimit.maxTracked * 256 });
    return { throttle: new SharedAuthThrottle(throttle, failures), registrationLimit: new SharedRegistrationLimit(registrationLimit, config.registrationLimit, registrations) };
  } catch (err) {
    moduleLogger('c2s').warn({ event: 'shared-table.down', err }, 'the shared login throttle could not be opened (JetStream); this c2s counts failures on its own');
    return { throttle, registrationLimit };
  }
}

export async function startC2sNode(config: ServerConfig, router: Router, storage: Storage, caps?: Element): Promise<C2sNode> {
  installLogEvents();
  let tls = await loadTlsMaterial({ domain: config.domain, dataDir: config.dataDir, certFile: config.tlsCert, keyFile: config.tlsKey });
  for (const warning of tls.warnings) moduleLogger('tls').warn({ event: 'tls.certificate' }, warning);
  const invites = new Invites(storage.userData, config.domain);
  const node = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  const policy: StreamPolicy = {
    domain: config.domain,
    limits: { maxStanzaSize: config.limits.maxStanzaSize, maxDepth: config.limits.maxDepth, maxAttributes: config.limits.maxAttributes },
    tlsAvailable: true,
    allowPlaintextOnLoopback: config.allowPlaintextOnLoopback,
    sasl2: config.sasl2,
    authAttempts: config.limits.authAttempts,
    loginMs: config.timeouts.loginSeconds * 1000,
    preAuthMs: config.timeouts.preAuthSeconds * 1000,
    preAuthStanzaSize: config.limits.preAuthStanzaSize,
    stanzaRate: { perSecond: config.limits.stanzasPerSecond, burst: config.limits.stanzaBurst },
    resumeSeconds: config.timeouts.resumeSeconds,
    resumeThroughSm: config.resumeThroughSm === 'always' || (config.resumeThroughSm === 'auto' && router instanceof NatsRouter),
    ackMs: config.timeouts.ackSeconds * 1000,
    csiQueueSize: config.limits.csiQueueSize,
    bytesPerSecond: config.limits.bytesPerSecond,
    burstBytes: config.limits.burstBytes,
    maxOutputBytes: config.limits.maxOutputBytes,
    smQueue: { stanzas: config.limits.smQueueStanzas, bytes: config.limits.smQueueBytes },
    // A c2s on its own computes the caps of the sm it fronts from the same module set.
    caps: caps ?? serverCaps(new SessionManager(router, storage, { domain: config.domain, registration: config.registration, externalServices: config.externalServices })),
    registration: config.registration,
    registrationInvites: config.registrationInvites,
    registrationCaptcha: config.registrationCaptcha.enabled,
    unknownUsers: { secret: await serverSecret(storage.userData, config.domain, 'scram-unknown-users'), iterations: config.scramIterations },
    bind2Secret: await serverSecret(storage.userData, config.domain, 'bind2-resources'),
  };
  const c2s = new C2s(
    router,
    node,
    policy,
    storage.accounts,
    config.scramIterations,
    {
      ...(await authLimits(config, router)),
      invites,
      ...(config.registrationCaptcha.enabled ? { captcha: new CaptchaChallenges(config.registrationCaptcha) } : {}),
      gate: new ConnectionGate({
        preAuthPerAddress: config.limits.preAuthPerAddress,
        preAuthTotal: config.limits.preAuthTotal,
        preAuthExemptLoopback: config.limits.preAuthExemptLoopback,
        memoryBudgetBytes: config.limits.memoryBudgetMB * 1024 * 1024,
      }),
      authFailures: config.logAuthFailures ? logAuthFailure : undefined,
      fastTokens: config.sasl2 && config.fastTokenSeconds > 0
        ? new FastTokens(storage.fastTokens, config.domain, { ttlMs: config.fastTokenSeconds * 1000, sealKey: loadFastKey(resolve(config.dataDir, config.fastKeyFile)) })
        : undefined,
      shards: new ShardMap(config.shards),
    },
  );
  await c2s.start(300);

  const idleMs = config.timeouts.idleSeconds * 1000;
  const channelBindingOn = config.channelBindingOn ?? ['starttls', 'direct-tls'];
  const tcp = await listenTcp(c2s, { host: config.bindAddress, port: config.c2sPort, tls: () => tls.context, idleMs, channelBinding: channelBindingOn.includes('starttls') });
  const directTls = config.c2sDirectTlsPort >= 0
    ? await listenDirectTls(c2s, { host: config.bindAddress, port: config.c2sDirectTlsPort, tls, idleMs, channelBinding: channelBindingOn.includes('direct-tls') })
    : undefined;
  let ws: NetServer | undefined;
  if (config.wsPort >= 0) {
    ws = await listenWebSocket(c2s, {
      host: config.bindAddress,
      port: config.wsPort,
      path: config.wsPath,
      tls: config.wsTls ? { cert: tls.cert, key: tls.key } : undefined,
      idleMs,
      maxMessage: config.limits.maxStanzaSize * 4,
      trustedProxies: config.wsTrustedProxies,
    });
  }

  const components = config.components.length > 0 ? new Components(router, config.components, new ShardMap(config.shards)) : undefined;
  const componentPort = components ? await components.listen(config.bindAddress, config.componentPort) : undefined;

  const bareJid = (username: string): { local: string; bare: string } => {
    const parsed = parseJid(`${username}@${config.domain}`);
    if (!parsed.ok || parsed.jid.local === undefined || parsed.jid.resource !== undefined) throw new Error(`invalid username: ${username}`);
    return { local: parsed.jid.local, bare: parsed.jid.toString() };
  };

  return {
    c2s,
    componentPort,
    c2sPort: (tcp.address() as AddressInfo).port,
    c2sDirectTlsPort: directTls ? (directTls.address() as AddressInfo).port : undefined,
    wsPort: ws ? (ws.address() as AddressInfo).port : undefined,
    async addUser(username, password) {
      const { local, bare } = bareJid(username);
      const credentials = await deriveScramCredentials(password, config.scramIterations);
      const created = await storage.accounts.createAccount(local, config.domain, credentials);
      if (!created.ok) throw new Error(`account ${bare} already exists`);
      await c2s.link.userAction('create', bare);
    },
    async removeUser(username) {
      return c2s.link.userAction('delete', bareJid(username).bare);
    },
    createInvite: (ttlSeconds) => invites.create(ttlSeconds),
    async reloadTls(next) {
      // Read and checked first: a certificate that does not load throws, and the old one stays in use.
      const material = await loadTlsMaterial({ domain: config.domain, dataDir: config.dataDir, certFile: next.tlsCert, keyFile: next.tlsKey });
      tls = material; // STARTTLS asks for it at each new connection
      const context = { cert: material.cert, key: material.key, minVersion: 'TLSv1.2' as const };
      (directTls as TlsServer | undefined)?.setSecureContext(context);
      if (ws && config.wsTls) (ws as HttpsServer).setSecureContext(context);
      return material.warnings;
    },
    applyLimits: (next) => applyLiveLimits(policy, next),
    async stop() {
      await components?.close();
      await c2s.shutdown();
      await Promise.all([closeServer(tcp), directTls ? closeServer(directTls) : undefined, ws ? closeServer(ws) : undefined]);
    },
  };
}

/** What a test may put around the store it opened (a store slower than a login, say); the server never uses it. */
export interface StorageSeam {
  storage?: (opened: Storage) => Storage;
}

/** The whole server in one process: `npm start`. */
export async function startServer(overrides: ConfigOverrides = {}, seam: StorageSeam = {}): Promise<RunningServer> {
  const config = mergeConfig(DEFAULT_CONFIG, overrides);
  const opened = await openStorage(config);
  const storage = timedStorage(seam.storage ? seam.storage(opened) : opened);
  const router = await openRouter(config);
  const smNode = await startSmNode(config, router, storage);
  const services = await startServicesNode(config, router, storage);
  const c2sNode = await startC2sNode(config, router, storage, serverCaps(smNode.sm));
  let stopped = false;
  return {
    config,
    domain: config.domain,
    storage,
    router,
    sm: smNode.sm,
    sms: smNode.sms,
    admin: smNode.admin,
    services,
    c2s: c2sNode.c2s,
    componentPort: c2sNode.componentPort,
    c2sPort: c2sNode.c2sPort,
    c2sDirectTlsPort: c2sNode.c2sDirectTlsPort,
    wsPort: c2sNode.wsPort,
    addUser: c2sNode.addUser,
    removeUser: c2sNode.removeUser,
    createInvite: c2sNode.createInvite,
    reloadTls: c2sNode.reloadTls,
    applyLimits: c2sNode.applyLimits,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Services first, so their goodbyes (MUC status 332) reach clients before the streams close.
      await services.stop();
      await c2sNode.stop();
      await smNode.stop();
      await router.close();
      await storage.close();
    },
  };
}

function closeServer(server: NetServer): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(), 3000);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
