// Shared pieces of the XEP-0045 scenario tests driven with RawClient: log in,
// exchange, the join/configure stanzas, and creating a configured room.

import { after, before } from 'node:test';
import * as Stanza from 'stanza';
import type { RawClient, TestServer } from './helpers.ts';
import { RawClient as Raw, startTestServer } from './helpers.ts';
import type { SlixmppMucPeer } from './peers/slixmpp-muc.ts';

export const MUC = 'http://jabber.org/protocol/muc';
export const ROOMS = 'conference.localhost';

export async function login(server: TestServer, user: string, resource = 'r'): Promise<RawClient> {
  const c = await Raw.connect(server.c2sPort);
  await c.login(user, 'pw', resource);
  c.send('<presence/>');
  return c;
}

/** Sends and waits for the answer matching `pattern`, then forgets what came before it. */
export async function exchange(c: RawClient, send: string, pattern: RegExp): Promise<RegExpMatchArray> {
  c.received = '';
  c.send(send);
  return c.expect(pattern);
}

export const join = (room: string, nick: string, extra = ''): string => `<presence to='${room}@${ROOMS}/${nick}'><x xmlns='${MUC}'>${extra}</x></presence>`;
export const instant = (room: string, id = 'cfg'): string =>
  `<iq type='set' id='${id}' to='${room}@${ROOMS}'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`;
export const configure = (room: string, fields: Record<string, string>, id = 'cfg'): string =>
  `<iq type='set' id='${id}' to='${room}@${ROOMS}'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#roomconfig</value></field>${Object.entries(fields)
    .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
    .join('')}</x></query></iq>`;

/** Creates `room` owned by `owner` as nick `nick`, configured with `fields` (an instant room without). */
export async function createRoom(owner: RawClient, room: string, nick: string, fields?: Record<string, string>): Promise<void> {
  await exchange(owner, join(room, nick), /<status code="201"\/>/);
  await exchange(owner, fields ? configure(room, fields) : instant(room), /<iq(?=[^>]*id="cfg")[^>]*type="result"/);
}

/**
 * The fixture of a group chat suite with third-party clients: a server with alice, bob, carol, dave and erin
 * (password pw) started before the suite, and the slixmpp peers and StanzaJS agents its tests push here stopped
 * after it. Call inside describe(); `server` is there once the suite's first test runs.
 */
export function mucSuite(): { readonly server: TestServer; peers: SlixmppMucPeer[]; agents: Stanza.Agent[] } {
  let server: TestServer | undefined;
  const peers: SlixmppMucPeer[] = [];
  const agents: Stanza.Agent[] = [];
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await server.addUser(u, 'pw');
  });
  after(async () => {
    for (const p of peers) await p.stop();
    for (const a of agents) a.disconnect();
    await server?.stop();
  });
  return {
    get server() {
      return server!;
    },
    peers,
    agents,
  };
}

/** A StanzaJS client of `username` over the server's WebSocket (not connected yet). */
export function stanzajs(server: TestServer, username: string): Stanza.Agent {
  const agent = Stanza.createClient({ jid: `${username}@localhost`, password: 'pw', resource: 'web', transports: { websocket: `wss://localhost:${server.wsPort}/xmpp-websocket`, bosh: false } });
  // COMPAT: as in im-scenarios.test.ts, StanzaJS cannot do -PLUS over Node's WebSocket.
  agent.sasl.disable('SCRAM-SHA-256-PLUS');
  agent.sasl.disable('SCRAM-SHA-1-PLUS');
  return agent;
}
