// Issue #20: the XEP-0045 features added last — room registration (§7.10,
// the muc#register form; the reserved nick is the user's: others get
// conflict, and the user entering under another nick gets it with status
// 210; §7.12 discovery), voice requests (§7.13 → §8.6 approval), and the
// room's vCard avatar (XEP-0486: owners set it, anyone reads it, its hash in
// disco#info and in the room's presence) — over the wire with RawClient,
// then with slixmpp (registration, 210, voice request) and StanzaJS
// (reserved nick discovery, joining under it, voice request).

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as Stanza from 'stanza';
import { waitFor, type TestServer } from './helpers.ts';
import { MUC, ROOMS, createRoom, exchange, join, login, mucSuite, stanzajs } from './muc-kit.ts';
import { SlixmppMucPeer, type MucPeerEvent } from './peers/slixmpp-muc.ts';

const REGISTER = 'jabber:iq:register';
const register = (room: string, nick: string, id = 'reg'): string =>
  `<iq type='set' id='${id}' to='${room}@${ROOMS}'><query xmlns='${REGISTER}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#register</value></field><field var='muc#register_roomnick'><value>${nick}</value></field></x></query></iq>`;
const result = (id: string): RegExp => new RegExp(`<iq(?=[^>]*id="${id}")[^>]*type="result"`);
const error = (id: string, condition: string): RegExp => new RegExp(`<iq(?=[^>]*id="${id}")[^>]*type="error".*?<${condition}`);
const voiceApproval = (room: string, nick: string): string =>
  `<message to='${room}@${ROOMS}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#request</value></field><field var='muc#role'><value>participant</value></field><field var='muc#roomnick'><value>${nick}</value></field><field var='muc#request_allow'><value>true</value></field></x></message>`;


async function online(agent: Stanza.Agent): Promise<void> {
  const started = new Promise<void>((resolve) => agent.once('session:started', () => resolve()));
  agent.connect();
  await started;
  await agent.sendPresence();
}

const is = (ev: string, extra: (e: MucPeerEvent) => boolean = () => true) => (e: MucPeerEvent) => e.ev === ev && extra(e);

