// switchboard sessions list | session kick JID | stats | reload: commands
// that only mean something to a running server, sent over its admin socket.
// Exit codes: 0 done, 1 refused or no server running, 2 bad usage.

import type { ServerConfig } from '../config.ts';
import { AdminClient, adminSocketPath } from '../admin/socket-client.ts';
import type { AdminReply } from '../admin/protocol.ts';
import type { ComponentStats, SessionsReport, StatsReport, Unanswered } from '../admin/endpoint.ts';
import type { UserCommandOutput } from './user.ts';

export const ADMIN_USAGE = `  switchboard sessions list            the running server's sessions
  switchboard session kick JID         end a session (full JID) or all of a user's (bare JID)
  switchboard stats                    sessions, users, accounts, memory, uptime
  switchboard reload                   re-read the configuration (as SIGHUP does)`;

const consoleOutput: UserCommandOutput = { out: (l) => console.log(l), err: (l) => console.error(l) };

type Parsed = { op: 'sessions.list' } | { op: 'session.kick'; jid: string } | { op: 'stats' } | { op: 'reload' };

function parse(command: string, args: string[]): Parsed | undefined {
  if (command === 'sessions' && args.length === 1 && args[0] === 'list') return { op: 'sessions.list' };
  if (command === 'session' && args.length === 2 && args[0] === 'kick') return { op: 'session.kick', jid: args[1]! };
  if (command === 'stats' && args.length === 0) return { op: 'stats' };
  if (command === 'reload' && args.length === 0) return { op: 'reload' };
  return undefined;
}

function print(reply: AdminReply, parsed: Parsed, io: UserCommandOutput): number {
  if (!reply.ok) {
    io.err(reply.error.message);
    return reply.error.code === 'bad-jid' ? 2 : 1;
  }
  switch (parsed.op) {
    case 'sessions.list': {
      const { sessions, unanswered } = reply.result as SessionsReport;
      for (const s of sessions) io.out(`${s.jid}\t${s.available ? (s.show ?? 'available') : 'unavailable'}\tpriority ${s.priority}\t${s.c2s}\t${s.sm}`);
      io.err(`${sessions.length} session${sessions.length === 1 ? '' : 's'}`);
      return reportUnanswered(unanswered, io);
    }
    case 'session.kick': {
      const { ended } = reply.result as { ended: string[] };
      for (const jid of ended) io.out(`ended ${jid}`);
      return 0;
    }
    case 'stats': {
      const { components, unanswered, ...totals } = reply.result as StatsReport;
      for (const [k, v] of Object.entries(totals)) io.out(`${k}\t${String(v)}`);
      // In a cluster: one line per sm shard and per process, `component ADDRESS key=value …`.
      for (const c of components) io.out(`component\t${c.address}\t${describe(c)}`);
      return reportUnanswered(unanswered, io);
    }
    case 'reload': {
      const r = reply.result as { applied: string[]; needsRestart: string[]; errors: string[] };
      io.out(`applied: ${r.applied.length > 0 ? r.applied.join(', ') : 'nothing changed'}`);
      if (r.needsRestart.length > 0) io.out(`needs a restart: ${r.needsRestart.join(', ')}`);
      for (const e of r.errors) io.err(`not applied: ${e}`);
      return r.errors.length > 0 ? 1 : 0;
    }
  }
}

function describe(c: ComponentStats): string {
  return Object.entries(c)
    .filter(([k, v]) => k !== 'address' && v !== undefined)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
}

/** Components that did not answer make the answer partial: each named on stderr, and exit 1. */
function reportUnanswered(unanswered: Unanswered[], io: UserCommandOutput): number {
  for (const u of unanswered) io.err(`no answer from ${u.address}: ${u.reason}`);
  return unanswered.length > 0 ? 1 : 0;
}

export async function adminCommand(command: string, args: string[], config: ServerConfig, io: UserCommandOutput = consoleOutput): Promise<number> {
  const parsed = parse(command, args);
  if (!parsed) {
    io.err(`usage:\n${ADMIN_USAGE}`);
    return 2;
  }
  const path = adminSocketPath(config);
  if (path === undefined) {
    io.err('switchboard: adminSocket is off in this configuration; these commands need a running server with its admin socket');
    return 1;
  }
  const client = await AdminClient.connect(path);
  if (!client) {
    io.err(`switchboard: no server answers on ${path} (is it running, with this --data-dir or --config?)`);
    return 1;
  }
  try {
    const reply = parsed.op === 'session.kick' ? await client.request('session.kick', { jid: parsed.jid }) : await client.request(parsed.op, {});
    return print(reply, parsed, io);
  } finally {
    client.close();
  }
}
