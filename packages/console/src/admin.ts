// The admin section, shown when the server lists our administration
// commands to this account (XEP-0050 §2.2: it lists none to a non-admin, and
// refuses them with forbidden; the page decides nothing). Everything here is
// an ad-hoc command: live figures and the session table every two seconds
// (urn:switchboard:admin:0#stats, #sessions), kicking a session
// (XEP-0133 end-user-session), and users listed, added, removed and given a
// new password (get-registered-users-list, add-user, delete-user,
// change-user-password).

import type { Client } from '@switchboard/client';
import { listCommands, runCommand, NS_ADMIN, NS_SWITCHBOARD_ADMIN, type CommandResult } from './commands.ts';
import { byId, h, onSubmit } from './dom.ts';

const REFRESH_MS = 2000;
const FIGURES: [string, string][] = [
  ['sessions', 'Sessions'],
  ['onlineusers', 'Online users'],
  ['stanzas-in', 'Stanzas in'],
  ['stanzas-out', 'Stanzas out'],
  ['eventloop-lag-p99-ms', 'Event-loop lag p99 (ms)'],
  ['accounts', 'Accounts'],
];

export class Admin {
  private timer: ReturnType<typeof setInterval> | undefined;
  private sessionsDrawn = '';

  private constructor(
    private readonly client: Client,
    private readonly server: string,
  ) {}

  /** The admin section when the server offers this account the commands it needs; undefined otherwise. */
  static async open(client: Client, server: string): Promise<Admin | undefined> {
    const nodes = new Set(await listCommands(client, server).catch(() => []));
    const needed = [`${NS_SWITCHBOARD_ADMIN}#stats`, `${NS_SWITCHBOARD_ADMIN}#sessions`, `${NS_ADMIN}#end-user-session`, `${NS_ADMIN}#add-user`];
    if (!needed.every((n) => nodes.has(n))) return undefined;
    const admin = new Admin(client, server);
    admin.start();
    return admin;
  }

  stop(): void {
    clearInterval(this.timer);
    byId('admin').hidden = true;
  }

  private run(name: string, fields?: Record<string, string | string[]>, ns = NS_ADMIN): Promise<CommandResult> {
    return runCommand(this.client, this.server, `${ns}#${name}`, fields);
  }

  private start(): void {
    byId('admin').hidden = false;
    byId('metrics').replaceChildren(...FIGURES.map(([v, label]) => h('div', {}, h('dt', {}, label), h('dd', { id: `metric-${v}` }, '…'))));
    onSubmit(byId<HTMLFormElement>('user-add'), () => this.userForm('user-add', 'add-user', (jid, password) => ({ accountjid: jid, password, 'password-verify': password })));
    onSubmit(byId<HTMLFormElement>('user-passwd'), () => this.userForm('user-passwd', 'change-user-password', (jid, password) => ({ accountjid: jid, password })));
    void this.refresh();
    void this.loadUsers();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  /** A note from the server, said in the section's status line (a live region of its own). */
  private say(result: CommandResult): void {
    byId('admin-status').textContent = result.note?.text ?? 'done';
  }

  private async refresh(): Promise<void> {
    if (this.client.state !== 'Binded') return;
    try {
      const [stats, sessions] = await Promise.all([this.run('stats', undefined, NS_SWITCHBOARD_ADMIN), this.run('sessions', undefined, NS_SWITCHBOARD_ADMIN)]);
      for (const [v] of FIGURES) byId(`metric-${v}`).textContent = stats.fields.get(v)?.[0] ?? '–';
      this.drawSessions(sessions.rows);
    } catch (err) {
      byId('admin-status').textContent = `could not refresh: ${(err as Error).message}`;
    }
  }

  private drawSessions(rows: Record<string, string>[]): void {
    // Drawn again only when something changed, and the focused Kick button keeps focus.
    const key = JSON.stringify(rows);
    if (key === this.sessionsDrawn) return;
    this.sessionsDrawn = key;
    const body = byId('sessions').querySelector('tbody')!;
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.kick : undefined;
    body.replaceChildren(
      ...rows.map((r) => {
        const jid = r.jid ?? '';
        const kick = h('button', { type: 'button', class: 'secondary', 'data-kick': jid, 'aria-label': `Kick ${jid}` }, 'Kick');
        kick.addEventListener('click', () => void this.kick(jid));
        const presence = r.available === '1' ? r.show || 'available' : 'not available';
        return h('tr', {}, h('td', {}, jid), h('td', {}, presence), h('td', {}, r.priority ?? ''), h('td', {}, kick));
      }),
    );
    if (focused) body.querySelector<HTMLElement>(`[data-kick="${CSS.escape(focused)}"]`)?.focus();
  }

  private async kick(jid: string): Promise<void> {
    this.say(await this.run('end-user-session', { accountjids: [jid] }));
    await this.refresh();
    byId('sessions-title').setAttribute('tabindex', '-1');
    byId('sessions-title').focus();
  }

  private async loadUsers(): Promise<void> {
    const result = await this.run('get-registered-users-list', { max_items: 'none' });
    const users = result.fields.get('registereduserjids') ?? [];
    byId('users').replaceChildren(
      ...users.map((jid) => {
        const remove = h('button', { type: 'button', class: 'secondary', 'aria-label': `Remove ${jid}` }, 'Remove');
        remove.addEventListener('click', () => void this.remove(jid));
        return h('li', {}, h('span', {}, jid), remove);
      }),
    );
  }

  private async remove(jid: string): Promise<void> {
    if (!confirm(`Remove ${jid} and everything stored for it? Its sessions end.`)) return;
    this.say(await this.run('delete-user', { accountjids: [jid] }));
    await this.loadUsers();
    byId('users-title').setAttribute('tabindex', '-1');
    byId('users-title').focus();
  }

  private async userForm(form: string, command: string, fields: (jid: string, password: string) => Record<string, string>): Promise<void> {
    const jid = byId<HTMLInputElement>(`${form}-jid`);
    const password = byId<HTMLInputElement>(`${form}-password`);
    const result = await this.run(command, fields(jid.value.trim(), password.value));
    this.say(result);
    if (result.note?.type !== 'error') {
      jid.value = '';
      password.value = '';
      await this.loadUsers();
    }
  }
}
