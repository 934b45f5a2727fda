// The configuration's schema (zod): what each key holds, its bounds and its
// description. It validates the merged config (file, environment, flags)
// in config-load.ts and is the source of docs/configuration.md
// (`npm run docs:config`; config-docs.test.ts fails when the page drifts).
//
// Adding a key: add it to ServerConfig and DEFAULT_CONFIG in config.ts, then
// one line here. The `satisfies` check at the bottom makes a key missing here
// a type error, so no key goes unvalidated or undocumented. Its environment
// variable and flag come from its path (config-load.ts): `offlineQuota` is
// SWITCHBOARD_OFFLINE_QUOTA and --offline-quota, `limits.maxDepth` is
// SWITCHBOARD_LIMITS__MAX_DEPTH and --limits.max-depth.

import { isIP } from 'node:net';
import { z } from 'zod';
import type { ServerConfig } from './config.ts';

const port = (d: string) => z.number().int().min(-1).max(65535).describe(d);
const count = (d: string) => z.number().int().min(0).describe(d);
const positive = (d: string) => z.number().int().min(1).describe(d);
const seconds = (d: string) => z.number().min(0).describe(d);
const flag = (d: string) => z.boolean().describe(d);

const externalService = z.strictObject({
  type: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  transport: z.enum(['udp', 'tcp']).optional(),
  name: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  restricted: z.boolean().optional(),
  secret: z.string().optional(),
  ttlSeconds: z.number().int().min(1).optional(),
});

