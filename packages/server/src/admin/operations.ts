// The administration of a running server, written once: the admin socket
// (admin/socket-server.ts, for the `switchboard` CLI) and the XEP-0133
// commands (sm/modules/adhoc/) both call these. They live beside the sm,
// which lends them its session table and its one removal path, so a removed
// account's sessions end exactly as `sm:sessions delete` ends them: the sm
// tells each c2s why (account-removed, password-changed, …) and the c2s closes
// the stream with the stream error of c2s/end-reasons.ts.
//
// Expected failures (a bad JID, an account that exists or does not) are
// results with a stable code, never throws.

import { randomBytes } from 'node:crypto';
import { parseJid, prepareDomainpart } from '@switchboard/jid';
import { deriveScramCredentials, preparePassword } from '../auth/scram-credentials.ts';
import type { EndReason } from '../router/envelope.ts';
import type { AccountStore, ScramCredentials, UserDataStore } from '../storage/ports.ts';
import { xml, type Element } from '@switchboard/xml';
import type { SmSession } from '../sm/session.ts';
import { moduleLogger } from '../log.ts';

export type AdminErrorCode = 'bad-request' | 'bad-jid' | 'bad-password' | 'exists' | 'no-such-user' | 'no-such-session' | 'failed';

export type AdminResult<T> = { ok: true; value: T } | { ok: false; code: AdminErrorCode; message: string };

/**
 * Who asked, for the log line every change leaves: `socket` (the local CLI), an admin's JID (XEP-0133),
 * or another process of the cluster over the router (its admin address; admin/cluster.ts).
 */
export type AdminActor = { via: 'socket' } | { via: 'xep0133'; jid: string } | { via: 'router'; from: string };

export interface SessionInfo {
  jid: string;
  /** The sm's id for the session. */
  sm: string;
  /** The c2s component that holds its stream. */
  c2s: string;
  /** RFC 6121 §1.5: has sent available presence. */
  available: boolean;
  priority: number;
  show: string | undefined;
}

export interface AdminStats {
  domain: string;
  sessions: number;
  onlineUsers: number;
  accounts: number;
  uptimeSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
}

/** The sessions the operations see: one sm's table, or the union of a process's shards (admin/shards.ts). */
export interface SessionView {
  readonly size: number;
  all(): Iterable<SmSession>;
  bare(bareJid: string): readonly SmSession[];
}

/** What the sm (or a process's shards) lends the operations. */
export interface AdminDeps {
  domain: string;
  accounts: AccountStore;
  /** Where a disabled account's credentials wait to be enabled again, and each user's last login. */
  userData: UserDataStore;
  sessions: SessionView;
  scramIterations: number;
  /** The user's sessions are held here (its sm shard runs in this process); always true unsharded. */
  serves(bare: string): boolean;
  /** Sends a stanza to one session's client. */
  sendTo(session: SmSession, stanza: Element): void;
  /** The modules set a stored account up (`sm:sessions create`'s path). */
  userCreated(bare: string): Promise<string | undefined>;
  /** `sm:sessions delete`'s path: the sessions end (account-removed), then the account and its data go. */
  removeUser(bare: string): Promise<string | undefined>;
  /** Ends the sessions of a bare or full JID with a reason; returns the full JIDs ended. */
  endSessions(jid: string, reason: EndReason): string[];
  /** Where each change is recorded; a log line (event admin.*) unless given. */
  audit?(line: { event: string; target: string; actor: AdminActor; extra: Record<string, unknown> }): void;
}

/**
 * XEP-0133 §4.3/§4.4: a disabled account's own credentials, kept server-wide (username '') by its
 * username until reenable-user puts them back; the list is the disabled users (§4.14, §4.19).
 */
export const DISABLED_ACCOUNTS_KIND = 'disabled-accounts';
/** The time of the user's last session start (XEP-0133 §4.9), written by the adhoc module at each login. */
export const LAST_LOGIN_KIND = 'lastlogin';

const fail = <T>(code: AdminErrorCode, message: string): AdminResult<T> => ({ ok: false, code, message });
const done = <T>(value: T): AdminResult<T> => ({ ok: true, value });

