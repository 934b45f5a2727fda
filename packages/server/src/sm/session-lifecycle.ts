// Sessions and users come and go here, through the internal protocol's
// `sm:session start|end` and `sm:sessions create|delete`, or because the sm
// itself ends a session (replaced, account removed, shutdown). Every ending
// passes through one destroy path; the c2s is told why, never its socket touched.

import type { Element } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { sessionControl, sessionsControl, type Control, type EndReason, type Envelope } from '../router/envelope.ts';
import type { ComponentAddress, Router } from '../router/router.ts';
import type { Storage } from '../storage/ports.ts';
import { channels } from '../diagnostics.ts';
import type { InstantMessaging } from './im.ts';
import type { Rosters } from './roster.ts';
import { SmSession } from './session.ts';
import type { SessionTable } from './sessions.ts';
import type { Chains } from './chains.ts';

/** The controls of the session and sessions namespaces. */
export type LifecycleControl = Extract<Control, { ns: 'session' | 'sessions' }>;

export interface SessionLifecycleDeps {
  router: Router;
  /** The sm's own address, the `from` of every envelope it sends. */
  address: ComponentAddress;
  domain: string;
  sessions: SessionTable;
  accounts: Storage['accounts'];
  rosters: Rosters;
  im: InstantMessaging;
  chains: Chains;
  /** Whether the user of a bare JID is this shard's (docs/protocol.md "Shards"). */
  owns(bare: string): boolean;
  /** RFC 6120 §7.6.2.1: most resources bound to one account at once. */
  maxResources: number;
  /** A stanza no client took, for RFC 6121 §8.5 to decide again (returned.ts). */
  /** Delivers, stores or answers a stanza handed back; settles when done, never rejects. */
  reroute(stanza: Element): Promise<void>;
}

export class SessionLifecycle {
  private nextId = 0;

  constructor(private readonly deps: SessionLifecycleDeps) {}

  /** The session an envelope from a c2s speaks for; undefined if it is not ours (any more). */
  sessionOf(envelope: Envelope): SmSession | undefined {
    const session = envelope.sm !== undefined ? this.deps.sessions.get(envelope.sm) : undefined;
    return session && session.c2sId === envelope.c2s ? session : undefined;
  }

  /** The envelope comes from a stream its session has left by resuming through another c2s. */
  private resumedAwayFrom(envelope: Envelope): boolean {
    const session = envelope.sm !== undefined ? this.deps.sessions.get(envelope.sm) : undefined;
    return session?.former?.has(`${envelope.from} ${envelope.c2s}`) ?? false;
  }

  /** Carries out a control; false when it cannot be, and the sender gets it back failed. */
  async perform(envelope: Envelope, control: LifecycleControl): Promise<boolean> {
    if (control.ns === 'sessions') {
      if (control.action === 'create') return this.createUser(envelope, control.target);
      if (control.action === 'delete') return this.deleteUser(envelope, control.target);
      return false;
    }
    if (control.action === 'start') return this.startSession(envelope, control.target, control.features ?? []);
    if (control.action === 'end') {
      const session = this.sessionOf(envelope);
      // XEP-0198: from a stream the session was resumed away from. What it hands back is in the sm's copy and
      // went to the new stream: rerouting it too would deliver it twice.
      if (!session && this.resumedAwayFrom(envelope)) return true;
      if (control.returned) {
        // A notice with stanzas handed back (the 510 race, an expired hibernation): it only invalidates, never answered.
        const reroute = (): Promise<void> => this.rerouteInOrder(control.returned!);
        if (!session) {
          void reroute();
          return true;
        }
        this.invalidate(session, control.reason ?? 'disconnected');
        // After the session's end has run in its queue: contacts see the unavailable presence
        // before the errors that answer what the session did not take (XEP-0166 §6.7 peers read it as "gone").
        session.queue.run(reroute);
        return true;
      }
      if (!session) return false;
      session.queue.run(() => {
        this.destroySession(session, control.reason ?? 'disconnected');
        this.deps.router.route({ to: envelope.from, from: this.deps.address, c2s: session.c2sId, sm: session.smId, payload: sessionControl('ended', session.fullJid, { reason: control.reason }) });
      });
      return true;
    }
    return false;
  }

