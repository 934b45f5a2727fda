// Issue #20: the XEP-0045 service as a component on the router, driven over
// real client connections (RawClient speaks the wire so every status code and
// error condition is checked as sent).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';

const MUC = 'http://jabber.org/protocol/muc';
const ROOMS = 'conference.localhost';

async function login(server: TestServer, user: string, resource = 'r'): Promise<RawClient> {
  const c = await RawClient.connect(server.c2sPort);
  await c.login(user, 'pw', resource);
  c.send('<presence/>');
  return c;
}

/** Sends and waits for the answer matching `pattern`, then forgets what came before it. */
async function exchange(c: RawClient, send: string, pattern: RegExp): Promise<RegExpMatchArray> {
  c.received = '';
  c.send(send);
  return c.expect(pattern);
}

const join = (room: string, nick: string, extra = ''): string => `<presence to='${room}@${ROOMS}/${nick}'><x xmlns='${MUC}'>${extra}</x></presence>`;
const instant = (room: string, id = 'cfg'): string =>
  `<iq type='set' id='${id}' to='${room}@${ROOMS}'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`;
const configure = (room: string, fields: Record<string, string>, id = 'cfg'): string =>
  `<iq type='set' id='${id}' to='${room}@${ROOMS}'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#roomconfig</value></field>${Object.entries(fields)
    .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
    .join('')}</x></query></iq>`;

/** Creates `room` owned by `owner` as nick `nick`, configured with `fields` (an instant room without). */
async function createRoom(owner: RawClient, room: string, nick: string, fields?: Record<string, string>): Promise<void> {
  await exchange(owner, join(room, nick), /<status code="201"\/>/);
  await exchange(owner, fields ? configure(room, fields) : instant(room), /<iq(?=[^>]*id="cfg")[^>]*type="result"/);
}

describe('XEP-0045 group chat', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, 'pw');
  });
  after(() => server.stop());

  it('the service is listed by the server and answers disco#info', async () => {
    const alice = await login(server, 'alice');
    await exchange(alice, "<iq type='get' id='items' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>", new RegExp(`id="items".*?<item jid="${ROOMS}"/>`));
    const info = await exchange(alice, `<iq type='get' id='info' to='${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, /<iq[^>]*id="info".*?<\/iq>/);
    assert.match(info[0], /category="conference"/);
    assert.match(info[0], new RegExp(`var="${MUC}"`));
    alice.close();
  });

  it('creates a room (201), joins others (110, 100, presence both ways), carries groupchat, and leaves', async () => {
    const alice = await login(server, 'alice');
    const bob = await login(server, 'bob');
    // A new room is locked: others cannot enter it until it is configured (§10.1.1).
    await exchange(alice, join('lobby', 'Alice'), /<status code="201"\/>/);
    assert.match(alice.received, /<status code="110"\/>/);
    await exchange(bob, join('lobby', 'Bob'), /type="error".*?<item-not-found/);
    await exchange(alice, instant('lobby'), /<iq(?=[^>]*id="cfg")[^>]*type="result"/);
    const entered = await exchange(bob, join('lobby', 'Bob', "<history maxstanzas='5'/>"), /<message[^>]*type="groupchat"[^>]*><subject\/><\/message>/);
    // Bob sees Alice, then himself with 110, then the (empty) subject.
    assert.match(bob.received, new RegExp(`<presence from="lobby@${ROOMS}/Alice"[^>]*>.*?affiliation="owner" role="moderator"`));
    assert.match(bob.received, new RegExp(`<presence from="lobby@${ROOMS}/Bob"[^>]*>.*?<status code="110"/>`));
    assert.match(bob.received, /<occupant-id xmlns="urn:xmpp:occupant-id:0" id="[^"]+"\/>/);
    assert.ok(entered);
    await alice.expect(new RegExp(`<presence from="lobby@${ROOMS}/Bob"[^>]*>.*?role="participant"`));
    // Semi-anonymous: the owner (a moderator) sees Bob's real JID, Bob does not see Alice's.
    assert.match(alice.received, /jid="bob@localhost\/r"/);
    assert.doesNotMatch(bob.received, /jid="alice@localhost/);

    alice.received = '';
    bob.send(`<message to='lobby@${ROOMS}' type='groupchat' id='g1'><body>hello room</body></message>`);
    await alice.expect(new RegExp(`<message[^>]*from="lobby@${ROOMS}/Bob"[^>]*>.*?<body>hello room</body>`));
    await bob.expect(new RegExp(`<message[^>]*from="lobby@${ROOMS}/Bob"[^>]*>.*?<body>hello room</body>`));

    // A third user joining gets the message as history, with a delay from the room.
    const carol = await login(server, 'carol');
    await exchange(carol, join('lobby', 'Carol'), /<subject\/>/);
    assert.match(carol.received, new RegExp(`<body>hello room</body>.*?<delay xmlns="urn:xmpp:delay" from="lobby@${ROOMS}"`));

    bob.received = '';
    carol.send(`<presence to='lobby@${ROOMS}/Carol' type='unavailable'/>`);
    await bob.expect(new RegExp(`<presence from="lobby@${ROOMS}/Carol"[^>]*type="unavailable"`));
    await carol.expect(/type="unavailable".*?<status code="110"\/>/);
    for (const c of [alice, bob, carol]) c.close();
  });

  it('answers errors as §18 lists them', async () => {
    const dave = await login(server, 'dave');
    await exchange(dave, `<message to='nowhere@${ROOMS}' type='groupchat' id='x1'><body>hi</body></message>`, /id="x1"[^>]*type="error".*?<item-not-found/);
    await exchange(dave, `<iq to='nowhere@${ROOMS}' type='get' id='x2'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, /id="x2"[^>]*type="error".*?<item-not-found/);
    const alice = await login(server, 'alice', 'e');
    await createRoom(alice, 'errors', 'Alice');
    // Not an occupant: not-acceptable.
    await exchange(dave, `<message to='errors@${ROOMS}' type='groupchat' id='x3'><body>hi</body></message>`, /id="x3"[^>]*type="error".*?<not-acceptable/);
    // No nick: jid-malformed.
    await exchange(dave, `<presence to='errors@${ROOMS}'><x xmlns='${MUC}'/></presence>`, /type="error".*?<jid-malformed/);
    // Nick taken by another user: conflict.
    await exchange(dave, join('errors', 'Alice'), /type="error".*?<conflict/);
    for (const c of [alice, dave]) c.close();
  });

  it('a user leaving the server without a word leaves the room (RFC 6121 §4.6.3 unavailable to the room)', async () => {
    const alice = await login(server, 'alice', 'ghost');
    const bob = await login(server, 'bob', 'ghost');
    await createRoom(alice, 'ghosts', 'Alice');
    await exchange(bob, join('ghosts', 'Bob'), /<subject\/>/);
    alice.received = '';
    bob.close();
    await alice.expect(new RegExp(`<presence from="ghosts@${ROOMS}/Bob"[^>]*type="unavailable"`));
    const room = server.services.muc.get(ROOMS)!.rooms.get('ghosts')!;
    await waitFor(() => room.occupants.size === 1);
    alice.close();
  });
});