/** RFC 7622: a bare JID with a localpart on the served domain, or an error line. */
export function parseAccountJid(input: string, served: string): { local: string; domain: string; bare: string } | string {
  const parsed = parseJid(input);
  if (!parsed.ok) return `invalid JID ${input}: ${parsed.reason}`;
  const { local, domain, resource } = parsed.jid;
  if (local === undefined || resource !== undefined) return `${input} is not a bare JID (user@domain)`;
  if (domain !== served) return `${input} is not on the served domain ${served}`;
  return { local, domain, bare: `${local}@${domain}` };
}

/** RFC 4013: a password that survives SASLprep, or no client could ever log in with it; an error line otherwise. */
export function checkPassword(password: string): string | undefined {
  return preparePassword(password) ? undefined : 'the password is empty or has characters SASLprep prohibits';
}

export class AdminOperations {
  private readonly startedAt = Date.now();
  /** The served domain, prepared (RFC 7622). */
  readonly domain: string;

  constructor(private readonly deps: AdminDeps) {
    this.domain = prepareDomainpart(deps.domain) ?? deps.domain;
  }

  private account(jid: string): { local: string; domain: string; bare: string } | AdminResult<never> {
    const account = parseAccountJid(jid, this.domain);
    if (typeof account === 'string') return fail('bad-jid', account);
    // With shards over several processes, a user's sessions are where its shard is served: only there can they be ended.
    if (!this.deps.serves(account.bare)) return fail('failed', `${account.bare} belongs to an sm shard another process serves; run this on that process's host`);
    return account;
  }

  private audit(actor: AdminActor, event: string, target: string, extra: Record<string, unknown> = {}): void {
    if (this.deps.audit) return this.deps.audit({ event, target, actor, extra });
    // Never a password: only who, what and whom.
    const who = actor.via === 'socket' ? 'admin socket' : actor.via === 'router' ? `admin socket of ${actor.from}` : actor.jid;
    moduleLogger('admin').info({ event, target, ...actor, ...extra }, `admin: ${event} ${target} (${who})`);
  }

  async addUser(jid: string, password: string, actor: AdminActor): Promise<AdminResult<{ jid: string }>> {
    const account = this.account(jid);
    if ('ok' in account) return account;
    const bad = checkPassword(password);
    if (bad) return fail('bad-password', bad);
    const created = await this.deps.accounts.createAccount(account.local, account.domain, await deriveScramCredentials(password, this.deps.scramIterations));
    if (!created.ok) return fail('exists', `${account.bare} already exists`);
    await this.deps.userCreated(account.bare);
    this.audit(actor, 'admin.user.added', account.bare);
    return done({ jid: account.bare });
  }

  /** Ends the user's sessions (not-authorized) and removes the account and all its data. */
  async removeUser(jid: string, actor: AdminActor): Promise<AdminResult<{ jid: string; sessionsEnded: number }>> {
    const account = this.account(jid);
    if ('ok' in account) return account;
    const sessionsEnded = this.deps.sessions.bare(account.bare).length;
    if (!(await this.deps.accounts.accountExists(account.local, account.domain))) return fail('no-such-user', `no such account: ${account.bare}`);
    if ((await this.deps.removeUser(account.bare)) === undefined) return fail('no-such-user', `no such account: ${account.bare}`);
    await this.deps.userData.delete('', account.domain, DISABLED_ACCOUNTS_KIND, account.local);
    this.audit(actor, 'admin.user.removed', account.bare, { sessionsEnded });
    return done({ jid: account.bare, sessionsEnded });
  }

