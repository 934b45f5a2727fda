// RFC 6121 §2: rosters. Loaded from storage once when a user's first
// resource binds and kept while the user has sessions; every change is
// written through and pushed to the user's interested resources.

import { Element, xml } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { NS_ROSTER, stanzaError, type StanzaError } from '@switchboard/protocol';
import type { RosterItem, RosterStore } from '../storage/ports.ts';
import { NO_STATE, type SubState } from './subscription.ts';
import { HeldByUser } from './held-by-user.ts';

export interface LoadedRoster {
  version: number;
  items: Map<string, RosterItem>;
}

export const MAX_NAME_LENGTH = 1024;
export const MAX_GROUP_LENGTH = 1024;

export class Rosters {
  /** The rosters of users with sessions (held-by-user.ts). */
  private readonly held: HeldByUser<LoadedRoster>;

  constructor(
    private readonly store: RosterStore,
    private readonly host: string,
  ) {
    this.held = new HeldByUser((username) => this.read(username));
  }

  /** The user's roster, from memory when the user is online. */
  async load(username: string): Promise<LoadedRoster> {
    return this.held.get(username);
  }

  private async read(username: string): Promise<LoadedRoster> {
    const roster = await this.store.getRoster(username, this.host);
    return { version: roster.version, items: new Map(roster.items.map((i) => [i.jid, i])) };
  }

  /** One more session holds the user's roster (at bind); each retain is paired with one release. */
  retain(username: string): Promise<LoadedRoster> {
    return this.held.retain(username);
  }

  /** One session fewer holds the roster (once it has ended); the last one lets it go. */
  release(username: string): void {
    this.held.release(username);
  }

  /** The account is gone with its data: sessions still holding its roster (ending, or bound again) see it empty. */
  accountRemoved(username: string): void {
    this.held.replace(username, { version: 0, items: new Map() });
  }

  async put(username: string, item: RosterItem): Promise<number> {
    const roster = await this.load(username);
    const version = await this.store.putItem(username, this.host, item);
    roster.items.set(item.jid, item);
    roster.version = version;
    return version;
  }

  async remove(username: string, jid: string): Promise<number> {
    const roster = await this.load(username);
    const version = await this.store.removeItem(username, this.host, jid);
    roster.items.delete(jid);
    roster.version = version;
    return version;
  }

  /** The subscription state toward a contact (none when not in the roster). */
  async state(username: string, contact: string): Promise<SubState> {
    const item = (await this.load(username)).items.get(contact);
    return item ? { subscription: item.subscription, ask: item.ask, pendingIn: item.pendingIn, approved: item.approved } : NO_STATE;
  }
}

/** `<item/>` as the user sees it (§2.1.2); `remove` for a push that deletes. */
export function itemElement(item: RosterItem, remove = false): Element {
  return xml(
    'item',
    {
      jid: item.jid,
      name: remove ? undefined : item.name,
      subscription: remove ? 'remove' : item.subscription,
      ask: !remove && item.ask ? 'subscribe' : undefined,
      approved: !remove && item.approved ? 'true' : undefined,
    },
    remove ? [] : item.groups.map((g) => xml('group', {}, g)),
  );
}

export function rosterQuery(version: number, items: Iterable<RosterItem>): Element {
  const visible = [...items].filter((i) => i.visible);
  return xml('query', { xmlns: NS_ROSTER, ver: String(version) }, visible.map((i) => itemElement(i)));
}

export type RosterSet =
  | { kind: 'update'; jid: string; name: string | undefined; groups: string[] }
  | { kind: 'remove'; jid: string };

/** Validates a roster set (§2.3.3, §2.5.3); the subscription attribute counts only as "remove" (§2.1.2.5). */
export function readRosterSet(query: Element, ownBareJid: string): RosterSet | StanzaError {
  const items = query.getChildren('item');
  if (items.length !== 1) return stanzaError('bad-request', { text: 'a roster set carries exactly one item' });
  const item = items[0]!;
  const parsed = parseJid(item.attrs.jid ?? '');
  if (!parsed.ok) return stanzaError('jid-malformed');
  if (parsed.jid.resource !== undefined) return stanzaError('bad-request', { text: 'roster items are bare JIDs' });
  const jid = parsed.jid.toString();
  if (item.attrs.subscription === 'remove') return { kind: 'remove', jid };
  if (jid === ownBareJid) return stanzaError('not-allowed', { text: 'you cannot add yourself' });
  const name = item.attrs.name;
  if (name !== undefined && name.length > MAX_NAME_LENGTH) return stanzaError('not-acceptable', { text: 'name too long' });
  const groups = item.getChildren('group').map((g) => g.text());
  if (groups.some((g) => g.length === 0)) return stanzaError('not-acceptable', { text: 'empty group name' });
  if (groups.some((g) => g.length > MAX_GROUP_LENGTH)) return stanzaError('not-acceptable', { text: 'group name too long' });
  if (new Set(groups).size !== groups.length) return stanzaError('bad-request', { text: 'duplicate group' });
  return { kind: 'update', jid, name: name === '' ? undefined : name, groups };
}

export function newItem(jid: string): RosterItem {
  return { jid, groups: [], subscription: 'none', ask: false, pendingIn: false, approved: false, visible: false };
}
