// Server configuration: documented defaults, overridden by a JSON config
// file, then environment variables, then command-line flags. Each key is
// validated and documented by its entry in config-schema.ts (a key missing
// there is a type error); config-load.ts reads the layers.

import { join } from 'node:path';
import { DEFAULT_AUTH_THROTTLE, type AuthThrottleConfig } from './auth/throttle.ts';
import { DEFAULT_QUOTAS, type UserQuotas } from './sm/quotas.ts';
import { DEFAULT_REGISTRATION_LIMIT, type RegistrationLimitConfig } from './auth/registration-limit.ts';
import { DEFAULT_CAPTCHA, type CaptchaConfig } from './auth/captcha.ts';
import type { MucServiceOptions } from './muc/options.ts';

/**
 * XEP-0215: an external service (a STUN or TURN server, usually) that clients
 * discover through the server, e.g. `{ "type": "turn", "host": "turn.example.org",
 * "port": 3478, "transport": "udp", "secret": "…" }`.
 */
export interface ExternalService {
  /** The registered service type: stun, turn, turns, stuns, … */
  type: string;
  /** FQDN or IP address. */
  host: string;
  port?: number;
  transport?: 'udp' | 'tcp';
  /** A human-readable label for clients. */
  name?: string;
  /** Fixed credentials, handed to every user. */
  username?: string;
  password?: string;
  /** Listed without credentials: clients ask for them (XEP-0215 §3.3). */
  restricted?: boolean;
  /**
   * TURN REST shared secret (draft-uberti-behave-turn-rest-00; coturn's
   * `static-auth-secret`): each user gets username `expiry:user@domain` and
   * password base64(HMAC-SHA1(secret, username)).
   */
  secret?: string;
  /** Lifetime of those ephemeral credentials (default 86400 seconds). */
  ttlSeconds?: number;
}