export const configSchema = z.strictObject({
  domain: z.string().min(1).describe('The virtual host served (JID domainpart).'),
  bindAddress: z.string().min(1).describe('Address the client listeners bind to.'),
  c2sPort: port('TCP client port (RFC 6120, STARTTLS); 0 picks a free port; -1 disables.'),
  c2sDirectTlsPort: port('XEP-0368 direct TLS client port; 0 picks a free port; -1 disables.'),
  wsPort: port('WebSocket (RFC 7395) port; 0 picks a free port; -1 disables.'),
  wsPath: z.string().startsWith('/').describe('Path of the WebSocket endpoint.'),
  wsTls: flag('Serve WebSocket over TLS (wss). false: plain HTTP, for a TLS-terminating reverse proxy in front (with wsTrustedProxies; docs/operations.md).'),
  wsTrustedProxies: z
    .array(z.string().refine((s) => isIP(s.split('/')[0] ?? '') !== 0 && (!s.includes('/') || /^\d{1,3}$/.test(s.split('/')[1] ?? '')), 'an IP address or CIDR range'))
    .describe('Reverse proxies (IP addresses or CIDR ranges) trusted to say, in Forwarded or X-Forwarded-Proto/-For, that the client used TLS and from which address; their clients may log in over plain ws. Headers from any other peer are ignored (--ws-trusted-proxies 127.0.0.1,::1).'),
  dataDir: z.string().min(1).describe('Where the embedded store, the generated certificate and the admin socket live.'),
  tlsCert: z.string().min(1).optional().describe('PEM certificate chain file (with tlsKey); a self-signed pair is made in dataDir when both are unset.'),
  tlsKey: z.string().min(1).optional().describe('PEM private key file for tlsCert.'),
  allowPlaintextOnLoopback: flag('Development only: SASL without TLS on loopback connections.'),
  channelBindingOn: z
    .array(z.enum(['starttls', 'direct-tls']))
    .describe('Listeners offering SCRAM-*-PLUS (RFC 9266 tls-exporter, TLS 1.3); leave one out for clients that mishandle -PLUS (--channel-binding-on starttls,direct-tls|none).'),
  sasl2: flag('XEP-0388 SASL2 with XEP-0386 Bind 2 (inline XEP-0198, XEP-0280 carbons, XEP-0352 state) and XEP-0484 FAST offered to clients, beside RFC 6120 SASL and bind; false: RFC 6120 only.'),
  fastTokenSeconds: count('XEP-0484 FAST token lifetime with SASL2 (0: FAST not offered); a token past half its life is replaced when used.'),
  fastKeyFile: z.string().min(1).describe('File with the key (base64, 32 bytes) sealing stored FAST token keys, kept out of the database; made on first start; relative to dataDir; one file for every c2s of a cluster.'),
  role: z.enum(['all', 'c2s', 'sm', 'muc']).describe('Which components this process runs: all, or one part of a cluster joined over NATS (muc: the services alone, with services own-process).'),
  shards: z.number().int().min(1).max(1024).describe('Sm shards the users are spread over (SHA-1 of the bare JID); each is served by one sm process at a time (a lease), others stand by; the same in every process of a cluster.'),
  serviceShards: z.number().int().min(1).max(1024).describe('Shards each service domain (group chat) is split into by SHA-1 of the room JID; each is served by one process at a time (a lease), any other process hosting the service stands by and takes over a dead owner\'s shards; the same in every process of a cluster.'),
  resumeThroughSm: z.enum(['auto', 'always', 'never']).describe('XEP-0198: the sm keeps a copy of what it sends each resumable session (within limits.smQueue*), so that its client can resume through any c2s, also after its c2s died; auto: in a cluster over NATS (one process has one c2s). The same in every process of a cluster.'),
  services: z.enum(['with-sm', 'own-process']).describe("Where services (group chat) run in a cluster: in the sm's process, or in processes of their own (--role muc)."),
  muc: z
    .array(
      z.strictObject({
        domain: z.string().min(1),
        maxOccupants: z.number().int().min(1).optional(),
        maxHistory: z.number().int().min(0).optional(),
        maxNickLength: z.number().int().min(1).optional(),
        maxSubjectLength: z.number().int().min(0).optional(),
        messagesPerSecond: z.number().min(0).optional(),
        burst: z.number().int().min(0).optional(),
        maxRooms: z.number().int().min(1).optional(),
        createRoomsDomains: z.array(z.string().min(1)).optional(),
      }),
    )
    .optional()
    .describe('XEP-0045 group chat services with their limits (muc/options.ts). Unset: one at conference.<domain>; []: none.'),
  router: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('in-process') }),
      z.strictObject({ kind: z.literal('nats'), url: z.string().min(1), prefix: z.string().min(1) }),
    ])
    .describe('{"kind":"in-process"}, or {"kind":"nats","url":"nats://…","prefix":"switchboard"} for a cluster (--nats, --nats-prefix).'),
  storage: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('sqlite') }),
      z.strictObject({ kind: z.literal('postgres'), url: z.string().min(1), schema: z.string().min(1).optional() }),
    ])
    .describe('{"kind":"sqlite"} (a file in dataDir), or {"kind":"postgres","url":"postgres://…","schema":"…"} (--postgres).'),
  limits: z.strictObject({
    maxStanzaSize: positive('Largest stanza in characters (RFC 6120 §13.12).'),
    maxDepth: positive('Deepest element nesting in a stanza.'),
    maxAttributes: positive('Most attributes on one element.'),
    bytesPerSecond: positive('Sustained inbound bytes per second per connection.'),
    burstBytes: positive('Inbound burst allowed above bytesPerSecond.'),
    authAttempts: positive('SASL failures allowed on one stream before it is closed (RFC 6120 §6.4.5).'),
    maxOutputBytes: positive('Bytes written to a client and not yet taken by it; past this its stream is closed (policy-violation).'),
    smQueueStanzas: positive('XEP-0198: stanzas sent and not yet acknowledged, kept for a resumption.'),
    smQueueBytes: positive('XEP-0198: bytes sent and not yet acknowledged, kept for a resumption.'),
    csiQueueSize: positive('XEP-0352: most stanzas held for an inactive client.'),
    stanzasPerSecond: positive('Sustained stanzas per second per session.'),
    stanzaBurst: positive('Stanza burst allowed above stanzasPerSecond.'),
    preAuthPerAddress: positive('Unauthenticated connections allowed from one address.'),
    preAuthTotal: positive('Unauthenticated connections allowed in all.'),
    preAuthExemptLoopback: flag('Loopback connections are not counted against preAuthPerAddress.'),
    preAuthStanzaSize: positive('Largest stanza before authentication, in characters.'),
    memoryBudgetMB: count('MB of heap and external memory past which new connections are refused (resource-constraint); 0: 80 % of the V8 heap limit.'),
  }),
  timeouts: z.strictObject({
    idleSeconds: seconds('Seconds a stream may sit idle (no byte received) before it is closed.'),
    loginSeconds: seconds('Seconds a new connection has to authenticate and bind.'),
    preAuthSeconds: seconds('Seconds a new connection has to authenticate (a stricter bound than loginSeconds for the unauthenticated).'),
    resumeSeconds: seconds('XEP-0198: seconds a resumable session waits for its client.'),
    heartbeatSeconds: seconds('Router liveness: how often each process announces its components.'),
    deadAfterSeconds: seconds('Router liveness: silence after which a component is known dead.'),
    storageSeconds: seconds('Longest wait for one storage call before it fails with a stanza error.'),
    ackSeconds: seconds('XEP-0198: seconds an <r/> may go unanswered before the link counts as dead.'),
    adminSeconds: seconds('In a cluster: seconds an sm shard or process has to answer an admin command before it is reported as not answering.'),
  }),
  components: z
    .array(z.strictObject({ domain: z.string().min(1), secret: z.string().min(1) }))
    .describe('XEP-0114 external components: [{"domain":"…","secret":"…"}].'),
  componentPort: port('Port for XEP-0114 component connections (bound to bindAddress); 0 picks a free port.'),
  registration: flag('XEP-0077 in-band registration and account removal.'),
  registrationLimit: z.strictObject({
    attempts: count('Attempts to create an account allowed per address in the window.'),
    windowSeconds: seconds('The window of registrationLimit.attempts.'),
    maxTracked: positive('Most addresses tracked for the registration limit.'),
  }),
  registrationInvites: flag('XEP-0445: registering needs an invitation token (`switchboard invite`).'),
  registrationCaptcha: z.strictObject({
    enabled: flag('XEP-0158: registering needs a question answered in the registration form (a sum in words); a stream that presented an invitation is not asked.'),
    ttlSeconds: seconds('Seconds a CAPTCHA challenge may be answered in.'),
    maxPending: positive('Most CAPTCHA challenges pending at once (past it a form request gets resource-constraint).'),
    maxPerAddress: positive('Most CAPTCHA challenges pending for one address (an IPv6 /64).'),
  }),
  chatToAllResources: flag('RFC 6121 §8.5.2.1.1: a chat message to a bare JID goes to every non-negative resource (true) or only the highest priority.'),
  offlineQuota: count('XEP-0160: most messages stored for one offline user (older name of quotas.offlineMessages, which it overrides).'),
  quotas: z.strictObject({
    resources: positive('Most resources (sessions) bound at once per user.'),
    rosterItems: count('Most roster items per user.'),
    privateXmlBytes: count('XEP-0049 private XML bytes per user.'),
    vcardBytes: count('vCard bytes per user.'),
    pepNodes: count('Most PEP nodes per user.'),
    pepItemBytes: count('Largest PEP item in bytes.'),
    pepMaxItems: count('Most items kept per PEP node.'),
    offlineMessages: count('XEP-0160: most offline messages per user.'),
    offlineBytes: count('XEP-0160: most offline message bytes per user.'),
  }),
  archive: flag('XEP-0313: keep a message archive per user.'),
  archiveExpirySeconds: count('XEP-0313: archived messages older than this are removed; 0 keeps them forever.'),
  archiveMaxPerUser: count('XEP-0313: most archived messages kept per user; 0 for no limit.'),
  archiveDefault: z.enum(['always', 'never', 'roster']).describe('XEP-0313 §6: the archiving default of a user with no preferences.'),
  archiveFullText: flag('XEP-0313: index message text for the urn:xmpp:fulltext:0 search field.'),
  archiveWriteDelayMs: z.number().int().min(1).max(60_000).describe('XEP-0313: most milliseconds an archived message waits in memory before it is written (one transaction for all sessions); longer costs less CPU per message, a crash loses up to this much of the archive.'),
  scramIterations: z.number().int().min(4096).describe('SCRAM iteration count for new credentials (RFC 7677: at least 4096).'),
  externalServices: z.array(externalService).describe('XEP-0215 STUN/TURN servers announced to users: [{"type":"turn","host":"…","port":3478,"secret":"…"}].'),
  authThrottle: z.strictObject({
    addressFreeFailures: count('Failures from one address (an IPv6 /64) before back-off begins.'),
    accountFreeFailures: count('Failures for one account, from anywhere, before back-off begins.'),
    baseDelayMs: count('The first back-off; each further failure doubles it.'),
    maxDelayMs: count('The longest back-off.'),
    maxReplyDelayMs: count('The longest a failure reply is held.'),
    forgetAfterMs: count("A key's failures are forgotten this long after its last one."),
    maxTracked: positive('Most addresses, and most accounts, tracked at once.'),
  }),
  logAuthFailures: flag('Log a line per failed authentication (event auth.failed), for fail2ban.'),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).describe('Log level (also SWITCHBOARD_LOG_LEVEL).'),
    format: z.enum(['auto', 'json', 'pretty']).describe('auto: pretty on a terminal, JSON lines otherwise.'),
  }),
  http: z.strictObject({
    port: port('Operator HTTP listener (/metrics, /health, /ready, host-meta); 0 picks a free port; -1 disables.'),
    bindAddress: z.string().min(1).describe('Address the operator HTTP listener binds to.'),
    console: flag('Serve the web console at / on the operator HTTP listener (an XMPP client over the WebSocket endpoint; admin pages for `admins`).'),
  }),
  adminSocket: z.string().describe("Unix socket for `switchboard` admin commands against the running server, mode 0600; relative to dataDir; '' disables."),
  admins: z.array(z.string().min(1)).describe('Bare JIDs allowed the XEP-0133 administration commands.'),
  trustedProxies: z.array(z.string().min(1)).describe('Reverse-proxy addresses whose Forwarded / X-Forwarded-* headers are believed.'),
  publicWebSocketUrl: z.string().describe('The wss:// URL announced in XEP-0156 host-meta; made from domain, wsPort and wsPath when empty.'),
});

// Every key of ServerConfig has a schema entry, and the schema yields a ServerConfig.
configSchema satisfies z.ZodType<ServerConfig>;
