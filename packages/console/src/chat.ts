// One-to-one chat (RFC 6121 §5): a conversation per contact's bare JID,
// the chosen one drawn in a role=log region (polite live region, so what
// arrives there is read out); a message for another contact is announced
// and counted on its roster entry.

import { message, type Client, type Element } from '@switchboard/client';
import { announce, byId, h, onSubmit } from './dom.ts';
import type { Roster } from './roster.ts';

interface Line {
  from: 'me' | string;
  body: string;
  at: Date;
  error?: boolean;
}

export class Chat {
  private readonly conversations = new Map<string, Line[]>();
  private current: string | undefined;

  constructor(
    private readonly client: Client,
    private readonly roster: Roster,
  ) {
    client.on('stanza', (s) => s.name === 'message' && this.onMessage(s));
    onSubmit(byId<HTMLFormElement>('chat-form'), () => this.send());
  }

  open(jid: string): void {
    this.current = jid;
    this.roster.select(jid);
    byId('chat-title').textContent = `Chat with ${jid}`;
    byId('chat-empty').hidden = true;
    byId('chat-form').hidden = false;
    this.draw();
    byId('chat-input').focus();
  }

  private lines(jid: string): Line[] {
    let lines = this.conversations.get(jid);
    if (!lines) this.conversations.set(jid, (lines = []));
    return lines;
  }

  private onMessage(s: Element): void {
    const from = s.attrs.from?.split('/')[0]?.toLowerCase();
    const body = s.getChildText('body');
    if (!from || body === undefined || (s.attrs.type !== 'chat' && s.attrs.type !== 'normal' && s.attrs.type !== undefined && s.attrs.type !== 'error')) return;
    const error = s.attrs.type === 'error';
    const line: Line = { from, body: error ? `not delivered: ${body}` : body, at: new Date(), error };
    this.roster.ensure(from);
    this.lines(from).push(line);
    if (from === this.current) this.append(line);
    else {
      this.roster.countUnread(from);
      announce(`New message from ${from}: ${body}`);
    }
  }

  private async send(): Promise<void> {
    const input = byId<HTMLInputElement>('chat-input');
    const body = input.value;
    if (!this.current || body.trim() === '') return;
    this.client.send(message({ to: this.current, type: 'chat', body }));
    const line: Line = { from: 'me', body, at: new Date() };
    this.lines(this.current).push(line);
    this.append(line);
    input.value = '';
  }

  private row(line: Line): HTMLElement {
    const time = line.at.toTimeString().slice(0, 5);
    return h(
      'p',
      { class: line.error ? 'msg error' : 'msg' },
      h('time', { datetime: line.at.toISOString() }, time),
      ' ',
      h('span', { class: 'who' }, line.from === 'me' ? 'me:' : `${line.from}:`),
      line.body,
    );
  }

  private append(line: Line): void {
    const log = byId('chat-log');
    log.append(this.row(line));
    log.scrollTop = log.scrollHeight;
  }

  /** A conversation drawn anew is not news: busy while it is, so screen readers do not read it all out. */
  private draw(): void {
    const log = byId('chat-log');
    log.setAttribute('aria-busy', 'true');
    log.replaceChildren(...(this.current ? this.lines(this.current).map((l) => this.row(l)) : []));
    log.setAttribute('aria-busy', 'false');
  }
}
