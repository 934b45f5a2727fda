// Issue #20: a groupchat message travels once from the room to the sm and
// once to each c2s, which stamps `to` per session (docs/protocol.md
// "Fan-out"). Each recipient is still decided on its own: XEP-0191 blocking
// drops what the user blocked (without an error that would throw the user
// out of the room), and a recipient whose session is gone is answered for as
// a single copy is (the room hears the error and lets that session go).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@switchboard/xml';
import { startTestServer, waitFor, type TestServer } from './helpers.ts';
import { ROOMS, createRoom, exchange, join, login } from './muc-kit.ts';

const groupchat = (room: string, body: string, id = 'g'): string => `<message to='${room}@${ROOMS}' type='groupchat' id='${id}'><body>${body}</body></message>`;

describe('XEP-0045 fan-out', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, 'pw');
  });
  after(() => server.stop());

  it('every session gets the message once, with its own full JID as `to`', async () => {
    const alice = await login(server, 'alice', 'a');
    const bob1 = await login(server, 'bob', 'one');
    const bob2 = await login(server, 'bob', 'two');
    const carol = await login(server, 'carol', 'c');
    await createRoom(alice, 'fan', 'Alice');
    await exchange(bob1, join('fan', 'Bob'), /<subject\/>/);
    await exchange(bob2, join('fan', 'Bob'), /<subject\/>/);
    await exchange(carol, join('fan', 'Carol'), /<subject\/>/);
    for (const c of [alice, bob1, bob2, carol]) c.received = '';
    alice.send(groupchat('fan', 'to all of you', 'f1'));
    const expected: [typeof alice, string][] = [
      [alice, 'alice@localhost/a'],
      [bob1, 'bob@localhost/one'],
      [bob2, 'bob@localhost/two'],
      [carol, 'carol@localhost/c'],
    ];
    for (const [client, jid] of expected) {
      const m = await client.expect(/<message[^>]*>.*?<body>to all of you<\/body>.*?<\/message>/);
      assert.match(m[0], new RegExp(`^<message to="${jid}" `), `${jid} gets its copy addressed to it`);
      assert.match(m[0], new RegExp(`from="fan@${ROOMS}/Alice"`));
      assert.equal(client.received.split('to all of you').length, 2, `${jid} gets exactly one copy`);
    }
    for (const [client] of expected) client.close();
  });

  it('XEP-0191: a user who blocked an occupant does not get its messages, gets the others, and stays in the room', async () => {
    const alice = await login(server, 'alice', 'blk');
    const bob = await login(server, 'bob', 'blk');
    const dave = await login(server, 'dave', 'blk');
    await createRoom(alice, 'blk', 'Alice');
    await exchange(bob, join('blk', 'Bob'), /<subject\/>/);
    await exchange(dave, join('blk', 'Dave'), /<subject\/>/);
    await exchange(bob, `<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='blk@${ROOMS}/Dave'/></block></iq>`, /<iq(?=[^>]*id="b1")[^>]*type="result"/);
    for (const c of [alice, bob, dave]) c.received = '';
    dave.send(groupchat('blk', 'from dave', 'd1'));
    await alice.expect(/<body>from dave<\/body>/);
    await dave.expect(/<body>from dave<\/body>/);
    alice.send(groupchat('blk', 'from alice', 'a1'));
    await bob.expect(/<body>from alice<\/body>/);
    assert.doesNotMatch(bob.received, /from dave/, 'the blocked occupant’s message did not reach bob');
    // Dropped, not bounced: no error went back, so the room kept bob (§18 would have removed him).
    assert.doesNotMatch(dave.received, /type="error"/);
    const room = server.services.muc.get(ROOMS)!.rooms.get('blk')!;
    assert.ok(room.occupants.has('Bob'), 'bob is still in the room');
    assert.doesNotMatch(alice.received, new RegExp(`<presence from="blk@${ROOMS}/Bob"[^>]*type="unavailable"`));
    for (const c of [alice, bob, dave]) c.close();
  });

  it('a recipient session the sm no longer has is answered for as a single copy is: the room lets it go, the others get the message', async () => {
    const alice = await login(server, 'alice', 'gone');
    const carol = await login(server, 'carol', 'gone');
    await createRoom(alice, 'gone', 'Alice');
    await exchange(carol, join('gone', 'Carol'), /<subject\/>/);
    // A session the room believes in but the server no longer has (its unavailable lost in a race).
    const room = server.services.muc.get(ROOMS)!.rooms.get('gone')!;
    const occupant = room.occupants.get('Carol')!;
    occupant.sessions.set('carol@localhost/vanished', xml('presence'));
    room.byRealJid.set('carol@localhost/vanished', occupant);
    alice.received = '';
    carol.received = '';
    alice.send(groupchat('gone', 'still here?', 'v1'));
    await alice.expect(/<body>still here\?<\/body>/);
    await carol.expect(/<message to="carol@localhost\/gone"[^>]*>.*?<body>still here\?<\/body>/);
    // The sm answered the vanished session's copy with an error; the room dropped that session only.
    await waitFor(() => !occupant.sessions.has('carol@localhost/vanished'), 5000, 'the vanished session to leave');
    assert.ok(room.occupants.has('Carol'), 'Carol’s live session keeps her in the room');
    for (const c of [alice, carol]) c.close();
  });
});