  /**
   * `sm:session start`: bind a full JID; a session already bound to it is replaced (RFC 6120 §7.7.2.2).
   * `features`: XEP-0386 inline requests, which modules turn on at sessStart, before anything reaches the session.
   */
  private async startSession(envelope: Envelope, target: string, features: readonly Element[]): Promise<boolean> {
    const { sessions, router } = this.deps;
    const parsed = parseJid(target);
    if (!parsed.ok || envelope.c2s === undefined) return false;
    const jid = parsed.jid;
    if (jid.domain !== this.deps.domain || jid.local === undefined || jid.resource === undefined) return false;
    // Another shard's user (the c2s and this sm disagree on the shard count): refused, never served twice.
    if (!this.deps.owns(jid.bare().toString())) return false;
    if (!(await this.deps.accounts.accountExists(jid.local, jid.domain))) return false;
    const old = sessions.full(jid.toString());
    if (!old && sessions.bare(jid.bare().toString()).length >= this.deps.maxResources) {
      // RFC 6120 §7.6.2.1: the account has as many resources as it may; the c2s answers the bind with resource-constraint.
      router.route({ to: envelope.from, from: this.deps.address, c2s: envelope.c2s, payload: sessionControl('started', target, { failed: true, condition: 'resource-constraint' }) });
      return true;
    }
    if (old) this.endSession(old, 'replaced');
    const session = new SmSession(`sm${(++this.nextId).toString(36)}`, envelope.c2s, router.routeTo(envelope.from), jid);
    // The roster is loaded once, when the user's first resource binds, and shared (RFC 6121 §2.2).
    session.roster = await this.deps.rosters.retain(jid.local);
    const bound: Element[] = [];
    try {
      const user = { username: jid.local, bare: session.bareJid };
      if (sessions.bare(session.bareJid).length === 0) await this.deps.chains.emitStrict('userLoad', user);
      await this.deps.chains.emitStrict('sessStart', { session, features, bound });
    } catch (err) {
      // Refused: whatever the modules took for the session is given back through the one ending chain.
      this.deps.rosters.release(jid.local);
      await this.deps.chains.emit('sessEnd', { session, reason: 'disconnected', status: undefined });
      console.error('switchboard: session start refused', err);
      return false;
    }
    sessions.add(session);
    channels.smSessionStarted.publish({ jid: session.fullJid, sm: session.smId });
    router.route({ to: envelope.from, from: this.deps.address, c2s: envelope.c2s, sm: session.smId, payload: sessionControl('started', session.fullJid, { bound }) });
    return true;
  }

  /** `sm:sessions create`: the account was just created (credentials stored by the creator); set the user up. */
  private async createUser(envelope: Envelope, target: string): Promise<boolean> {
    const bare = await this.userCreated(target);
    if (bare === undefined) return false;
    this.deps.router.route({ to: envelope.from, from: this.deps.address, payload: sessionsControl('created', bare) });
    return true;
  }

  /** The one creation path after the account is stored (`sm:sessions create`, the admin operations): the modules set the user up. */
  async userCreated(target: string): Promise<string | undefined> {
    const parsed = parseJid(target);
    if (!parsed.ok || parsed.jid.local === undefined || parsed.jid.domain !== this.deps.domain) return undefined;
    if (!(await this.deps.accounts.accountExists(parsed.jid.local, parsed.jid.domain))) return undefined;
    const bare = parsed.jid.bare().toString();
    await this.deps.chains.emit('userCreate', { username: parsed.jid.local, bare });
    return bare;
  }

