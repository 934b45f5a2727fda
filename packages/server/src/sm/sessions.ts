import type { SmSession } from './session.ts';

/** Every live session, findable by sm id, full JID and bare JID. */
export class SessionTable {
  private readonly bySmId = new Map<string, SmSession>();
  private readonly byFull = new Map<string, SmSession>();
  private readonly byBare = new Map<string, SmSession[]>();

  get size(): number {
    return this.bySmId.size;
  }

  add(session: SmSession): void {
    this.bySmId.set(session.smId, session);
    this.byFull.set(session.fullJid, session);
    const list = this.byBare.get(session.bareJid);
    if (list) list.push(session);
    else this.byBare.set(session.bareJid, [session]);
  }

  remove(session: SmSession): void {
    if (this.bySmId.get(session.smId) !== session) return;
    this.bySmId.delete(session.smId);
    if (this.byFull.get(session.fullJid) === session) this.byFull.delete(session.fullJid);
    const list = this.byBare.get(session.bareJid);
    if (!list) return;
    const rest = list.filter((s) => s !== session);
    if (rest.length > 0) this.byBare.set(session.bareJid, rest);
    else this.byBare.delete(session.bareJid);
  }

  get(smId: string): SmSession | undefined {
    return this.bySmId.get(smId);
  }

  full(fullJid: string): SmSession | undefined {
    return this.byFull.get(fullJid);
  }

  /** The user's sessions, connected resources first to last bound. */
  bare(bareJid: string): readonly SmSession[] {
    return this.byBare.get(bareJid) ?? [];
  }

  all(): IterableIterator<SmSession> {
    return this.bySmId.values();
  }
}