export interface ServerConfig {
  /** The virtual host served (JID domainpart). */
  domain: string;
  /** Address the listeners bind to. */
  bindAddress: string;
  /** TCP client port (RFC 6120); 0 picks a free port. */
  c2sPort: number;
  /** XEP-0368 direct TLS client port; 0 picks a free port; -1 disables. */
  c2sDirectTlsPort: number;
  /** WebSocket (RFC 7395) HTTP port; 0 picks a free port; -1 disables. */
  wsPort: number;
  /** Path of the WebSocket endpoint. */
  wsPath: string;
  /** Serve WebSocket over TLS (wss). When false, put a TLS-terminating proxy in front. */
  wsTls: boolean;
  /** Reverse proxies (addresses or CIDR ranges) whose Forwarded / X-Forwarded-Proto / X-Forwarded-For the WebSocket listener believes. */
  wsTrustedProxies: string[];
  /** Where the embedded store and the generated certificate live. */
  dataDir: string;
  /** PEM certificate and key; a self-signed pair is generated in dataDir when unset. */
  tlsCert?: string;
  tlsKey?: string;
  /** Development only: allow SASL without TLS on loopback connections (also needed by the tsung benchmark). */
  allowPlaintextOnLoopback: boolean;
  /**
   * Listeners that offer SCRAM-*-PLUS (channel binding, RFC 9266 tls-exporter, under TLS 1.3).
   * Leave one out for clients that mishandle -PLUS: that listener then offers no -PLUS, lists no
   * XEP-0440 binding, and accepts gs2 flag 'y' (RFC 5802 §6: nothing was stripped).
   */
  channelBindingOn: ('starttls' | 'direct-tls')[];
  /**
   * XEP-0388 SASL2 with XEP-0386 Bind 2 and inline XEP-0198 (c2s/xep0388.ts). Off by default for
   * now: @xmpp/client 0.14 prefers it when offered, and Bind 2 names the resource after the
   * client's tag plus a unique suffix, where RFC 6120 binding gave it the resource it asked for.
   */
  sasl2: boolean;
  /**
   * XEP-0484 FAST token lifetime in seconds, offered with SASL2 (0: no FAST). A token in the second
   * half of its life is replaced at the login that uses it.
   */
  fastTokenSeconds: number;
  /**
   * The key (base64, 32 bytes) that seals the stored FAST token keys, kept out of the database so a
   * dump of it yields no usable token (auth/fast-tokens.ts). Made on first start; relative to
   * dataDir. Every c2s of a cluster must read the same key.
   */
  fastKeyFile: string;
  /**
   * Which components this process runs: all of them, or one part of a cluster
   * joined over NATS (`muc`: the services alone, when `services` is `own-process`).
   */
  role: 'all' | 'c2s' | 'sm' | 'muc';
  /** Where services (group chat) run in a cluster: in the sm's process, or in processes of their own (`--role muc`). */
  services: 'with-sm' | 'own-process';
  /**
   * Shards the users are spread over by SHA-1 of the bare JID (docs/protocol.md
   * "Shards"): each is served by one sm at a time, and every process of a
   * cluster must have the same count. 1: one sm serves everyone.
   */
  shards: number;
  /**
   * Shards each service domain (group chat) is split into by SHA-1 of the bare
   * address a stanza is to, the room JID (docs/protocol.md "Service shards"):
   * each is served by one process at a time (a lease), others stand by; the
   * same in every process of a cluster.
   */
  serviceShards: number;
  /** XEP-0198: the sm keeps a copy of what it sends resumable sessions so that a client may resume through any c2s; auto: in a cluster over NATS. */
  resumeThroughSm: 'auto' | 'always' | 'never';
  /**
   * XEP-0045 group chat services, one per domain, each with its limits
   * (muc/options.ts). Unset: one at `conference.<domain>`; `[]`: none.
   */
  muc?: MucServiceOptions[];
  /** The router: in-process by default; NATS to join c2s and sm processes on several machines. */
  router: { kind: 'in-process' } | { kind: 'nats'; url: string; prefix: string };
  /** Storage backend: the embedded SQLite file in dataDir, or PostgreSQL at this URL. */
  storage: { kind: 'sqlite' } | { kind: 'postgres'; url: string; schema?: string };
  limits: {
    /** Largest stanza in characters (RFC 6120 §13.12). */
    maxStanzaSize: number;
    maxDepth: number;
    maxAttributes: number;
    /** Sustained inbound bytes per second per connection, and the burst allowed above it. */
    bytesPerSecond: number;
    burstBytes: number;
    /** SASL failures allowed on one stream before it is closed (RFC 6120 §6.4.5 "retries"). */
    authAttempts: number;
    /**
     * Bytes written to a client and not yet taken by it (its socket's send buffer); past this the
     * client is not reading and its stream is closed with policy-violation instead of buffering more.
     */
    maxOutputBytes: number;
    /** XEP-0198: stanzas and bytes sent and not yet acknowledged, kept for a resumption; past either the stream ends. */
    smQueueStanzas: number;
    smQueueBytes: number;
    /** Unauthenticated connections allowed from one address (loopback not counted unless preAuthExemptLoopback is false), and in all. */
    preAuthPerAddress: number;
    preAuthTotal: number;
    preAuthExemptLoopback: boolean;
    /** Largest stanza before authentication, in characters (maxStanzaSize after it). */
    preAuthStanzaSize: number;
    /** MB of heap and external memory past which new connections are refused with resource-constraint; 0: 80 % of the V8 heap limit. */
    memoryBudgetMB: number;
    /**
     * Stanzas per second a session may send, sustained, and the burst above it (a token bucket).
     * Past it each stanza is answered resource-constraint; a client that goes on past another
     * burst is closed with policy-violation.
     */
    stanzasPerSecond: number;
    stanzaBurst: number;
    /** XEP-0352: most stanzas held for an inactive client; at the bound they all go out. */
    csiQueueSize: number;
  };
  timeouts: {
    /** Seconds a stream may sit idle (no byte received, keepalives included) before it is closed. */
    idleSeconds: number;
    /** Seconds a new connection has to authenticate and bind. */
    loginSeconds: number;
    /** Seconds a new connection has to authenticate (SASL), within loginSeconds. */
    preAuthSeconds: number;
    /** XEP-0198: seconds a resumable session waits for its client after the connection is lost. */
    resumeSeconds: number;
    /** Router liveness (docs/protocol.md): how often each process announces its components … */
    heartbeatSeconds: number;
    /** … and how long a silent component has before it is known dead (heartbeat + this ≤ 5 s by default). */
    deadAfterSeconds: number;
    /** Longest wait for one storage call (PostgreSQL) before it fails with a stanza error. */
    storageSeconds: number;
    /** XEP-0198: seconds an <r/> may go unanswered before the link counts as dead. */
    ackSeconds: number;
    /** In a cluster: seconds an asked sm shard or process has to answer an admin command (admin/cluster.ts). */
    adminSeconds: number;
  };
  /** XEP-0114 external components: each gets its domain (a subdomain, usually) and shares a secret. */
  components: { domain: string; secret: string }[];
  /** Port for component connections (bound to bindAddress); 0 picks a free port. */
  componentPort: number;
  /** XEP-0077: in-band registration and account removal (off by default). */
  registration: boolean;
  /** XEP-0077 attempts to create an account, per address (auth/registration-limit.ts). */
  registrationLimit: RegistrationLimitConfig;
  /** XEP-0445: registering needs an invitation token (`switchboard invite`). */
  registrationInvites: boolean;
  /** XEP-0158: registering needs a CAPTCHA answered, and the bounds of the table of pending ones (auth/captcha.ts). */
  registrationCaptcha: CaptchaConfig;
  /**
   * RFC 6121 §8.5.2.1.1: a chat message to a bare JID goes to every available
   * resource of non-negative priority (true), or only to those of the highest
   * priority (false, the default, as Prosody; the others see it through XEP-0280 carbons).
   */
  chatToAllResources: boolean;
  /** XEP-0160: most messages stored for one offline user (the older name of quotas.offlineMessages, which it overrides when set). */
  offlineQuota: number;
  /** Per-user quotas, each with its specification's error when hit (sm/quotas.ts; docs/hardening.md). */
  quotas: UserQuotas;
  /** XEP-0313: keep a message archive per user (both sides of every chat, with XEP-0359 stanza ids). */
  archive: boolean;
  /** XEP-0313: archived messages older than this many seconds are removed; 0 keeps them forever. */
  archiveExpirySeconds: number;
  /** XEP-0313: most archived messages kept per user, the oldest going first; 0 for no limit. */
  archiveMaxPerUser: number;
  /** XEP-0313 §6: the archiving default of a user who has set no preferences. */
  archiveDefault: 'always' | 'never' | 'roster';
  /** XEP-0313: index message text for the `{urn:xmpp:fulltext:0}fulltext` search field. */
  archiveFullText: boolean;
  /** XEP-0313: most milliseconds an archived message waits in memory before its transaction (write-behind). */
  archiveWriteDelayMs: number;
  /** SCRAM iteration count for new credentials (RFC 7677 recommends at least 4096). */
  scramIterations: number;
  /** XEP-0215: STUN/TURN servers announced to users (none by default; the feature is advertised only with some). */
  externalServices: ExternalService[];
  /** Password-guessing back-off per address and per account (auth/throttle.ts documents each key). */
  authThrottle: AuthThrottleConfig;
  /** Write a line per failed authentication to stderr, for fail2ban (auth/auth-log.ts). */
  logAuthFailures: boolean;
  /** Logging (docs/logging.md). */
  log: {
    /** fatal, error, warn, info, debug, trace or silent. */
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    /** auto: pretty on a terminal, JSON lines otherwise. */
    format: 'auto' | 'json' | 'pretty';
  };
  /** The operator's HTTP listener (docs/operations.md): /metrics, /health, /ready, XEP-0156 host-meta. */
  http: {
    /** Port; 0 picks a free port; -1 disables. */
    port: number;
    /** Address it binds to (loopback: put a proxy in front to publish host-meta). */
    bindAddress: string;
    /** Serve the web console at / (packages/console; docs/operations.md). */
    console: boolean;
  };
  /** Unix socket the `switchboard` admin commands talk to a running server through ('' disables; relative paths are under dataDir). */
  adminSocket: string;
  /** Bare JIDs allowed the XEP-0133 administration commands. */
  admins: string[];
  /** Addresses of reverse proxies whose X-Forwarded-For/-Proto and Forwarded headers are believed (WebSocket listener). */
  trustedProxies: string[];
  /** The wss:// URL web clients are told (XEP-0156); made from domain, wsPort and wsPath when empty. */
  publicWebSocketUrl: string;
}