  /**
   * Ends the sessions of a bare JID (all of them) or of a full JID (that one) while the account
   * stays (a password changed, an administrator's kick); each c2s closes its stream with the
   * reason's stream error. Returns the full JIDs ended.
   */
  endSessionsOf(jid: string, reason: EndReason): string[] {
    const parsed = parseJid(jid);
    if (!parsed.ok || parsed.jid.local === undefined || parsed.jid.domain !== this.deps.domain) return [];
    const { sessions } = this.deps;
    const targets = parsed.jid.resource !== undefined ? [sessions.full(parsed.jid.toString())].filter((s) => s !== undefined) : [...sessions.bare(parsed.jid.bare().toString())];
    for (const session of targets) this.endSession(session, reason);
    return targets.map((s) => s.fullJid);
  }

  /** `sm:sessions delete`: end the user's sessions, then remove the account and all its data. */
  private async deleteUser(envelope: Envelope, target: string): Promise<boolean> {
    const bare = await this.removeUser(target);
    if (bare === undefined) return false;
    this.deps.router.route({ to: envelope.from, from: this.deps.address, payload: sessionsControl('deleted', bare) });
    return true;
  }

  /** The one removal path: sessions end with account-removed, then the account and its data go. */
  async removeUser(target: string): Promise<string | undefined> {
    const parsed = parseJid(target);
    if (!parsed.ok || parsed.jid.local === undefined || parsed.jid.domain !== this.deps.domain) return undefined;
    const bare = parsed.jid.bare().toString();
    for (const session of [...this.deps.sessions.bare(bare)]) this.endSession(session, 'account-removed');
    if (!(await this.deps.accounts.removeAccount(parsed.jid.local, parsed.jid.domain))) return undefined;
    this.deps.rosters.accountRemoved(parsed.jid.local);
    await this.deps.chains.emit('userDelete', { username: parsed.jid.local, bare });
    return bare;
  }

  /** The sm ends a session on its own: destroy it and tell its c2s why, so the c2s closes the stream. */
  endSession(session: SmSession, reason: EndReason): void {
    if (session.ended) return;
    this.destroySession(session, reason);
    session.c2s.send({ to: session.c2sAddress, from: this.deps.address, c2s: session.c2sId, sm: session.smId, payload: sessionControl('ended', session.fullJid, { reason }) });
  }

  /** The session's c2s is gone or already forgot it: destroy it without telling that c2s. */
  invalidate(session: SmSession, reason: EndReason): void {
    this.destroySession(session, reason);
  }

  /**
   * Stanzas handed back, one after the other: the offline store (PostgreSQL's pool runs inserts side by side) and
   * the next resource see them in the order the client would have.
   */
  private async rerouteInOrder(stanzas: Iterable<Element>): Promise<void> {
    for (const stanza of stanzas) await this.deps.reroute(stanza);
  }

  /** The single destroy path every ending goes through. */
  private destroySession(session: SmSession, reason: EndReason): void {
    if (session.ended) return;
    const { sessions, im, rosters, chains } = this.deps;
    session.ended = true;
    sessions.remove(session);
    // XEP-0198: a session hibernating in the sm (its c2s died) holds what its client never acknowledged; it is
    // stored or answered after the session's end, as a c2s hands it back. With a live c2s, the c2s's queue counts.
    const copy = session.resume;
    session.resume = undefined;
    const held = copy?.detached ? copy.takeAll() : (copy?.attach(), undefined);
    const status = session.presence?.getChildText('status');
    session.queue.run(async () => {
      try {
        // RFC 6121 §4.5.3: contacts learn of the end however it happened.
        await im.sessionEnded(session);
      } finally {
        // After the session's last stanza: it has held its user's roster since before it was bound, and the modules what they took at sessStart.
        rosters.release(session.username);
        await chains.emit('sessEnd', { session, reason, status });
      }
    });
    if (held) session.queue.run(() => this.rerouteInOrder(held));
    channels.smSessionEnded.publish({ jid: session.fullJid, reason });
  }
}
