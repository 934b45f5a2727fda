// The administration of a cluster from any one of its processes (issue #22,
// docs/protocol.md "Administration over the router"). The process attaches
// `admin/<node>` on the router: answers to what it asked come back there, and
// other processes ask it for its own figures there. A user's operation goes
// to the address of the sm shard that holds the user (router/shards.ts), so it
// reaches whichever process serves that shard now; lists and counts ask every
// shard, and `stats` every live process too.
//
// Each request carries an id of 96 random bits; an answer is taken only when
// its id is pending and it comes from the very address asked, for the op
// asked, and its body matches that op's schema (admin/route-protocol.ts).
// Anything else is refused and logged. A component that cannot be reached
// (the router hands the request back) or does not answer within the bound is
// reported by address and reason; nothing waits forever.
//
// Passwords never cross the router: this process derives the SCRAM keys and
// writes them to the shared store, and asks the shard only to end sessions.

import { randomBytes } from 'node:crypto';
import { deriveScramCredentials } from '../auth/scram-credentials.ts';
import { adminRoutePayload, readAdminRoutePayload, type Envelope } from '../router/envelope.ts';
import type { ComponentAddress, Router } from '../router/router.ts';
import type { ShardMap } from '../router/shards.ts';
import type { AccountStore, UserDataStore } from '../storage/ports.ts';
import { moduleLogger } from '../log.ts';
import { checkPassword, DISABLED_ACCOUNTS_KIND, parseAccountJid, type AdminActor, type AdminErrorCode, type AdminResult, type SessionInfo } from './operations.ts';
import type { AdminEndpoint, ComponentStats, SessionsReport, StatsReport, Unanswered } from './endpoint.ts';
import { answerSchema, isProcessOp, parseBody, type RouteAnswer, type RouteArgs, type RouteOp, type RouteValue } from './route-protocol.ts';
import { parseJid } from '@switchboard/jid';

export const ADMIN_ADDRESS_PREFIX = 'admin/';

/** The router handed the request back: nobody serves the address, so the request did nothing. */
const UNSERVED = 'no component serves this address now';

export interface ClusterAdminOptions {
  router: Router;
  shards: ShardMap;
  accounts: AccountStore;
  userData: UserDataStore;
  /** The served domain, prepared. */
  domain: string;
  scramIterations: number;
  /** This process's name on the router (its address is `admin/<node>`). */
  node: string;
  /** How long an asked component has to answer. */
  answerMs: number;
  /** This process's own figures, for `process.stats`. */
  processStats(): RouteValue<'process.stats'>;
}

type Asked<Op extends RouteOp> = { answer: RouteAnswer<Op> } | { unanswered: Unanswered };

interface Pending {
  asked: ComponentAddress;
  op: RouteOp;
  settle(result: Asked<RouteOp>): void;
}

const fail = <T>(code: AdminErrorCode, message: string): AdminResult<T> => ({ ok: false, code, message });

export class ClusterAdmin implements AdminEndpoint {
  readonly address: ComponentAddress;
  readonly domain: string;
  private readonly pending = new Map<string, Pending>();
  /** The admin addresses of the cluster's live processes (router liveness). */
  private readonly processes = new Set<ComponentAddress>();
  private unwatch: (() => void) | undefined;
  private readonly startedAt = Date.now();
  private readonly log = moduleLogger('admin');

  private constructor(private readonly o: ClusterAdminOptions) {
    this.address = ADMIN_ADDRESS_PREFIX + o.node;
    this.domain = o.domain;
  }

  static async start(options: ClusterAdminOptions): Promise<ClusterAdmin> {
    const admin = new ClusterAdmin(options);
    await options.router.attach(admin.address, (e) => admin.receive(e), { undeliverable: (e, reason) => admin.undeliverable(e, reason) });
    admin.unwatch = options.router.watch((event) => {
      if (!event.address.startsWith(ADMIN_ADDRESS_PREFIX)) return;
      if (event.state === 'up') admin.processes.add(event.address);
      else admin.processes.delete(event.address);
    });
    return admin;
  }

