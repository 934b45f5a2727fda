#!/usr/bin/env node
// switchboard serve [--config FILE] [flags]   run the server
// switchboard user add|remove|passwd|list …   manage accounts (through the running server when one answers)
// switchboard sessions list | session kick JID | stats | reload   ask the running server (admin socket)
// switchboard migrate --from STORE --to STORE   copy a stopped server's store (cli/migrate.ts)

import { readFileSync } from 'node:fs';
import type { ServerConfig } from '../config.ts';
import { isConfigError, parseCommandLine, settingsHelp } from '../config-load.ts';
import { openRouter, startC2sNode, startServer, startServicesNode, startSmNode } from '../server.ts';
import { openStorage } from '../storage/open.ts';
import { userCommand } from './user.ts';
import { ADMIN_USAGE, adminCommand } from './admin.ts';
import { startAdminSocket, type AdminSocket } from '../admin/socket-server.ts';
import { adminSocketPath } from '../admin/socket-client.ts';
import { localEndpoint, type AdminEndpoint } from '../admin/endpoint.ts';
import { ClusterAdmin } from '../admin/cluster.ts';
import { NatsRouter } from '../router/nats.ts';
import { ShardMap } from '../router/shards.ts';
import type { Router } from '../router/router.ts';
import type { Storage } from '../storage/ports.ts';
import { prepareDomainpart } from '@switchboard/jid';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ReloadReport } from '../admin/protocol.ts';
import { applyReload, type ReloadTargets } from '../ops/reload.ts';
import { setLogLevel } from '../log.ts';
import { benchUsersCommand } from './bench-users.ts';
import { inviteCommand } from './invite.ts';
import { MIGRATE_USAGE, migrateCommand } from './migrate.ts';
import { installProcessGuards } from '../process-guard.ts';
import { configureLogging, flushLogs, moduleLogger } from '../log.ts';
import { checkDataDir, describeStartError } from './start-checks.ts';
import { startHttpListener } from '../ops/http-listener.ts';
import { storeSizes, type StoreSizeSource } from '../ops/store-sizes.ts';
import { loadConsoleFiles } from '../ops/console.ts';
import { publicWebSocketUrl } from '../ops/host-meta.ts';

const USAGE = `usage:
  switchboard serve [--config FILE] [flags]  run the server (serve --help lists every flag)
  switchboard user add JID [--password-stdin]     the password from stdin's first line, else asked on the terminal
  switchboard user remove JID                     ends the user's sessions when the server runs
  switchboard user passwd JID [--password-stdin]  ends the user's sessions when the server runs
  switchboard user list [DOMAIN]
${ADMIN_USAGE}
  switchboard invite [TTL_SECONDS]        a single-use registration token (XEP-0445; registrationInvites)
  switchboard bench-users N [PASSWORD]   benchmark profile: user1..userN sharing one password
  switchboard migrate --from sqlite:DIR --to postgres:URL [--schema NAME] [--resume]   copy a stopped server's store (and back), counts checked
  switchboard --version
Every setting has a flag and an environment variable; docs/configuration.md lists them.`;

/** Set by scripts/build.mjs in the bundle (dist/switchboard.mjs, the server package's bin), where no package.json sits at a known path. */
declare const SWITCHBOARD_VERSION: string | undefined;

function version(): string {
  if (typeof SWITCHBOARD_VERSION === 'string') return SWITCHBOARD_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V' || command === 'version') {
    console.log(`switchboard ${version()}`);
    return 0;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  // migrate names two stores on its own command line; it reads no settings.
  if (command === 'migrate') {
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(MIGRATE_USAGE);
      return 0;
    }
    return migrateCommand(rest);
  }
  const known = ['serve', 'user', 'invite', 'bench-users', 'sessions', 'session', 'stats', 'reload'] as const;
  if (!known.includes(command as (typeof known)[number])) {
    console.error(`switchboard: unknown command ${command}\n${USAGE}`);
    return 2;
  }
  // The CLI's own flag, not a setting: taken out before the settings are read.
  const passwordStdin = command === 'user' && rest.includes('--password-stdin');
  const line = parseCommandLine(command === 'user' ? rest.filter((a) => a !== '--password-stdin') : rest);
  if (line.version) {
    console.log(`switchboard ${version()}`);
    return 0;
  }
  if (line.help) {
    console.log(command === 'serve' ? `usage: switchboard serve [--config FILE] [flags]\n\nflags (each also SWITCHBOARD_<KEY>; docs/configuration.md):\n${settingsHelp()}` : USAGE);
    return 0;
  }
  for (const w of line.warnings) console.error(`switchboard: ${w}`);
  switch (command) {
    case 'serve':
      if (line.positional.length > 0) {
        console.error(`switchboard: serve takes no arguments (got ${line.positional.join(' ')}); see serve --help`);
        return 2;
      }
      return serve(line.config, rest);
    case 'bench-users':
      return benchUsersCommand(line.positional, line.config);
    case 'invite':
      return inviteCommand(line.positional, line.config);
    case 'user':
      return userCommand(line.positional, line.config, { passwordStdin });
    case 'sessions':
    case 'session':
    case 'stats':
    case 'reload':
      return adminCommand(command, line.positional, line.config);
  }
  return 2;
}

