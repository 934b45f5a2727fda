// What the admin socket asks of a running server, whether it is one process
// (the operations over this process's sms, answered at once) or one process
// of a cluster (admin/cluster.ts: the sm shard that holds the user is asked
// over the router, lists and counts span every shard). A shard that does not
// answer within the bound is named in `unanswered`, never waited on forever.

import type { AdminActor, AdminOperations, AdminResult, AdminStats, SessionInfo } from './operations.ts';

/** A component asked that gave no answer: its address, and why (no component there, no answer within the bound, …). */
export interface Unanswered {
  address: string;
  reason: string;
}

/** One component's own figures in `stats`: an sm shard's sessions, or a process's role, pid, memory, connections. */
export type ComponentStats = { address: string } & Record<string, string | number | number[] | undefined>;

export interface SessionsReport {
  sessions: SessionInfo[];
  unanswered: Unanswered[];
}

export type StatsReport = AdminStats & { components: ComponentStats[]; unanswered: Unanswered[] };

export interface AdminEndpoint {
  readonly domain: string;
  addUser(jid: string, password: string, actor: AdminActor): Promise<AdminResult<{ jid: string }>>;
  removeUser(jid: string, actor: AdminActor): Promise<AdminResult<{ jid: string; sessionsEnded: number }>>;
  changePassword(jid: string, password: string, actor: AdminActor): Promise<AdminResult<{ jid: string; sessionsEnded: number }>>;
  listUsers(domain?: string): Promise<AdminResult<string[]>>;
  listSessions(): Promise<SessionsReport>;
  kick(jid: string, actor: AdminActor): Promise<AdminResult<{ ended: string[] }>>;
  stats(): Promise<StatsReport>;
}

/** One process that runs every sm it needs: the operations themselves. */
export function localEndpoint(ops: AdminOperations): AdminEndpoint {
  return {
    domain: ops.domain,
    addUser: (jid, password, actor) => ops.addUser(jid, password, actor),
    removeUser: (jid, actor) => ops.removeUser(jid, actor),
    changePassword: (jid, password, actor) => ops.changePassword(jid, password, actor),
    listUsers: (domain) => ops.listUsers(domain),
    listSessions: async () => ({ sessions: ops.listSessions(), unanswered: [] }),
    kick: async (jid, actor) => ops.kick(jid, actor),
    stats: async () => ({ ...(await ops.stats()), components: [], unanswered: [] }),
  };
}
