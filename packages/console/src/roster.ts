// The roster (RFC 6121 §2) with each contact's presence (§4), drawn as a
// list of buttons: choosing one opens the chat with that contact. Roster
// pushes (§2.1.6) are applied as they come; subscription requests (§3.1.3)
// are listed with Allow and Deny.

import { presence, xml, type Client, type Element } from '@switchboard/client';
import { announce, byId, h, onSubmit } from './dom.ts';

const NS_ROSTER = 'jabber:iq:roster';
const SHOW_TEXT: Record<string, string> = { '': 'online', chat: 'free to chat', away: 'away', xa: 'extended away', dnd: 'do not disturb' };

interface Contact {
  jid: string;
  name?: string;
  subscription: string;
  unread: number;
}

type Resources = Map<string, { show: string; status: string; priority: number }>;

const bareOf = (jid: string): string => jid.split('/')[0]!.toLowerCase();
const resourceOf = (jid: string): string => jid.slice(jid.indexOf('/') + 1);

export class Roster {
  private readonly contacts = new Map<string, Contact>();
  /** Available resources by bare JID, kept apart from the roster: presence may come before the roster does. */
  private readonly presences = new Map<string, Resources>();
  private readonly requests = new Set<string>();
  private selected: string | undefined;

  constructor(
    private readonly client: Client,
    private readonly self: string,
    private readonly onSelect: (jid: string) => void,
  ) {
    client.handleIq(NS_ROSTER, 'query', (iq) => {
      // RFC 6121 §2.1.6: a push comes from the account itself (no from, or its bare JID); others are ignored.
      const from = iq.attrs.from;
      if (from !== undefined && bareOf(from) !== self) return undefined;
      for (const item of iq.getChild('query', NS_ROSTER)?.getChildren('item') ?? []) this.applyItem(item);
      this.render();
      return undefined;
    });
    client.on('stanza', (s) => s.name === 'presence' && this.onPresence(s));
    onSubmit(byId<HTMLFormElement>('add-contact'), () => this.add(byId<HTMLInputElement>('add-contact-jid')));
  }

  async load(): Promise<void> {
    const answer = await this.client.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })));
    for (const item of answer.getChild('query', NS_ROSTER)?.getChildren('item') ?? []) this.applyItem(item);
    this.render();
  }

  /** A contact for a JID that wrote without being on the roster, so its messages have a place. */
  ensure(jid: string): void {
    const bare = bareOf(jid);
    if (!this.contacts.has(bare)) this.contacts.set(bare, { jid: bare, subscription: 'none', unread: 0 });
  }

  countUnread(jid: string): void {
    const c = this.contacts.get(bareOf(jid));
    if (c && this.selected !== c.jid) c.unread++;
    this.render();
  }

  select(jid: string): void {
    this.selected = bareOf(jid);
    const c = this.contacts.get(this.selected);
    if (c) c.unread = 0;
    this.render();
  }

  private applyItem(item: Element): void {
    const jid = item.attrs.jid;
    if (!jid) return;
    const bare = bareOf(jid);
    if (item.attrs.subscription === 'remove') {
      this.contacts.delete(bare);
      return;
    }
    const existing = this.contacts.get(bare);
    this.contacts.set(bare, { jid: bare, name: item.attrs.name, subscription: item.attrs.subscription ?? 'none', unread: existing?.unread ?? 0 });
  }

  private onPresence(s: Element): void {
    const from = s.attrs.from;
    if (!from) return;
    const bare = bareOf(from);
    const type = s.attrs.type;
    if (type === 'subscribe') {
      this.requests.add(bare);
      announce(`${bare} asks to see your presence`);
    } else if (type === undefined || type === 'unavailable') {
      if (bare === this.self) return;
      let resources = this.presences.get(bare);
      if (!resources) this.presences.set(bare, (resources = new Map()));
      if (type === 'unavailable') resources.delete(resourceOf(from));
      else resources.set(resourceOf(from), { show: s.getChildText('show') ?? '', status: s.getChildText('status') ?? '', priority: Number(s.getChildText('priority') ?? 0) || 0 });
    } else return;
    this.render();
  }

  private async add(input: HTMLInputElement): Promise<void> {
    const jid = input.value.trim();
    if (!jid.includes('@')) throw new Error(`${jid} is not a JID (user@domain)`);
    await this.client.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: NS_ROSTER }, xml('item', { jid }))));
    this.client.send(presence({ to: jid, type: 'subscribe' }));
    input.value = '';
    announce(`Asked ${jid} for a subscription`);
  }

  private answer(jid: string, allow: boolean): void {
    this.requests.delete(jid);
    this.client.send(presence({ to: jid, type: allow ? 'subscribed' : 'unsubscribed' }));
    // Mutual by default: asking back unless we already see theirs.
    const c = this.contacts.get(jid);
    if (allow && c?.subscription !== 'to' && c?.subscription !== 'both') this.client.send(presence({ to: jid, type: 'subscribe' }));
    this.render();
    byId('roster-title').focus();
  }

  /** The presence of a contact in words: its best resource (highest priority) or offline. */
  private describe(c: Contact): { text: string; online: boolean } {
    const best = [...(this.presences.get(c.jid)?.values() ?? [])].sort((a, b) => b.priority - a.priority)[0];
    if (!best) return { text: c.subscription === 'to' || c.subscription === 'both' ? 'offline' : 'presence not shared', online: false };
    return { text: `${SHOW_TEXT[best.show] ?? best.show}${best.status ? ` (${best.status})` : ''}`, online: true };
  }

  private render(): void {
    const list = byId('roster-list');
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.jid : undefined;
    const items = [...this.contacts.values()].sort((a, b) => (a.name ?? a.jid).localeCompare(b.name ?? b.jid));
    list.replaceChildren(
      ...items.map((c) => {
        const state = this.describe(c);
        const button = h(
          'button',
          { type: 'button', 'data-jid': c.jid, 'aria-current': this.selected === c.jid ? 'true' : undefined },
          h('span', { class: 'name' }, c.name ? `${c.name} (${c.jid})` : c.jid),
          h('span', { class: `presence ${state.online ? 'online' : 'offline'}` }, state.text),
          c.unread > 0 && h('span', { class: 'unread' }, `${c.unread} new`),
        );
        button.addEventListener('click', () => this.onSelect(c.jid));
        return h('li', {}, button);
      }),
    );
    byId('roster-empty').hidden = items.length > 0;
    // Redrawing must not lose the keyboard user's place.
    if (focused) list.querySelector<HTMLElement>(`[data-jid="${CSS.escape(focused)}"]`)?.focus();

    byId('requests-title').hidden = this.requests.size === 0;
    byId('requests').replaceChildren(
      ...[...this.requests].map((jid) => {
        const allow = h('button', { type: 'button', 'aria-label': `Allow ${jid}` }, 'Allow');
        const deny = h('button', { type: 'button', class: 'secondary', 'aria-label': `Deny ${jid}` }, 'Deny');
        allow.addEventListener('click', () => this.answer(jid, true));
        deny.addEventListener('click', () => this.answer(jid, false));
        return h('li', {}, `${jid} `, allow, ' ', deny);
      }),
    );
  }
}