  /** New credentials, then every session of the user ends (stream error reset): each must log in again. */
  async changePassword(jid: string, password: string, actor: AdminActor): Promise<AdminResult<{ jid: string; sessionsEnded: number }>> {
    const account = this.account(jid);
    if ('ok' in account) return account;
    const bad = checkPassword(password);
    if (bad) return fail('bad-password', bad);
    if (!(await this.deps.accounts.setCredentials(account.local, account.domain, await deriveScramCredentials(password, this.deps.scramIterations)))) {
      return fail('no-such-user', `no such account: ${account.bare}`);
    }
    // A new password enables a disabled account: what disable-user put aside is obsolete.
    await this.deps.userData.delete('', account.domain, DISABLED_ACCOUNTS_KIND, account.local);
    const ended = this.deps.endSessions(account.bare, 'password-changed');
    this.audit(actor, 'admin.user.password-changed', account.bare, { sessionsEnded: ended.length });
    return done({ jid: account.bare, sessionsEnded: ended.length });
  }

  /**
   * Disables an account (XEP-0133 §4.3): its credentials are put aside and replaced by those of a
   * random password nobody knows, and its sessions end (not-authorized); its data stays.
   * reenable-user puts the old credentials back (the old password works again); a new password enables it too.
   */
  async disableUser(jid: string, actor: AdminActor): Promise<AdminResult<{ jid: string; sessionsEnded: number }>> {
    const account = this.account(jid);
    if ('ok' in account) return account;
    const current = await this.deps.accounts.getAccount(account.local, account.domain);
    if (!current) return fail('no-such-user', `no such account: ${account.bare}`);
    // Disabled twice, the first credentials stay put aside (not the unknowable ones of the first time).
    if ((await this.deps.userData.get('', account.domain, DISABLED_ACCOUNTS_KIND, account.local)) === undefined) {
      await this.deps.userData.set('', account.domain, DISABLED_ACCOUNTS_KIND, account.local, JSON.stringify(current.credentials));
    }
    const unknowable = randomBytes(32).toString('base64url');
    if (!(await this.deps.accounts.setCredentials(account.local, account.domain, await deriveScramCredentials(unknowable, this.deps.scramIterations)))) {
      return fail('no-such-user', `no such account: ${account.bare}`);
    }
    const ended = this.deps.endSessions(account.bare, 'account-disabled');
    this.audit(actor, 'admin.user.disabled', account.bare, { sessionsEnded: ended.length });
    return done({ jid: account.bare, sessionsEnded: ended.length });
  }

  /** XEP-0133 §4.4: the credentials put aside by disableUser come back. */
  async reenableUser(jid: string, actor: AdminActor): Promise<AdminResult<{ jid: string }>> {
    const account = this.account(jid);
    if ('ok' in account) return account;
    const saved = await this.deps.userData.get('', account.domain, DISABLED_ACCOUNTS_KIND, account.local);
    if (saved === undefined) {
      const exists = await this.deps.accounts.accountExists(account.local, account.domain);
      return exists ? fail('bad-request', `${account.bare} is not disabled`) : fail('no-such-user', `no such account: ${account.bare}`);
    }
    if (!(await this.deps.accounts.setCredentials(account.local, account.domain, JSON.parse(saved) as ScramCredentials))) {
      await this.deps.userData.delete('', account.domain, DISABLED_ACCOUNTS_KIND, account.local);
      return fail('no-such-user', `no such account: ${account.bare}`);
    }
    await this.deps.userData.delete('', account.domain, DISABLED_ACCOUNTS_KIND, account.local);
    this.audit(actor, 'admin.user.reenabled', account.bare);
    return done({ jid: account.bare });
  }

  /** XEP-0133 §4.19: the disabled accounts, bare JIDs in order. */
  async listDisabled(): Promise<string[]> {
    return (await this.deps.userData.list('', this.domain, DISABLED_ACCOUNTS_KIND)).map((r) => `${r.key}@${this.domain}`);
  }

  /** XEP-0133 §4.9: when the user last started a session (XEP-0082 DateTime), or undefined if never since it was recorded. */
  async lastLogin(jid: string): Promise<AdminResult<{ jid: string; at: string | undefined }>> {
    const account = parseAccountJid(jid, this.domain);
    if (typeof account === 'string') return fail('bad-jid', account);
    if (!(await this.deps.accounts.accountExists(account.local, account.domain))) return fail('no-such-user', `no such account: ${account.bare}`);
    return done({ jid: account.bare, at: await this.deps.userData.get(account.local, account.domain, LAST_LOGIN_KIND, '') });
  }