describe('XEP-0045 registration, voice requests, room avatars', { timeout: 90_000 }, () => {
  const suite = mucSuite();
  const { peers, agents } = suite;
  let server: TestServer;
  before(() => {
    server = suite.server;
  });

  it('§7.10: the form, a reserved nick, conflict for others, 210 for its owner, §7.12 discovery, cancelling', async () => {
    const alice = await login(server, 'alice', 'reg');
    const bob = await login(server, 'bob', 'reg');
    const carol = await login(server, 'carol', 'reg');
    await createRoom(alice, 'reg', 'Alice');
    const form = await exchange(bob, `<iq type='get' id='f' to='reg@${ROOMS}'><query xmlns='${REGISTER}'/></iq>`, /<iq[^>]*id="f".*?<\/iq>/);
    assert.match(form[0], new RegExp(`<field var="FORM_TYPE" type="hidden"><value>${MUC}#register</value>`));
    assert.match(form[0], /<field var="muc#register_roomnick"[^>]*><required\/><\/field>/);
    await exchange(bob, register('reg', 'Robert'), result('reg'));
    // Registered: the get says so, with the nick; bob is a member now.
    const again = await exchange(bob, `<iq type='get' id='f2' to='reg@${ROOMS}'><query xmlns='${REGISTER}'/></iq>`, /<iq[^>]*id="f2".*?<\/iq>/);
    assert.match(again[0], /<registered\/><username>Robert<\/username>/);
    assert.equal(server.services.muc.get(ROOMS)!.rooms.get('reg')!.affiliation('bob@localhost'), 'member');
    const info = await exchange(bob, `<iq type='get' id='n' to='reg@${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'/></iq>`, /<iq[^>]*id="n".*?<\/iq>/);
    assert.match(info[0], /<identity category="conference" type="text" name="Robert"\/>/);
    // The nick is bob's: carol can neither register it nor enter with it.
    await exchange(carol, register('reg', 'Robert', 'reg2'), error('reg2', 'conflict'));
    await exchange(carol, join('reg', 'Robert'), /<presence[^>]*type="error".*?<conflict/);
    // Bob entering as "Bobby" is given his reserved nick, and told so (210).
    const self = await exchange(bob, join('reg', 'Bobby'), /<presence from="reg@conference.localhost\/Robert"[^>]*>.*?<status code="110"\/>.*?<\/presence>/);
    assert.match(self[0], /<status code="210"\/>/);
    assert.match(self[0], /affiliation="member"/);
    await alice.expect(/<presence from="reg@conference.localhost\/Robert"/);
    // The admin list shows the nick with the membership.
    const members = await exchange(alice, `<iq type='get' id='m' to='reg@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='member'/></query></iq>`, /<iq[^>]*id="m".*?<\/iq>/);
    assert.match(members[0], /<item affiliation="member" jid="bob@localhost" nick="Robert"\/>/);
    // Cancelling releases the nick and the membership.
    await exchange(bob, `<iq type='set' id='un' to='reg@${ROOMS}'><query xmlns='${REGISTER}'><remove/></query></iq>`, result('un'));
    await exchange(carol, register('reg', 'Robert', 'reg3'), error('reg3', 'conflict')); // still in use by bob in the room
    bob.send(`<presence to='reg@${ROOMS}/Robert' type='unavailable'/>`);
    await alice.expect(/<presence from="reg@conference.localhost\/Robert"[^>]*type="unavailable"/);
    await exchange(carol, register('reg', 'Robert', 'reg4'), result('reg4'));
    // Outcasts may not register.
    await exchange(alice, `<iq type='set' id='ban' to='reg@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='outcast' jid='dave@localhost'/></query></iq>`, result('ban'));
    const dave = await login(server, 'dave', 'reg');
    await exchange(dave, register('reg', 'D', 'reg5'), error('reg5', 'forbidden'));
    for (const c of [alice, bob, carol, dave]) c.close();
  });

  it('§7.13 / §8.6: a visitor asks for voice, moderators get the form, approving makes it a participant', async () => {
    const alice = await login(server, 'alice', 'voice');
    const bob = await login(server, 'bob', 'voice');
    await createRoom(alice, 'voice', 'Alice', { 'muc#roomconfig_moderatedroom': '1' });
    await exchange(bob, join('voice', 'Bob'), /<subject\/>/);
    assert.match(bob.received, /role="visitor"/);
    alice.received = '';
    bob.send(`<message to='voice@${ROOMS}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#request</value></field><field var='muc#role'><value>participant</value></field></x></message>`);
    const request = await alice.expect(/<message from="voice@conference.localhost"[^>]*>.*?<\/message>/);
    assert.match(request[0], /<field var="muc#roomnick"[^>]*><value>Bob<\/value>/);
    assert.match(request[0], /<field var="muc#request_allow"/);
    bob.received = '';
    alice.send(voiceApproval('voice', 'Bob'));
    await bob.expect(/<presence from="voice@conference.localhost\/Bob"[^>]*>.*?role="participant".*?<status code="110"\/>/);
    bob.send(`<message to='voice@${ROOMS}' type='groupchat' id='v1'><body>I may speak</body></message>`);
    await alice.expect(/<body>I may speak<\/body>/);
    for (const c of [alice, bob]) c.close();
  });

  it('XEP-0486: owners set the room vCard, anyone reads it; its hash in disco#info and in the room presence', async () => {
    const alice = await login(server, 'alice', 'av');
    const bob = await login(server, 'bob', 'av');
    await createRoom(alice, 'avatar', 'Alice');
    await exchange(bob, join('avatar', 'Bob'), /<subject\/>/);
    const png = Buffer.from('not really a png, but bytes');
    const hash = createHash('sha1').update(png).digest('hex');
    const vcard = `<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>${png.toString('base64')}</BINVAL></PHOTO></vCard>`;
    await exchange(bob, `<iq type='set' id='v1' to='avatar@${ROOMS}'>${vcard}</iq>`, error('v1', 'forbidden'));
    bob.received = '';
    await exchange(alice, `<iq type='set' id='v2' to='avatar@${ROOMS}'>${vcard}</iq>`, result('v2'));
    // Those present learn of it: 104, and the room's presence with the hash.
    await bob.expect(/<message[^>]*from="avatar@conference.localhost"[^>]*>.*?<status code="104"\/>/);
    await bob.expect(new RegExp(`<presence[^>]*from="avatar@conference.localhost"[^>]*><x xmlns="vcard-temp:x:update"><photo>${hash}</photo>`));
    const info = await exchange(bob, `<iq type='get' id='i' to='avatar@${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, /<iq[^>]*id="i".*?<\/iq>/);
    assert.match(info[0], /<feature var="vcard-temp"\/>/);
    assert.match(info[0], new RegExp(`<field var="muc#roominfo_avatarhash" type="text-multi"[^>]*><value>${hash}</value>`));
    // Anyone reads it, occupant or not; a newcomer gets the hash as it enters.
    const carol = await login(server, 'carol', 'av');
    const got = await exchange(carol, `<iq type='get' id='g' to='avatar@${ROOMS}'><vCard xmlns='vcard-temp'/></iq>`, /<iq[^>]*id="g".*?<\/iq>/);
    assert.match(got[0], new RegExp(`<BINVAL>${png.toString('base64')}</BINVAL>`));
    await exchange(carol, join('avatar', 'Carol'), new RegExp(`<photo>${hash}</photo>`));
    // An empty vCard removes the avatar.
    await exchange(alice, `<iq type='set' id='v3' to='avatar@${ROOMS}'><vCard xmlns='vcard-temp'/></iq>`, result('v3'));
    await carol.expect(/<x xmlns="vcard-temp:x:update"><photo\/><\/x>/);
    const after = await exchange(bob, `<iq type='get' id='i2' to='avatar@${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, /<iq[^>]*id="i2".*?<\/iq>/);
    assert.doesNotMatch(after[0], /avatarhash/);
    for (const c of [alice, bob, carol]) c.close();
  });

  it('slixmpp registers a nick and is given it (210); StanzaJS discovers and joins under its own; slixmpp and StanzaJS ask for voice', async () => {
    const room = `clients@${ROOMS}`;
    const alice = await login(server, 'alice', 'clients');
    await createRoom(alice, 'clients', 'Alice', { 'muc#roomconfig_moderatedroom': '1' });
    await exchange(alice, `<iq type='set' id='mem' to='${room}'><query xmlns='${MUC}#admin'><item affiliation='member' jid='erin@localhost'/></query></iq>`, result('mem'));

    const dave = new SlixmppMucPeer('dave@localhost/slix', 'pw', server.c2sPort);
    peers.push(dave);
    await dave.expect(is('online'), 'online');
    const registered = await dave.run({ cmd: 'register', room, nick: 'Davey' }, (e) => e.ev === 'done' || e.ev === 'error', 'registered');
    assert.equal(registered.ev, 'done', JSON.stringify(registered));
    const joined = await dave.run({ cmd: 'join', room, nick: 'Davey' }, is('joined'), 'joined');
    assert.deepEqual(joined.codes, [110]);
    assert.equal(joined.role, 'participant', 'a registered user is a member, who has voice');
    dave.command({ cmd: 'leave', room, nick: 'Davey' });
    await alice.expect(/<presence from="clients@conference.localhost\/Davey"[^>]*type="unavailable"/);
    // Entering under another nick, slixmpp is given "Davey" and sees 210.
    dave.command({ cmd: 'join', room, nick: 'Other' });
    await dave.expect(is('presence', (e) => e.from === `${room}/Davey` && (e.codes as number[]).includes(210) && (e.codes as number[]).includes(110)), '210');

    // StanzaJS (erin, a member) registers through the raw form; then finds the nick by §7.12 and joins under it.
    const erinRaw = await login(server, 'erin', 'raw');
    await exchange(erinRaw, register('clients', 'Erin the Red', 'er'), result('er'));
    erinRaw.close();
    const erin = stanzajs(server, 'erin');
    agents.push(erin);
    await online(erin);
    assert.equal(await erin.getReservedNick(room), 'Erin the Red');
    // An empty nick: StanzaJS asks the room for the reserved one (§7.12) and enters under it.
    const self = await erin.joinRoom(room, '');
    assert.equal(self.from, `${room}/Erin the Red`);

    // Voice: carol (StanzaJS) and bob (slixmpp) enter as visitors and ask; the moderator gets both forms.
    const carol = stanzajs(server, 'carol');
    agents.push(carol);
    await online(carol);
    const visitor = await carol.joinRoom(room, 'Carol');
    assert.equal(visitor.muc.role, 'visitor');
    alice.received = '';
    carol.requestRoomVoice(room);
    await alice.expect(/<field var="muc#roomnick"[^>]*><value>Carol<\/value>/);
    const bob = new SlixmppMucPeer('bob@localhost/slix', 'pw', server.c2sPort);
    peers.push(bob);
    await bob.expect(is('online'), 'online');
    const bobJoined = await bob.run({ cmd: 'join', room, nick: 'Bob' }, is('joined'), 'joined');
    assert.equal(bobJoined.role, 'visitor');
    bob.command({ cmd: 'request_voice', room });
    await alice.expect(/<field var="muc#roomnick"[^>]*><value>Bob<\/value>/);
    // Approved, both become participants, as each client sees.
    const carolVoiced = new Promise<void>((resolve) => carol.on('muc:available', (p) => { if (p.from === `${room}/Carol` && p.muc.role === 'participant') resolve(); }));
    alice.send(voiceApproval('clients', 'Carol'));
    alice.send(voiceApproval('clients', 'Bob'));
    await carolVoiced;
    await bob.expect(is('presence', (e) => e.from === `${room}/Bob` && e.role === 'participant'), 'bob voiced');
    await waitFor(() => server.services.muc.get(ROOMS)!.rooms.get('clients')!.occupants.get('Bob')?.role === 'participant');
    alice.close();
  });
});
