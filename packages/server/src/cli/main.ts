#!/usr/bin/env node
// switchboard serve [--config FILE] [flags]   run the server
// switchboard user add|remove|passwd|list …   manage accounts in the configured store

import { loadConfig, type ServerConfig } from '../config.ts';
import { openRouter, startC2sNode, startServer, startServicesNode, startSmNode } from '../server.ts';
import { openStorage } from '../storage/open.ts';
import { userCommand } from './user.ts';
import { benchUsersCommand } from './bench-users.ts';
import { inviteCommand } from './invite.ts';
import { installProcessGuards } from '../process-guard.ts';
import { configureLogging, flushLogs, isLogLevel, moduleLogger } from '../log.ts';

const USAGE = `usage:
  switchboard serve [--config FILE] [--domain D] [--bind ADDR] [--c2s-port N] [--c2s-tls-port N] [--ws-port N]
                    [--data-dir DIR] [--tls-cert FILE --tls-key FILE] [--postgres URL]
                    [--allow-plaintext-on-loopback] [--nats URL --role all|c2s|sm|muc]
  switchboard user add JID PASSWORD
  switchboard user remove JID
  switchboard user passwd JID PASSWORD
  switchboard user list [DOMAIN]
  switchboard invite [TTL_SECONDS]        a single-use registration token (XEP-0445; registrationInvites)
  switchboard bench-users N [PASSWORD]   benchmark profile: user1..userN sharing one password
Every flag has an environment variable (SWITCHBOARD_DOMAIN, SWITCHBOARD_C2S_PORT, …); see README.md.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'bench-users': {
      const config = loadConfig(rest);
      return benchUsersCommand(rest.filter((_, i) => !isFlagOrValue(rest, i)), config);
    }
    case 'invite': {
      const config = loadConfig(rest);
      return inviteCommand(rest.filter((_, i) => !isFlagOrValue(rest, i)), config);
    }
    case 'user': {
      const config = loadConfig(rest);
      return userCommand(rest.filter((a, i) => !isFlagOrValue(rest, i)), config);
    }
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

/** Flags are read by loadConfig; the user subcommand sees only its own words. */
function isFlagOrValue(args: string[], i: number): boolean {
  const arg = args[i]!;
  if (arg.startsWith('--')) return true;
  const prev = args[i - 1];
  return prev !== undefined && prev.startsWith('--') && prev !== '--allow-plaintext-on-loopback' && prev !== '--registration';
}

async function serve(args: string[]): Promise<number> {
  const config = loadConfig(args);
  // The CLI logs at info unless told otherwise, inside a test runner too (the library alone is silent there).
  const level = process.env.SWITCHBOARD_LOG_LEVEL;
  configureLogging({ level: level && isLogLevel(level) ? level : 'info' });
  const stop = config.role === 'all' ? await serveAll(config) : await serveRole(config);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  moduleLogger('server').info({ event: 'server.stopping' }, 'switchboard: shutting down');
  await stop();
  await flushLogs();
  return 0;
}

async function serveAll(config: ServerConfig): Promise<() => Promise<void>> {
  const server = await startServer(config);
  moduleLogger('server').info({ event: 'server.started' }, `switchboard: serving ${config.domain}: ${describeListeners(config, server)}; data in ${config.dataDir} (${server.storage.kind})`);
  return () => server.stop();
}

/** One side of a cluster: the router must be NATS so the other side can be elsewhere. */
async function serveRole(config: ServerConfig): Promise<() => Promise<void>> {
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
  return async () => {
    await services?.stop();
    await node?.stop();
    await router.close();
    await storage.close();
  };
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
    console.error('switchboard:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