async function serve(config: ServerConfig, argv: string[]): Promise<number> {
  configureLogging({ level: config.log.level, format: config.log.format });
  checkDataDir(config.dataDir);
  if (config.http.console && config.http.port < 0) {
    console.error('switchboard: http.console needs the operator HTTP listener (http.port is -1)');
    return 2;
  }
  const consoleFiles = config.http.console ? await loadConsoleFiles() : undefined;
  const running = config.role === 'all' ? await serveAll(config) : await serveRole(config);
  let ready = true;
  const http =
    config.http.port >= 0
      ? await startHttpListener({ host: config.http.bindAddress, port: config.http.port, websocketUrl: publicWebSocketUrl(config, running.wsPort), ready: () => ready, console: consoleFiles, storeSizes: running.sizes })
      : undefined;
  if (http) moduleLogger('server').info({ event: 'http.started', port: http.port, console: config.http.console }, `switchboard: operator HTTP on ${config.http.bindAddress}:${http.port} (/metrics, /health, /ready, /.well-known/host-meta${config.http.console ? ', the web console at /' : ''})`);

  const reload = reloader(config, argv, { c2s: running.c2s, setLogLevel });
  // SIGHUP reloads (the default action would end the process with 129).
  const onHangup = (): void => void reload();
  process.on('SIGHUP', onHangup);
  let admin: AdminSocket | undefined;
  const socketPath = adminSocketPath(config);
  if (socketPath !== undefined && running.admin) {
    try {
      admin = await startAdminSocket({
        path: socketPath,
        operations: running.admin,
        reload,
        version: version(),
        processStats: () => ({ version: version(), pid: process.pid, role: config.role, c2sConnections: running.c2sConnections?.() }),
      });
    } catch (err) {
      await running.stop();
      await http?.close();
      throw err;
    }
  }

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  ready = false;
  moduleLogger('server').info({ event: 'server.stopping' }, 'switchboard: shutting down');
  process.off('SIGHUP', onHangup);
  await admin?.close();
  await running.stop();
  await http?.close();
  await flushLogs();
  return 0;
}

/** SIGHUP and `switchboard reload`, one at a time: the command line read again and applied (ops/reload.ts). */
function reloader(started: ServerConfig, argv: string[], targets: ReloadTargets): () => Promise<ReloadReport> {
  let current = started;
  let queue: Promise<unknown> = Promise.resolve();
  const once = async (): Promise<ReloadReport> => {
    const log = moduleLogger('server');
    let next: ServerConfig;
    try {
      next = parseCommandLine(argv).config;
    } catch (err) {
      const report = { applied: [], needsRestart: [], warnings: [], errors: [`configuration: ${(err as Error).message}; nothing changed`] };
      log.error({ event: 'config.reload.failed', errors: report.errors }, `switchboard: reload refused: ${(err as Error).message}`);
      return report;
    }
    const { report, config } = await applyReload(current, next, targets);
    current = config;
    for (const w of report.warnings) log.warn({ event: 'tls.certificate' }, w);
    const restart = report.needsRestart.length > 0 ? `; needs a restart: ${report.needsRestart.join(', ')}` : '';
    const errors = report.errors.length > 0 ? `; not applied: ${report.errors.join('; ')}` : '';
    log[report.errors.length > 0 ? 'error' : 'info'](
      { event: 'config.reloaded', applied: report.applied, needsRestart: report.needsRestart, errors: report.errors },
      `switchboard: configuration reloaded: applied ${report.applied.length > 0 ? report.applied.join(', ') : 'nothing'}${restart}${errors}`,
    );
    return report;
  };
  return () => {
    const run = queue.then(once, once);
    queue = run;
    return run;
  };
}

interface Running {
  stop(): Promise<void>;
  /** The WebSocket listener's port, when this process has one. */
  wsPort: number | undefined;
  /** The administration: this process's sm, or in a cluster every shard's and process's over the router. */
  admin?: AdminEndpoint;
  /** This process's c2s, for a reload. */
  c2s?: ReloadTargets['c2s'];
  c2sConnections?(): number;
  /** The store's sizes for the gauges, in a process that runs an sm. */
  sizes?: StoreSizeSource;
}