  async close(): Promise<void> {
    this.unwatch?.();
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.settle({ unanswered: { address: p.asked, reason: 'this process is shutting down' } });
    }
    await this.o.router.detach(this.address);
  }

  /** Sends one request and resolves with its answer, or with why there is none. */
  private ask<Op extends RouteOp>(to: ComponentAddress, op: Op, args: RouteArgs<Op>): Promise<Asked<Op>> {
    const id = randomBytes(12).toString('base64url');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ unanswered: { address: to, reason: `no answer within ${this.o.answerMs} ms` } });
      }, this.o.answerMs);
      this.pending.set(id, {
        asked: to,
        op,
        settle: (result) => {
          clearTimeout(timer);
          resolve(result as Asked<Op>);
        },
      });
      this.o.router.route({ to, from: this.address, payload: adminRoutePayload({ action: 'request', id, op, body: JSON.stringify(args) }) });
    });
  }

  private receive(envelope: Envelope): void {
    const payload = readAdminRoutePayload(envelope.payload);
    if (!payload) return this.refuse(envelope, 'not an admin payload');
    if (payload.action === 'request') {
      // The one op a process answers for itself; a shard's ops go to shard addresses.
      const answer: RouteAnswer<RouteOp> = isProcessOp(payload.op) ? { ok: true, value: this.o.processStats() } : { ok: false, code: 'bad-request', message: `a process's admin address does not answer ${payload.op}` };
      this.o.router.route({ to: envelope.from, from: this.address, payload: adminRoutePayload({ action: 'answer', id: payload.id, op: payload.op, body: JSON.stringify(answer) }) });
      return;
    }
    const pending = this.pending.get(payload.id);
    // Only from whom was asked, for what was asked: a stray, late, replayed or forged answer changes nothing.
    if (!pending || pending.asked !== envelope.from || pending.op !== payload.op) return this.refuse(envelope, pending ? `answer from ${envelope.from}, asked ${pending.asked}` : 'no such request pending');
    this.pending.delete(payload.id);
    const answer = parseBody(answerSchema(pending.op), payload.body) as RouteAnswer<RouteOp> | undefined;
    pending.settle(answer ? { answer } : { unanswered: { address: pending.asked, reason: `a malformed ${pending.op} answer` } });
  }

  private refuse(envelope: Envelope, why: string): void {
    this.log.warn({ event: 'admin.answer.refused', from: envelope.from, why }, `admin: refused an envelope from ${envelope.from} on ${this.address}: ${why}`);
  }

  /** The router could not hand a request over (no sm serves that shard now, NATS down): its asker learns at once. */
  private undeliverable(envelope: Envelope, reason: string): void {
    const payload = readAdminRoutePayload(envelope.payload);
    const pending = payload?.action === 'request' ? this.pending.get(payload.id) : undefined;
    if (!payload || !pending) return;
    this.pending.delete(payload.id);
    pending.settle({ unanswered: { address: envelope.to, reason: reason === 'no-component' ? UNSERVED : `not delivered (${reason})` } });
  }

  /** Asks the shard that holds `bare` and turns "no answer" into a failure naming the shard. */
  private async askShard<Op extends 'user.created' | 'user.remove' | 'sessions.end'>(
    bare: string,
    op: Op,
    args: RouteArgs<Op>,
    meaning: { unknown: string; undone: string },
  ): Promise<AdminResult<RouteValue<Op>>> {
    const asked = await this.ask(this.o.shards.addressOf(bare), op, args);
    if ('unanswered' in asked) {
      const { address, reason } = asked.unanswered;
      // Handed back, the request did nothing there; unanswered, it may have.
      return fail('failed', `sm shard ${address} gave no answer (${reason}): ${reason === UNSERVED ? meaning.undone : meaning.unknown}`);
    }
    return asked.answer.ok ? { ok: true, value: asked.answer.value } : fail(asked.answer.code, asked.answer.message);
  }

  private audit(actor: AdminActor, event: string, target: string, extra: Record<string, unknown> = {}): void {
    this.log.info({ event, target, ...actor, ...extra }, `admin: ${event} ${target} (admin socket)`);
  }

  async addUser(jid: string, password: string, actor: AdminActor): Promise<AdminResult<{ jid: string }>> {
    const account = parseAccountJid(jid, this.domain);
    if (typeof account === 'string') return fail('bad-jid', account);
    const bad = checkPassword(password);
    if (bad) return fail('bad-password', bad);
    const created = await this.o.accounts.createAccount(account.local, account.domain, await deriveScramCredentials(password, this.o.scramIterations));
    if (!created.ok) return fail('exists', `${account.bare} already exists`);
    this.audit(actor, 'admin.user.added', account.bare);
    const setUp = await this.askShard(account.bare, 'user.created', { jid: account.bare }, {
      unknown: 'the account is stored; its shard sets it up when it first serves it',
      undone: 'the account is stored; its shard sets it up when it first serves it',
    });
    if (!setUp.ok) this.log.warn({ event: 'admin.user.setup', target: account.bare }, setUp.message);
    return { ok: true, value: { jid: account.bare } };
  }

  removeUser(jid: string): Promise<AdminResult<{ jid: string; sessionsEnded: number }>> {
    const account = parseAccountJid(jid, this.domain);
    if (typeof account === 'string') return Promise.resolve(fail('bad-jid', account));
    // The shard ends the sessions and removes the account (and audits it): `sm:sessions delete`'s path.
    return this.askShard(account.bare, 'user.remove', { jid: account.bare }, {
      unknown: 'whether the account was removed is unknown; run the command again',
      undone: 'nothing was removed; run the command again when a process serves the shard',
    });
  }

  async changePassword(jid: string, password: string, actor: AdminActor): Promise<AdminResult<{ jid: string; sessionsEnded: number }>> {
    const account = parseAccountJid(jid, this.domain);
    if (typeof account === 'string') return fail('bad-jid', account);
    const bad = checkPassword(password);
    if (bad) return fail('bad-password', bad);
    if (!(await this.o.accounts.setCredentials(account.local, account.domain, await deriveScramCredentials(password, this.o.scramIterations)))) {
      return fail('no-such-user', `no such account: ${account.bare}`);
    }
    // A new password enables a disabled account (admin/operations.ts disableUser).
    await this.o.userData.delete('', account.domain, DISABLED_ACCOUNTS_KIND, account.local);
    const ended = await this.askShard(account.bare, 'sessions.end', { jid: account.bare, reason: 'password-changed' }, {
      unknown: `the password of ${account.bare} is changed, but its live sessions may not have ended`,
      undone: `the password of ${account.bare} is changed; no process serves its shard, so it has no live session to end`,
    });
    this.audit(actor, 'admin.user.password-changed', account.bare, { sessionsEnded: ended.ok ? ended.value.ended.length : 'unknown' });
    return ended.ok ? { ok: true, value: { jid: account.bare, sessionsEnded: ended.value.ended.length } } : ended;
  }

  async listUsers(domain?: string): Promise<AdminResult<string[]>> {
    const host = domain ?? this.domain;
    return { ok: true, value: (await this.o.accounts.listAccounts(host)).map((u) => `${u}@${host}`) };
  }

  async listSessions(): Promise<SessionsReport> {
    const asked = await Promise.all(this.o.shards.addresses().map((a) => this.ask(a, 'sessions.list', {})));
    const sessions: SessionInfo[] = [];
    const unanswered: Unanswered[] = [];
    asked.forEach((a, i) => {
      if ('unanswered' in a) unanswered.push(a.unanswered);
      else if (a.answer.ok) sessions.push(...a.answer.value.map((x) => ({ ...x, show: x.show })));
      else unanswered.push({ address: this.o.shards.address(i), reason: a.answer.message });
    });
    sessions.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
    return { sessions, unanswered };
  }

  async kick(jid: string): Promise<AdminResult<{ ended: string[] }>> {
    const parsed = parseJid(jid);
    if (!parsed.ok || parsed.jid.local === undefined || parsed.jid.domain !== this.domain) return fail('bad-jid', `${jid} is not a JID on the served domain ${this.domain}`);
    return this.askShard(parsed.jid.bare().toString(), 'sessions.end', { jid: parsed.jid.toString(), reason: 'kicked' }, {
      unknown: 'whether the session ended is unknown',
      undone: 'no session was ended',
    });
  }

  async stats(): Promise<StatsReport> {
    const shardAddresses = this.o.shards.addresses();
    const processes = [...this.processes].sort();
    const [shards, procs, accounts] = await Promise.all([
      Promise.all(shardAddresses.map((a) => this.ask(a, 'stats', {}))),
      Promise.all(processes.map((a) => this.ask(a, 'process.stats', {}))),
      this.o.accounts.listAccounts(this.domain),
    ]);
    const components: ComponentStats[] = [];
    const unanswered: Unanswered[] = [];
    let sessions = 0;
    let onlineUsers = 0;
    shards.forEach((a, i) => {
      if ('unanswered' in a) return unanswered.push(a.unanswered);
      if (!a.answer.ok) return unanswered.push({ address: shardAddresses[i]!, reason: a.answer.message });
      sessions += a.answer.value.sessions;
      onlineUsers += a.answer.value.onlineUsers;
      components.push({ address: shardAddresses[i]!, ...a.answer.value });
    });
    procs.forEach((a, i) => {
      if ('unanswered' in a) return unanswered.push(a.unanswered);
      if (a.answer.ok) components.push({ address: processes[i]!, ...a.answer.value });
    });
    const memory = process.memoryUsage();
    return {
      domain: this.domain,
      sessions,
      onlineUsers,
      accounts: accounts.length,
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      components,
      unanswered,
    };
  }
}