export const DEFAULT_CONFIG: ServerConfig = {
  domain: 'localhost',
  bindAddress: '127.0.0.1',
  c2sPort: 5222,
  c2sDirectTlsPort: 5223,
  wsPort: 5280,
  wsPath: '/xmpp-websocket',
  wsTls: true,
  wsTrustedProxies: [],
  dataDir: './data',
  allowPlaintextOnLoopback: false,
  channelBindingOn: ['starttls', 'direct-tls'],
  sasl2: true,
  fastTokenSeconds: 14 * 24 * 3600,
  fastKeyFile: 'fast-token.key',
  role: 'all',
  services: 'with-sm',
  shards: 1,
  serviceShards: 1,
  resumeThroughSm: 'auto',
  router: { kind: 'in-process' },
  storage: { kind: 'sqlite' },
  limits: {
    maxStanzaSize: 256 * 1024,
    maxDepth: 32,
    maxAttributes: 64,
    bytesPerSecond: 1024 * 1024,
    burstBytes: 4 * 1024 * 1024,
    authAttempts: 3,
    maxOutputBytes: 4 * 1024 * 1024,
    smQueueStanzas: 1000,
    smQueueBytes: 4 * 1024 * 1024,
    preAuthPerAddress: 20,
    preAuthTotal: 1000,
    preAuthExemptLoopback: true,
    preAuthStanzaSize: 32 * 1024,
    memoryBudgetMB: 0,
    stanzasPerSecond: 1000,
    stanzaBurst: 2000,
    csiQueueSize: 100,
  },
  timeouts: { idleSeconds: 600, loginSeconds: 60, preAuthSeconds: 20, resumeSeconds: 300, heartbeatSeconds: 1, deadAfterSeconds: 3, storageSeconds: 5, ackSeconds: 60, adminSeconds: 5 },
  registration: false,
  registrationLimit: DEFAULT_REGISTRATION_LIMIT,
  registrationInvites: false,
  registrationCaptcha: DEFAULT_CAPTCHA,
  components: [],
  componentPort: 5347,
  chatToAllResources: false,
  offlineQuota: 1000,
  quotas: DEFAULT_QUOTAS,
  // Off until its write path is cheaper: on, a chat message costs ~5× the server CPU
  // (`npm run bench -- chat-archive`, 381 vs 76 µs); an operator turns it on with --archive.
  archive: false,
  archiveExpirySeconds: 0,
  archiveMaxPerUser: 0,
  archiveDefault: 'always',
  archiveFullText: true,
  // One transaction a second: at 1,000 msgs/s a commit then carries ~2 entries per user and index page instead
  // of ~1 at 100 ms, which took archiving's storage CPU from ~42 to ~23 µs a message (docs/benchmarks.md).
  archiveWriteDelayMs: 1000,
  scramIterations: 4096,
  externalServices: [],
  authThrottle: DEFAULT_AUTH_THROTTLE,
  logAuthFailures: true,
  log: { level: 'info', format: 'auto' },
  http: { port: 5380, bindAddress: '127.0.0.1', console: false },
  adminSocket: 'admin.sock',
  admins: [],
  trustedProxies: [],
  publicWebSocketUrl: '',
};

