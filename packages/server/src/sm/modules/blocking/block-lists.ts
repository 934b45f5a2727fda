// XEP-0191 blocking command: the block list (kept in memory while the user
// is online), its iq protocol with pushes, and the match the module's chain
// handlers (index.ts) make on every stanza to and from a user.

import { xml, type Element } from '@switchboard/xml';
import { parseJid, type Jid } from '@switchboard/jid';
import { stanzaError, type StanzaError } from '@switchboard/protocol';
import type { UserDataStore } from '../../../storage/ports.ts';
import type { IqContext, IqOutcome } from '../../iq-handlers.ts';
import type { SmSession } from '../../session.ts';
import type { SessionTable } from '../../sessions.ts';
import { HeldByUser } from '../../held-by-user.ts';

export const NS_BLOCKING = 'urn:xmpp:blocking';
export const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';

export interface BlockingDeps {
  domain: string;
  userData: UserDataStore;
  sessions: SessionTable;
  sendTo(session: SmSession, stanza: Element): void;
  /** Tells a newly blocked contact the user is gone (XEP-0191 §3.2). */
  sendUnavailableTo(username: string, jid: string): void;
}

export class BlockLists {
  /** The lists of users with sessions (held-by-user.ts): the stanza path never reads storage for an online user. */
  private readonly held: HeldByUser<Set<string>>;
  /** How many held lists are not empty. */
  private nonEmptyHeld = 0;
  private pushId = 0;

  constructor(private readonly deps: BlockingDeps) {
    this.held = new HeldByUser((username) => this.read(username), {
      loaded: (list) => {
        if (list.size > 0) this.nonEmptyHeld++;
      },
      dropped: (list) => {
        if (list.size > 0) this.nonEmptyHeld--;
      },
    });
  }

  /** Whether any user with a session blocks anyone; while none does, no online user's list can match. */
  get anyHeldBlocks(): boolean {
    return this.nonEmptyHeld > 0;
  }

  async load(username: string): Promise<Set<string>> {
    return this.held.get(username);
  }

  private async read(username: string): Promise<Set<string>> {
    const rows = await this.deps.userData.list(username, this.deps.domain, 'block');
    return new Set(rows.map((r) => r.key));
  }

  /** One more session holds the user's list (at bind); each retain is paired with one release. */
  async retain(username: string): Promise<void> {
    await this.held.retain(username);
  }

  /** One session fewer holds the list (once it has ended); the last one lets it go. */
  release(username: string): void {
    this.held.release(username);
  }

  /** The account is gone with its data: a list its ending sessions still hold is emptied to match. */
  accountRemoved(username: string): void {
    const list = this.held.peek(username);
    if (!list || list.size === 0) return;
    list.clear();
    this.nonEmptyHeld--;
  }

  /** Synchronous when the user is online (the hot path); undefined when the list is not in memory. */
  blockedSync(username: string, who: Jid): boolean | undefined {
    const list = this.held.peek(username);
    return list === undefined ? undefined : matches(list, who);
  }

  async blocked(username: string, who: Jid): Promise<boolean> {
    return matches(await this.load(username), who);
  }

  private add(username: string, list: Set<string>, jid: string): void {
    if (list.has(jid)) return;
    list.add(jid);
    if (list.size === 1 && this.held.peek(username) === list) this.nonEmptyHeld++;
  }

  private remove(username: string, list: Set<string>, jid: string): void {
    if (list.delete(jid) && list.size === 0 && this.held.peek(username) === list) this.nonEmptyHeld--;
  }

  async iq(ctx: IqContext): Promise<IqOutcome> {
    const session = ctx.session;
    if (!session || ctx.account !== session.bareJid) return stanzaError('forbidden');
    const username = session.username;
    const list = await this.load(username);
    if (ctx.payload.name === 'blocklist') {
      if (ctx.type !== 'get') return stanzaError('bad-request');
      session.blocklistRequested = true;
      return xml('blocklist', { xmlns: NS_BLOCKING }, [...list].sort().map((jid) => xml('item', { jid })));
    }
    if (ctx.type !== 'set') return stanzaError('bad-request');
    const items = readItems(ctx.payload);
    if (!Array.isArray(items)) return items;
    if (ctx.payload.name === 'block') {
      // §3.2: at least one item.
      if (items.length === 0) return stanzaError('bad-request');
      for (const jid of items) {
        this.add(username, list, jid);
        await this.deps.userData.set(username, this.deps.domain, 'block', jid, '');
        this.deps.sendUnavailableTo(username, jid);
      }
    } else if (ctx.payload.name === 'unblock') {
      // §3.3: no item means everything.
      const targets = items.length === 0 ? [...list] : items;
      for (const jid of targets) {
        this.remove(username, list, jid);
        await this.deps.userData.delete(username, this.deps.domain, 'block', jid);
      }
    } else {
      return stanzaError('bad-request');
    }
    this.push(session.bareJid, xml(ctx.payload.name, { xmlns: NS_BLOCKING }, items.map((jid) => xml('item', { jid }))));
    return undefined;
  }

  /** §3.2/3.3: every resource that asked for the block list learns the change. */
  private push(bare: string, payload: Element): void {
    for (const s of this.deps.sessions.bare(bare)) {
      if (s.blocklistRequested) this.deps.sendTo(s, xml('iq', { type: 'set', id: `block${++this.pushId}`, to: s.fullJid }, payload));
    }
  }
}

function readItems(payload: Element): string[] | StanzaError {
  const out: string[] = [];
  for (const item of payload.getChildren('item')) {
    const parsed = parseJid(item.attrs.jid ?? '');
    if (!parsed.ok) return stanzaError('jid-malformed');
    out.push(parsed.jid.toString());
  }
  return out;
}

/** A blocked JID matches itself, and a bare or domain entry matches everything under it (§3.2). */
function matches(list: Set<string>, who: Jid): boolean {
  if (list.size === 0) return false;
  return list.has(who.toString()) || list.has(who.bare().toString()) || list.has(who.domain);
}

/** §3.4: what the user gets when sending to someone they blocked. */
export function blockedError(): StanzaError {
  return stanzaError('not-acceptable', { application: xml('blocked', { xmlns: NS_BLOCKING_ERRORS }) });
}