  /** The account was stored by another process (admin/cluster.ts): the modules set the user up here. */
  async userCreated(jid: string): Promise<AdminResult<{ jid: string }>> {
    const account = this.account(jid);
    if ('ok' in account) return account;
    const bare = await this.deps.userCreated(account.bare);
    return bare === undefined ? fail('no-such-user', `no such account: ${account.bare}`) : done({ jid: bare });
  }

  /** Ends sessions for a change another process made in the store (a password, a disabled account); no audit line here, the asker leaves it. */
  endSessions(jid: string, reason: 'password-changed' | 'account-disabled'): AdminResult<{ ended: string[] }> {
    const parsed = parseJid(jid);
    if (!parsed.ok || parsed.jid.local === undefined || parsed.jid.domain !== this.domain) return fail('bad-jid', `${jid} is not a JID on the served domain ${this.domain}`);
    if (!this.deps.serves(parsed.jid.bare().toString())) return fail('failed', `${parsed.jid.bare().toString()} belongs to an sm shard another process serves`);
    return done({ ended: this.deps.endSessions(parsed.jid.toString(), reason) });
  }

  /** The sessions of a bare JID this process holds. */
  sessionsOf(bare: string): readonly SmSession[] {
    return this.deps.sessions.bare(bare);
  }

  sessionCount(): number {
    return this.deps.sessions.size;
  }

  async listUsers(domain?: string): Promise<AdminResult<string[]>> {
    const host = domain === undefined ? this.domain : prepareDomainpart(domain);
    if (host === undefined) return fail('bad-jid', `invalid domain ${domain}`);
    return done((await this.deps.accounts.listAccounts(host)).map((u) => `${u}@${host}`));
  }

  listSessions(): SessionInfo[] {
    return [...this.deps.sessions.all()]
      .map((s) => ({ jid: s.fullJid, sm: s.smId, c2s: s.c2sAddress, available: s.available, priority: s.priority, show: s.presence?.getChildText('show') }))
      .sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  }

  /** Bare JIDs with at least one available session (XEP-0133 "online"). */
  onlineUsers(): string[] {
    const out = new Set<string>();
    for (const s of this.deps.sessions.all()) if (s.available) out.add(s.bareJid);
    return [...out].sort();
  }

  /** Ends one session (a full JID) or every session of a user (a bare JID) with policy-violation. */
  kick(jid: string, actor: AdminActor): AdminResult<{ ended: string[] }> {
    const parsed = parseJid(jid);
    if (!parsed.ok || parsed.jid.local === undefined || parsed.jid.domain !== this.domain) return fail('bad-jid', `${jid} is not a JID on the served domain ${this.domain}`);
    if (!this.deps.serves(parsed.jid.bare().toString())) return fail('failed', `${parsed.jid.bare().toString()} belongs to an sm shard another process serves`);
    const ended = this.deps.endSessions(parsed.jid.toString(), 'kicked');
    if (ended.length === 0) return fail('no-such-session', `no session for ${parsed.jid.toString()}`);
    this.audit(actor, 'admin.session.kicked', parsed.jid.toString(), { ended });
    return done({ ended });
  }

  /** XEP-0133 §4.23: a headline from the server to every available session; returns how many got it. */
  announce(subject: string | undefined, body: string, actor: AdminActor): number {
    let sent = 0;
    for (const session of this.deps.sessions.all()) {
      if (!session.available) continue;
      this.deps.sendTo(session, xml('message', { type: 'headline', from: this.domain, to: session.fullJid }, subject !== undefined && xml('subject', {}, subject), xml('body', {}, body)));
      sent++;
    }
    this.audit(actor, 'admin.announced', this.domain, { sessions: sent });
    return sent;
  }

  async stats(): Promise<AdminStats> {
    const memory = process.memoryUsage();
    return {
      domain: this.domain,
      sessions: this.deps.sessions.size,
      onlineUsers: this.onlineUsers().length,
      accounts: (await this.deps.accounts.listAccounts(this.domain)).length,
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    };
  }
}