export type ConfigOverrides = Partial<Omit<ServerConfig, 'limits' | 'timeouts' | 'authThrottle' | 'registrationLimit' | 'registrationCaptcha' | 'quotas' | 'log' | 'http'>> & {
  quotas?: Partial<ServerConfig['quotas']>;
  registrationLimit?: Partial<ServerConfig['registrationLimit']>;
  registrationCaptcha?: Partial<ServerConfig['registrationCaptcha']>;
  limits?: Partial<ServerConfig['limits']>;
  timeouts?: Partial<ServerConfig['timeouts']>;
  authThrottle?: Partial<ServerConfig['authThrottle']>;
  log?: Partial<ServerConfig['log']>;
  http?: Partial<ServerConfig['http']>;
};

export function mergeConfig(base: ServerConfig, over: ConfigOverrides): ServerConfig {
  return {
    ...base,
    ...over,
    limits: { ...base.limits, ...over.limits },
    timeouts: { ...base.timeouts, ...over.timeouts },
    authThrottle: { ...base.authThrottle, ...over.authThrottle },
    registrationLimit: { ...base.registrationLimit, ...over.registrationLimit },
    registrationCaptcha: { ...base.registrationCaptcha, ...over.registrationCaptcha },
    quotas: { ...base.quotas, ...over.quotas },
    log: { ...base.log, ...over.log },
    http: { ...base.http, ...over.http },
  };
}

// Reading the file, environment and flags against the schema: config-load.ts.
export { loadConfig } from './config-load.ts';

/** The group chat services configured, with the default `conference.<domain>` when none are. */
export function mucServices(config: ServerConfig): MucServiceOptions[] {
  return config.muc ?? [{ domain: `conference.${config.domain}` }];
}

export function sqlitePath(config: ServerConfig): string {
  return join(config.dataDir, 'switchboard.sqlite');
}
