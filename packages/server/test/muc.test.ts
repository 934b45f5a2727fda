// Issue #20: the XEP-0045 service as a component on the router, driven over
// real client connections (RawClient speaks the wire so every status code and
// error condition is checked as sent).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, waitFor, type TestServer } from './helpers.ts';
import { MUC, ROOMS, createRoom, exchange, instant, join, login } from './muc-kit.ts';

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

  it('refuses as §7.2 says: members-only, password, banned, and lets a member, the password and the unbanned in', async () => {
    const alice = await login(server, 'alice', 'gate');
    const bob = await login(server, 'bob', 'gate');
    await createRoom(alice, 'members', 'Alice', { 'muc#roomconfig_membersonly': '1' });
    await exchange(bob, join('members', 'Bob'), /type="error".*?<registration-required/);
    await exchange(alice, `<iq type='set' id='mem' to='members@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='member' jid='bob@localhost'/></query></iq>`, /<iq(?=[^>]*id="mem")[^>]*type="result"/);
    await exchange(bob, join('members', 'Bob'), /<status code="110"\/>/);

    await createRoom(alice, 'secret', 'Alice', { 'muc#roomconfig_passwordprotectedroom': '1', 'muc#roomconfig_roomsecret': 'sesame' });
    await exchange(bob, join('secret', 'Bob'), /type="error".*?<not-authorized/);
    await exchange(bob, join('secret', 'Bob', '<password>wrong</password>'), /type="error".*?<not-authorized/);
    await exchange(bob, join('secret', 'Bob', '<password>sesame</password>'), /<status code="110"\/>/);

    // Banned while inside: 301 to everyone; then forbidden at the door.
    alice.received = '';
    await exchange(alice, `<iq type='set' id='ban' to='secret@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='outcast' jid='bob@localhost'><reason>spam</reason></item></query></iq>`, /<iq(?=[^>]*id="ban")[^>]*type="result"/);
    await bob.expect(/type="unavailable".*?<status code="301"\/>/);
    assert.match(bob.received, /<reason>spam<\/reason>/);
    await exchange(bob, join('secret', 'Bob', '<password>sesame</password>'), /type="error".*?<forbidden/);
    const list = await exchange(alice, `<iq type='get' id='bans' to='secret@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='outcast'/></query></iq>`, /<iq(?=[^>]*id="bans").*?<\/iq>/);
    assert.match(list[0], /<item affiliation="outcast" jid="bob@localhost"><reason>spam<\/reason><\/item>/);
    // Only admins read or change the lists.
    await exchange(bob, `<iq type='get' id='peek' to='secret@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='outcast'/></query></iq>`, /id="peek"[^>]*type="error".*?<forbidden/);
    for (const c of [alice, bob]) c.close();
  });

  it('moderated rooms: a visitor has no voice until granted; kick is 307; nick change is 303 and conflicts', async () => {
    const alice = await login(server, 'alice', 'mod');
    const bob = await login(server, 'bob', 'mod');
    const carol = await login(server, 'carol', 'mod');
    await createRoom(alice, 'stage', 'Alice', { 'muc#roomconfig_moderatedroom': '1' });
    await exchange(bob, join('stage', 'Bob'), /role="visitor".*?<status code="110"\/>/);
    await exchange(bob, `<message to='stage@${ROOMS}' type='groupchat' id='v1'><body>may I?</body></message>`, /id="v1"[^>]*type="error".*?<forbidden/);
    await exchange(alice, `<iq type='set' id='voice' to='stage@${ROOMS}'><query xmlns='${MUC}#admin'><item nick='Bob' role='participant'/></query></iq>`, /<iq(?=[^>]*id="voice")[^>]*type="result"/);
    await bob.expect(/role="participant"/);
    await exchange(bob, `<message to='stage@${ROOMS}' type='groupchat' id='v2'><body>thanks</body></message>`, /<body>thanks<\/body>/);

    await exchange(carol, join('stage', 'Carol'), /<status code="110"\/>/);
    // Nick change: conflict with an occupant's nick, then 303 with the new nick.
    await exchange(carol, `<presence to='stage@${ROOMS}/Bob'/>`, /type="error".*?<conflict/);
    alice.received = '';
    await exchange(carol, `<presence to='stage@${ROOMS}/Caroline'/>`, new RegExp(`<presence from="stage@${ROOMS}/Caroline"[^>]*>.*?<status code="110"/>`));
    assert.match(carol.received, /type="unavailable".*?nick="Caroline".*?<status code="303"\/>.*?<status code="110"\/>/);
    await alice.expect(new RegExp(`from="stage@${ROOMS}/Carol"[^>]*type="unavailable".*?<status code="303"/>`));

    // A participant cannot kick; the moderator can (307 with actor and reason).
    await exchange(bob, `<iq type='set' id='k0' to='stage@${ROOMS}'><query xmlns='${MUC}#admin'><item nick='Caroline' role='none'/></query></iq>`, /id="k0"[^>]*type="error".*?<forbidden/);
    await exchange(alice, `<iq type='set' id='k1' to='stage@${ROOMS}'><query xmlns='${MUC}#admin'><item nick='Caroline' role='none'><reason>bye</reason></item></query></iq>`, /<iq(?=[^>]*id="k1")[^>]*type="result"/);
    const kicked = await carol.expect(/<presence[^>]*type="unavailable".*?<status code="307"\/>.*?<\/presence>/);
    assert.match(kicked[0], /<actor nick="Alice"\/><reason>bye<\/reason>/);
    // The owner cannot be kicked by a moderator of lower rank.
    await exchange(bob, `<iq type='set' id='k2' to='stage@${ROOMS}'><query xmlns='${MUC}#admin'><item nick='Alice' role='none'/></query></iq>`, /id="k2"[^>]*type="error"/);
    for (const c of [alice, bob, carol]) c.close();
  });

  it('private messages, subject, invitations and declines', async () => {
    const alice = await login(server, 'alice', 'pm');
    const bob = await login(server, 'bob', 'pm');
    const carol = await login(server, 'carol', 'pm');
    await createRoom(alice, 'talk', 'Alice');
    await exchange(bob, join('talk', 'Bob'), /<status code="110"\/>/);
    await exchange(alice, `<message to='talk@${ROOMS}/Bob' type='chat' id='pm1'><body>psst</body></message>`, /./).catch(() => undefined);
    const pm = await bob.expect(new RegExp(`<message[^>]*from="talk@${ROOMS}/Alice"[^>]*>.*?<body>psst</body>.*?</message>`));
    assert.match(pm[0], /<x xmlns="http:\/\/jabber.org\/protocol\/muc#user"\/>/);
    await exchange(alice, `<message to='talk@${ROOMS}/Nobody' type='chat' id='pm2'><body>?</body></message>`, /id="pm2"[^>]*type="error".*?<item-not-found/);
    await exchange(carol, `<message to='talk@${ROOMS}/Bob' type='chat' id='pm3'><body>?</body></message>`, /id="pm3"[^>]*type="error".*?<not-acceptable/);

    // Subject: participants may not by default; the moderator may, and newcomers get it.
    await exchange(bob, `<message to='talk@${ROOMS}' type='groupchat' id='s1'><subject>mine</subject></message>`, /id="s1"[^>]*type="error".*?<forbidden/);
    await exchange(alice, `<message to='talk@${ROOMS}' type='groupchat' id='s2'><subject>Plans</subject></message>`, /<subject>Plans<\/subject>/);

    await exchange(alice, `<message to='talk@${ROOMS}'><x xmlns='${MUC}#user'><invite to='carol@localhost'><reason>join us</reason></invite></x></message>`, /./).catch(() => undefined);
    const invite = await carol.expect(new RegExp(`<message[^>]*from="talk@${ROOMS}"[^>]*>.*?<invite from="alice@localhost"><reason>join us</reason></invite>`));
    assert.ok(invite);
    alice.received = '';
    carol.send(`<message to='talk@${ROOMS}'><x xmlns='${MUC}#user'><decline to='alice@localhost'><reason>busy</reason></decline></x></message>`);
    await alice.expect(new RegExp(`<message[^>]*from="talk@${ROOMS}"[^>]*>.*?<decline from="carol@localhost"><reason>busy</reason></decline>`));
    await exchange(carol, join('talk', 'Carol'), /<subject>Plans<\/subject>/);
    for (const c of [alice, bob, carol]) c.close();
  });

  it('one user, two sessions, one nick; history limits; flood control; self-ping', async () => {
    const alice = await login(server, 'alice', 'one');
    const phone = await login(server, 'bob', 'phone');
    const laptop = await login(server, 'bob', 'laptop');
    await createRoom(alice, 'multi', 'Alice');
    await exchange(phone, join('multi', 'Bob'), /<status code="110"\/>/);
    await exchange(laptop, join('multi', 'Bob'), /<status code="110"\/>/);
    const room = server.services.muc.get(ROOMS)!.rooms.get('multi')!;
    assert.equal(room.occupants.size, 2);
    assert.equal(room.occupants.get('Bob')!.sessions.size, 2);
    for (let i = 1; i <= 4; i++) alice.send(`<message to='multi@${ROOMS}' type='groupchat' id='h${i}'><body>line ${i}</body></message>`);
    await phone.expect(/<body>line 4<\/body>/);
    await laptop.expect(/<body>line 4<\/body>/);
    // One session leaves: the occupant stays.
    phone.send(`<presence to='multi@${ROOMS}/Bob' type='unavailable'/>`);
    await waitFor(() => room.occupants.get('Bob')?.sessions.size === 1);
    // History: maxstanzas=2 gives the last two, seconds=0 nothing.
    const carol = await login(server, 'carol', 'h');
    await exchange(carol, join('multi', 'Carol', "<history maxstanzas='2'/>"), /<subject\/>/);
    assert.doesNotMatch(carol.received, /line 2/);
    assert.match(carol.received, /line 3.*line 4/);
    carol.send(`<presence to='multi@${ROOMS}/Carol' type='unavailable'/>`);
    await carol.expect(/type="unavailable"/);
    await exchange(carol, join('multi', 'Carol', "<history maxchars='0'/>"), /<subject\/>/);
    assert.doesNotMatch(carol.received, /line/);
    // XEP-0410: a self-ping is answered by the service; a non-occupant's is not-acceptable.
    await exchange(carol, `<iq type='get' id='sp' to='multi@${ROOMS}/Carol'><ping xmlns='urn:xmpp:ping'/></iq>`, /<iq(?=[^>]*id="sp")[^>]*type="result"/);
    await exchange(phone, `<iq type='get' id='sp2' to='multi@${ROOMS}/Bob'><ping xmlns='urn:xmpp:ping'/></iq>`, /id="sp2"[^>]*type="error".*?<not-acceptable/);
    // Flood: past the burst, resource-constraint.
    carol.received = '';
    for (let i = 0; i < 40; i++) carol.send(`<message to='multi@${ROOMS}' type='groupchat' id='f${i}'><body>flood ${i}</body></message>`);
    await carol.expect(/type="error".*?<resource-constraint/);
    for (const c of [alice, phone, laptop, carol]) c.close();
  });

  it('destroying an occupied room tells everyone, with the alternate venue', async () => {
    const alice = await login(server, 'alice', 'd');
    const bob = await login(server, 'bob', 'd');
    await createRoom(alice, 'doomed', 'Alice');
    await exchange(bob, join('doomed', 'Bob'), /<status code="110"\/>/);
    bob.received = '';
    await exchange(bob, `<iq type='set' id='d0' to='doomed@${ROOMS}'><query xmlns='${MUC}#owner'><destroy/></query></iq>`, /id="d0"[^>]*type="error".*?<forbidden/);
    await exchange(alice, `<iq type='set' id='d1' to='doomed@${ROOMS}'><query xmlns='${MUC}#owner'><destroy jid='lobby@${ROOMS}'><reason>moved</reason></destroy></query></iq>`, /<iq(?=[^>]*id="d1")[^>]*type="result"/);
    await bob.expect(new RegExp(`type="unavailable".*?<destroy jid="lobby@${ROOMS}"><reason>moved</reason></destroy>`));
    await exchange(bob, `<message to='doomed@${ROOMS}' type='groupchat' id='d2'><body>hello?</body></message>`, /id="d2"[^>]*type="error".*?<item-not-found/);
    for (const c of [alice, bob]) c.close();
  });

  it('room config form round trip, disco#info features and the roominfo form, public rooms listed', async () => {
    const alice = await login(server, 'alice', 'cfg');
    await createRoom(alice, 'shown', 'Alice', { 'muc#roomconfig_roomname': 'Shown Room', 'muc#roomconfig_whois': 'anyone', 'muc#roomconfig_roomdesc': 'about things' });
    const form = await exchange(alice, `<iq type='get' id='form' to='shown@${ROOMS}'><query xmlns='${MUC}#owner'/></iq>`, /<iq(?=[^>]*id="form").*?<\/iq>/);
    assert.match(form[0], /var="muc#roomconfig_roomname"[^>]*><value>Shown Room<\/value>/);
    const info = await exchange(alice, `<iq type='get' id='ri' to='shown@${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, /<iq(?=[^>]*id="ri").*?<\/iq>/);
    for (const f of ['muc_public', 'muc_temporary', 'muc_open', 'muc_unmoderated', 'muc_nonanonymous', 'muc_unsecured', 'urn:xmpp:occupant-id:0']) assert.match(info[0], new RegExp(`var="${f}"`));
    assert.match(info[0], /muc#roominfo_description[^>]*><value>about things<\/value>/);
    assert.match(info[0], /name="Shown Room"/);
    const items = await exchange(alice, `<iq type='get' id='rooms' to='${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, /<iq(?=[^>]*id="rooms").*?<\/iq>/);
    assert.match(items[0], new RegExp(`<item jid="shown@${ROOMS}" name="Shown Room"/>`));
    // Non-anonymous: a joiner gets 100 and sees real JIDs.
    const bob = await login(server, 'bob', 'cfg');
    await exchange(bob, join('shown', 'Bob'), /<status code="100"\/>/);
    assert.match(bob.received, /jid="alice@localhost\/cfg"/);
    for (const c of [alice, bob]) c.close();
  });
});