async function serveAll(config: ServerConfig): Promise<Running> {
  const server = await startServer(config);
  moduleLogger('server').info({ event: 'server.started' }, `switchboard: serving ${config.domain}: ${describeListeners(config, server)}; data in ${config.dataDir} (${server.storage.kind})`);
  const c2sConnections = (): number => server.c2s.connectionCount;
  const cluster = server.router instanceof NatsRouter ? await startClusterAdmin(config, server.router, server.storage, () => ({ c2sConnections: c2sConnections(), shards: [...server.sms.keys()] })) : undefined;
  return {
    async stop() {
      await cluster?.close();
      await server.stop();
    },
    wsPort: server.wsPort,
    admin: cluster ?? localEndpoint(server.admin),
    sizes: storeSizes(server.storage),
    c2s: server,
    c2sConnections,
  };
}

/** One side of a cluster: the router must be NATS so the other side can be elsewhere. */
async function serveRole(config: ServerConfig): Promise<Running> {
  if (config.router.kind !== 'nats') throw new Error(`--role ${config.role} needs --nats URL (the other components run in other processes)`);
  const storage = await openStorage(config);
  const router = await openRouter(config);
  // Services run beside the sm unless they have processes of their own (`--role muc`).
  const withServices = config.role === 'muc' || (config.role === 'sm' && config.services === 'with-sm');
  const node = config.role === 'sm' ? await startSmNode(config, router, storage) : config.role === 'c2s' ? await startC2sNode(config, router, storage) : undefined;
  const services = withServices ? await startServicesNode(config, router, storage) : undefined;
  const what = node && 'c2sPort' in node ? describeListeners(config, node) : node ? 'session manager' : 'services';
  const serving = services ? `; services ${[...services.muc.keys()].join(', ')}` : '';
  moduleLogger('server').info({ event: 'server.started', role: config.role }, `switchboard: ${config.role} for ${config.domain} on ${config.router.url}: ${what}${serving} (${storage.kind})`);
  const c2sNode = node && 'c2s' in node ? node : undefined;
  const smNode = node && 'sms' in node ? node : undefined;
  // Every process of a cluster answers the admin socket for the whole cluster, over the router.
  const admin = await startClusterAdmin(config, router, storage, () => ({ c2sConnections: c2sNode?.c2s.connectionCount, shards: smNode ? [...smNode.sms.keys()] : [] }));
  return {
    wsPort: c2sNode?.wsPort,
    admin,
    sizes: smNode ? storeSizes(storage) : undefined,
    c2s: c2sNode,
    c2sConnections: c2sNode ? () => c2sNode.c2s.connectionCount : undefined,
    async stop() {
      await admin.close();
      await services?.stop();
      await node?.stop();
      await router.close();
      await storage.close();
    },
  };
}

/** This process's part in the administration of its cluster (admin/cluster.ts). */
async function startClusterAdmin(config: ServerConfig, router: Router, storage: Storage, own: () => { c2sConnections: number | undefined; shards: number[] }): Promise<ClusterAdmin> {
  const startedAt = Date.now();
  return ClusterAdmin.start({
    router,
    shards: new ShardMap(config.shards),
    accounts: storage.accounts,
    userData: storage.userData,
    domain: prepareDomainpart(config.domain) ?? config.domain,
    scramIterations: config.scramIterations,
    node: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    answerMs: config.timeouts.adminSeconds * 1000,
    processStats: () => {
      const { c2sConnections, shards } = own();
      return { role: config.role, pid: process.pid, version: version(), uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000), rssBytes: process.memoryUsage().rss, c2sConnections, shards };
    },
  });
}

function describeListeners(config: ServerConfig, node: { c2sPort: number; c2sDirectTlsPort: number | undefined; wsPort: number | undefined }): string {
  const direct = node.c2sDirectTlsPort !== undefined ? `, direct TLS ${config.bindAddress}:${node.c2sDirectTlsPort}` : '';
  const ws = node.wsPort !== undefined ? `, WebSocket ${config.wsTls ? 'wss' : 'ws'}://${config.bindAddress}:${node.wsPort}${config.wsPath}` : '';
  return `c2s ${config.bindAddress}:${node.c2sPort}${direct}${ws}`;
}

installProcessGuards();
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A mistake in the configuration is a usage error (2); anything else that stops the start is 1.
    console.error(`switchboard: ${describeStartError(err)}`);
    process.exit(isConfigError(err) ? 2 : 1);
  },
);
