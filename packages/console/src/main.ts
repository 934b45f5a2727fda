// The web console: a page the server serves on its operator HTTP listener
// (http.console) and an XMPP client in it, over the WebSocket endpoint the
// same listener announces (XEP-0156 host-meta.json). Log in, then the
// roster, own presence and one-to-one chat; for an account the server lists
// its administration commands to, the admin section (admin.ts).
//
// Focus order follows the page: the login form, then after logging in the
// contacts heading, the chosen conversation's input after choosing one.

import { Client, ClientError, presence, type Element } from '@switchboard/client';
import { Admin } from './admin.ts';
import { Chat } from './chat.ts';
import { announce, byId, onSubmit } from './dom.ts';
import { Roster } from './roster.ts';

const WEBSOCKET_REL = 'urn:xmpp:alt-connections:websocket';
/** The presence-show select's values ('' is plain available). */
type Show = 'chat' | 'away' | 'xa' | 'dnd' | undefined;

/** XEP-0156: the wss:// endpoint, from the host-meta.json of the origin that served this page. */
async function websocketUrl(): Promise<string> {
  const res = await fetch('/.well-known/host-meta.json');
  if (!res.ok) throw new Error(`this server announces no WebSocket endpoint (host-meta: ${res.status})`);
  const meta = (await res.json()) as { links?: { rel?: string; href?: string }[] };
  const href = meta.links?.find((l) => l.rel === WEBSOCKET_REL)?.href;
  if (!href) throw new Error('this server announces no WebSocket endpoint');
  return href;
}

interface Signed {
  client: Client;
  admin: Admin | undefined;
}

let signed: Signed | undefined;

function loginError(err: unknown): string {
  if (err instanceof ClientError) {
    if (err.code === 'SB_ERR_AUTH') return 'Wrong JID or password.';
    if (err.code === 'SB_ERR_ATTEMPTS' || err.code === 'SB_ERR_TRANSPORT' || err.code === 'SB_ERR_POLICY') return `Cannot reach the server's WebSocket endpoint (${err.message}).`;
  }
  return String((err as Error)?.message ?? err);
}

async function logIn(): Promise<void> {
  const jidInput = byId<HTMLInputElement>('login-jid');
  const password = byId<HTMLInputElement>('login-password');
  const error = byId('login-error');
  error.textContent = '';
  const [username, domain] = jidInput.value.trim().split('@');
  if (!username || !domain || domain.includes('/')) {
    error.textContent = 'Give a JID of the form user@domain.';
    jidInput.focus();
    return;
  }
  const button = byId<HTMLButtonElement>('login-form').querySelector('button')!;
  button.disabled = true;
  byId('connection').textContent = 'Connecting…';
  try {
    const client = new Client({
      domain,
      username,
      password: password.value,
      resource: 'console',
      transport: { kind: 'websocket', url: await websocketUrl() },
      retry: { delayMs: 2000, backoff: 2, maxDelayMs: 30_000, maxAttempts: 5 },
      // RFC 6121 §2.2: the roster first, then initial presence (showApp sends it on every new session).
      initialPresence: false,
    });
    client.on('state', ({ to }) => {
      byId('connection').textContent = to === 'Binded' ? 'Online' : to === 'Retrying' ? 'Connection lost; reconnecting…' : to === 'Disconnected' ? 'Offline' : 'Connecting…';
    });
    const jid = await client.connect().catch(async (err: unknown) => {
      await client.disconnect();
      throw err;
    });
    password.value = '';
    await showApp(client, jid, domain);
  } catch (err) {
    error.textContent = loginError(err);
    byId('connection').textContent = '';
    password.focus();
  } finally {
    button.disabled = false;
  }
}

async function showApp(client: Client, jid: string, domain: string): Promise<void> {
  const bare = jid.split('/')[0]!.toLowerCase();
  const roster = new Roster(client, bare, (contact) => chat.open(contact));
  const chat = new Chat(client, roster);
  const own = (): Element => presence({ show: (byId<HTMLSelectElement>('presence-show').value || undefined) as Show, status: byId<HTMLInputElement>('presence-status').value.trim() || undefined });
  await roster.load();
  client.send(own());
  // A new session after a lost one (XEP-0198 could not resume it): the roster again, then presence again.
  client.on('online', () => void roster.load().then(() => client.send(own())));
  byId('login').hidden = true;
  byId('app').hidden = false;
  byId('whoami').hidden = false;
  byId('whoami').textContent = jid;
  byId('logout').hidden = false;
  byId('roster-title').focus();
  announce(`Logged in as ${jid}`);
  onSubmit(byId<HTMLFormElement>('presence-form'), () => {
    client.send(own());
    announce('Presence set');
  });
  signed = { client, admin: await Admin.open(client, domain) };
  client.on('offline', () => {
    if (signed?.client === client) byId('connection').textContent = 'Offline: log in again (reload the page).';
  });
}

async function logOut(): Promise<void> {
  const current = signed;
  signed = undefined;
  current?.admin?.stop();
  await current?.client.disconnect();
  // A fresh page: no state of the session stays behind.
  location.reload();
}

onSubmit(byId<HTMLFormElement>('login-form'), logIn);
byId('logout').addEventListener('click', () => void logOut());
byId('login-jid').focus();
