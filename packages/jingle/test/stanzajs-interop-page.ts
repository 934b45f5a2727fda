// The browser side of stanzajs-interop.test.ts, bundled with esbuild and
// loaded into headless Chromium: `ours` is @switchboard/client wired to a
// JingleManager with the data channel transport, `stanza` is a StanzaJS
// client. Each logs in over WebSocket to the server under test; every
// finished transfer is put in a mailbox the test reads with page.evaluate.
// Bytes cross page.evaluate as base64.

import { Client, type Element } from '@switchboard/client';
import { JingleManager, attachJingle, registerFileTransfer, type FileTransferSession, type FileTransfers } from '@switchboard/jingle';
import * as XMPP from 'stanza';

/** What one side saw of one finished file transfer. */
export interface Outcome {
  readonly role: 'sender' | 'receiver';
  readonly sid: string;
  readonly reason: string;
  readonly by?: string;
  readonly text?: string;
  readonly method?: string;
  readonly name?: string;
  readonly size?: number;
  /** Receiver: the bytes, base64. */
  readonly data?: string;
  /** Receiver: the hash it checked the bytes against (algorithm and hex value). */
  readonly hash?: { readonly algo: string; readonly hex: string };
  /** Sender: every byte went out. */
  readonly sent?: boolean;
}

class Mailbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];

  put(item: T): void {
    const w = this.waiters.shift();
    if (w) w(item);
    else this.items.push(item);
  }

  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A log of every Jingle iq each side sends and receives, for a failing test to print. */
export const log: string[] = [];

// ---- ours: @switchboard/client + @switchboard/jingle -------------------------------------

let ours: { client: Client; files: FileTransfers; detach: () => void } | undefined;
const oursDone = new Mailbox<Outcome>();

export async function oursLogin(url: string, username: string, password: string, resource: string): Promise<string> {
  const client = new Client({ domain: 'localhost', username, password, resource, transport: { kind: 'websocket', url } });
  const manager = new JingleManager();
  // The loopback test needs no STUN server: host candidates on this machine are enough.
  const files = registerFileTransfer(manager, { datachannel: { iceServers: [] } });
  // The trace: every stanza the connection gives the manager, and every iq the manager sends.
  const process = manager.process.bind(manager);
  manager.process = (stanza: Element) => {
    log.push(`ours ← ${stanza.toString().slice(0, 300)}`);
    return process(stanza);
  };
  manager.on('send', (iq) => log.push(`ours → ${iq.toString().slice(0, 300)}`));
  const detach = attachJingle(client, manager);
  manager.on('incoming', (session) => {
    const ft = session as FileTransferSession;
    let got: { data: Uint8Array; hash?: { algo: string; value: string } } | undefined;
    ft.on('received', ({ data, verified }) => (got = { data, hash: verified }));
    ft.on('terminated', ({ reason, by }) => {
      oursDone.put({
        role: 'receiver', sid: ft.sid, reason: reason.condition, by, text: reason.text, method: ft.method, name: ft.file?.name, size: ft.file?.size,
        data: got && toBase64(got.data), hash: got?.hash && { algo: got.hash.algo, hex: hex(fromBase64(got.hash.value)) },
      });
    });
    void ft.accept();
  });
  const jid = await client.connect();
  ours = { client, files, detach };
  return jid;
}

export async function oursSend(to: string, name: string, b64: string): Promise<void> {
  if (!ours) throw new Error('ours: not logged in');
  const session = await ours.files.offer(to, { name, data: fromBase64(b64), mediaType: 'application/octet-stream' });
  let sent = false;
  session.on('sent', () => (sent = true));
  session.on('terminated', ({ reason, by }) => {
    oursDone.put({ role: 'sender', sid: session.sid, reason: reason.condition, by, text: reason.text, method: session.method, name, sent });
  });
}

export function oursNext(): Promise<Outcome> {
  return oursDone.next();
}

export async function oursLogout(): Promise<void> {
  ours?.detach();
  await ours?.client.disconnect();
}

// ---- StanzaJS ------------------------------------------------------------------------------

let stanza: XMPP.Agent | undefined;
const stanzaDone = new Mailbox<Outcome>();

export async function stanzaLogin(url: string, jid: string, password: string, resource: string): Promise<string> {
  const client = XMPP.createClient({
    jid, password, resource,
    transports: { websocket: url, bosh: false },
    // StanzaJS defaults to Google's STUN server; the test stays on this machine.
    jingle: { iceServers: [], trickleIce: true },
  });
  // SCRAM-…-PLUS needs TLS channel binding, which a page cannot get.
  client.sasl.disable('SCRAM-SHA-256-PLUS');
  client.sasl.disable('SCRAM-SHA-1-PLUS');
  const received = new Map<string, Promise<{ data: Uint8Array; meta: { hashes?: { algorithm: string; value: unknown }[]; actualhash?: string; name?: string; size?: number } }>>();
  const sent = new Set<string>();
  client.jingle.on('receivedFile', (session: { sid: string }, blob: Blob, meta: { hashes?: { algorithm: string; value: unknown }[]; actualhash?: string; name?: string; size?: number }) => {
    received.set(session.sid, blob.arrayBuffer().then((b) => ({ data: new Uint8Array(b), meta })));
  });
  client.jingle.on('sentFile', (session: { sid: string }) => sent.add(session.sid));
  client.on('iq:set:jingle', (iq) => log.push(`stanza ← ${iq.jingle.action} ${JSON.stringify(iq.jingle).slice(0, 300)}`));
  client.on('jingle:incoming', (session) => {
    void session.accept();
  });
  client.on('jingle:terminated', (session, reason) => {
    const r = reason ?? { condition: 'success' };
    const file = received.get(session.sid);
    void (async () => {
      const got = await file;
      stanzaDone.put({
        role: session.isInitiator ? 'sender' : 'receiver', sid: session.sid, reason: r.condition, text: r.text,
        name: got?.meta.name, size: got?.meta.size, data: got && toBase64(got.data),
        // StanzaJS emits receivedFile only when this (the first algorithm of the offer) matched the sender's hash.
        hash: got?.meta.actualhash ? { algo: got.meta.hashes?.[0]?.algorithm ?? '', hex: got.meta.actualhash } : undefined,
        sent: sent.has(session.sid),
      });
    })();
  });
  const bound = new Promise<string>((resolve, reject) => {
    client.on('session:bound', resolve);
    client.on('auth:failed', () => reject(new Error('StanzaJS: auth failed')));
  });
  client.on('session:started', () => void client.sendPresence());
  client.connect();
  stanza = client;
  return bound;
}

export async function stanzaSend(to: string, name: string, b64: string): Promise<string> {
  if (!stanza) throw new Error('stanza: not logged in');
  const session = stanza.jingle.createFileTransferSession(to);
  await session.start(new File([fromBase64(b64) as Uint8Array<ArrayBuffer>], name, { lastModified: Date.now() }));
  return session.sid;
}

/** The features `jid` lists in its disco#info, as StanzaJS reads them. */
export async function stanzaDisco(jid: string): Promise<string[]> {
  if (!stanza) throw new Error('stanza: not logged in');
  const info = await stanza.getDiscoInfo(jid);
  return info.features ?? [];
}

export function stanzaNext(): Promise<Outcome> {
  return stanzaDone.next();
}

export function stanzaLogout(): void {
  stanza?.disconnect();
}
