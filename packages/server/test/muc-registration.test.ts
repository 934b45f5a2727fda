// Issue #20: XEP-0045 §9.9, registration requests in a members-only room. A
// user with no affiliation who submits the §7.10 muc#register form gets a
// result, is not a member yet, and every owner and admin gets the §9.9
// approval form in a message; an owner or admin submits it back to approve
// (membership and the reserved nick, 210 on entering) or deny. Negative
// cases: a member who is not an admin cannot approve, a nick asked for by a
// pending request is refused to others (conflict), a nick taken between the
// request and the approval fails the approval (conflict, the user is told
// no), an unknown request is item-not-found, an outcast cannot ask. Then
// third-party clients: slixmpp asks (its register form over xep_0004), and a
// StanzaJS admin gets the form as a `dataform` message and approves it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as Stanza from 'stanza';
import { startTestServer, waitFor, type TestServer } from './helpers.ts';
import { MUC, ROOMS, createRoom, exchange, join, login } from './muc-kit.ts';
import { SlixmppMucPeer } from './peers/slixmpp-muc.ts';

const REGISTER = 'jabber:iq:register';
const register = (room: string, nick: string, id = 'reg', extra = ''): string =>
  `<iq type='set' id='${id}' to='${room}@${ROOMS}'><query xmlns='${REGISTER}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#register</value></field><field var='muc#register_roomnick'><value>${nick}</value></field>${extra}</x></query></iq>`;
const decision = (room: string, jid: string, nick: string, allow: boolean): string =>
  `<message to='${room}@${ROOMS}' id='dec'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#register</value></field><field var='muc#jid'><value>${jid}</value></field><field var='muc#register_roomnick'><value>${nick}</value></field><field var='muc#register_allow'><value>${allow ? '1' : '0'}</value></field></x></message>`;
const result = (id: string): RegExp => new RegExp(`<iq(?=[^>]*id="${id}")[^>]*type="result"`);
const iqError = (id: string, condition: string): RegExp => new RegExp(`<iq(?=[^>]*id="${id}")[^>]*type="error".*?<${condition}`);
const messageError = (condition: string): RegExp => new RegExp(`<message(?=[^>]*id="dec")[^>]*type="error".*?<${condition}`);
/** The §9.9 form as an owner or admin gets it. */
const approvalRequest = (room: string): RegExp => new RegExp(`<message from="${room}@${ROOMS}"[^>]*>(?:(?!</message>).)*<title>Registration request</title>.*?</message>`);
/** The outcome as the user gets it. */
const outcome = (room: string, allowed: boolean): RegExp =>
  new RegExp(`<message from="${room}@${ROOMS}"[^>]*>(?:(?!</message>).)*<x xmlns="jabber:x:data" type="result">(?:(?!</message>).)*<field var="muc#register_allow"><value>${allowed ? '1' : '0'}</value>`);

describe('XEP-0045 §9.9 registration requests in members-only rooms', { timeout: 60_000 }, () => {
  let server: TestServer;
  const peers: SlixmppMucPeer[] = [];
  const agents: Stanza.Agent[] = [];
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) await server.addUser(u, 'pw');
  });
  after(async () => {
    for (const p of peers) await p.stop();
    for (const a of agents) a.disconnect();
    await server.stop();
  });

  it('a request goes to owners and admins; a non-admin cannot approve; an admin approves: membership, the nick, 210', async () => {
    const alice = await login(server, 'alice', 'club');
    const bob = await login(server, 'bob', 'club');
    const carol = await login(server, 'carol', 'club');
    const dave = await login(server, 'dave', 'club');
    const frank = await login(server, 'frank', 'club');
    await createRoom(alice, 'club', 'Alice', { 'muc#roomconfig_membersonly': '1' });
    const room = server.services.muc.get(ROOMS)!.rooms.get('club')!;
    // dave is a member, frank an admin (who is not in the room: the form reaches him anyway).
    await exchange(alice, `<iq type='set' id='aff' to='club@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='member' jid='dave@localhost'/><item affiliation='admin' jid='frank@localhost'/></query></iq>`, result('aff'));

    const form = await exchange(bob, `<iq type='get' id='f' to='club@${ROOMS}'><query xmlns='${REGISTER}'/></iq>`, /<iq[^>]*id="f".*?<\/iq>/);
    assert.match(form[0], /<instructions>Ask to become a member/);
    alice.received = '';
    frank.received = '';
    await exchange(bob, register('club', 'Bobby', 'reg', `<field var='muc#register_first'><value>Robert</value></field>`), result('reg'));
    assert.equal(room.affiliation('bob@localhost'), 'none', 'a request is not a membership');
    for (const admin of [alice, frank]) {
      const request = await admin.expect(approvalRequest('club'));
      assert.match(request[0], new RegExp(`<field var="FORM_TYPE" type="hidden"><value>${MUC}#register</value></field>`));
      assert.match(request[0], /<field var="muc#jid" type="jid-single"[^>]*><value>bob@localhost<\/value>/);
      assert.match(request[0], /<field var="muc#register_roomnick"[^>]*><value>Bobby<\/value>/);
      assert.match(request[0], /<field var="muc#register_first"[^>]*><value>Robert<\/value>/);
      assert.match(request[0], /<field var="muc#register_allow" type="boolean"[^>]*><value>0<\/value>/);
    }
    // Waiting: still refused at the door, and the get says it waits.
    await exchange(bob, join('club', 'Bob'), /type="error".*?<registration-required/);
    const waiting = await exchange(bob, `<iq type='get' id='f2' to='club@${ROOMS}'><query xmlns='${REGISTER}'/></iq>`, /<iq[^>]*id="f2".*?<\/iq>/);
    assert.match(waiting[0], /waiting for an admin&apos;s approval|waiting for an admin's approval/);
    // Asking again for the same nick sends nothing more; asking at once for another is refused (each request is a message to every admin).
    alice.received = '';
    await exchange(bob, register('club', 'Bobby', 'again'), result('again'));
    await exchange(bob, register('club', 'Robby', 'other'), iqError('other', 'resource-constraint'));
    assert.doesNotMatch(alice.received, /Registration request/);
    assert.equal(room.registrationRequests.get('bob@localhost')!.nick, 'Bobby');
    // Nobody else may ask for the nick a request asks for.
    await exchange(carol, register('club', 'Bobby', 'reg2'), iqError('reg2', 'conflict'));
    // A member who is not an admin cannot approve; nor can a stranger.
    await exchange(dave, decision('club', 'bob@localhost', 'Bobby', true), messageError('forbidden'));
    await exchange(carol, decision('club', 'bob@localhost', 'Bobby', true), messageError('forbidden'));
    assert.equal(room.affiliation('bob@localhost'), 'none');
    // An admin approves (frank, from outside the room).
    bob.received = '';
    frank.send(decision('club', 'bob@localhost', 'Bobby', true));
    await bob.expect(outcome('club', true));
    assert.equal(room.affiliation('bob@localhost'), 'member');
    assert.equal(room.reservedNick('bob@localhost'), 'Bobby');
    assert.equal(room.registrationRequests.size, 0);
    // A second answer to the same request finds nothing.
    await exchange(alice, decision('club', 'bob@localhost', 'Bobby', true), messageError('item-not-found'));
    // Bob enters under another nick and is given his own (210).
    const self = await exchange(bob, join('club', 'B'), /<presence from="club@conference.localhost\/Bobby"[^>]*>(?:(?!<\/presence>).)*<status code="110"\/>.*?<\/presence>/);
    assert.match(self[0], /<status code="210"\/>/);
    assert.match(self[0], /affiliation="member"/);
    for (const c of [alice, bob, carol, dave, frank]) c.close();
  });

  it('denied, withdrawn, a nick taken before approval (conflict, the user is told no), outcasts cannot ask', async () => {
    const alice = await login(server, 'alice', 'deny');
    const carol = await login(server, 'carol', 'deny');
    const erin = await login(server, 'erin', 'deny');
    const dave = await login(server, 'dave', 'deny');
    await createRoom(alice, 'gate', 'Alice', { 'muc#roomconfig_membersonly': '1' });
    const room = server.services.muc.get(ROOMS)!.rooms.get('gate')!;

    // Denied: carol is told, stays out.
    alice.received = '';
    await exchange(carol, register('gate', 'Caz'), result('reg'));
    await alice.expect(approvalRequest('gate'));
    carol.received = '';
    alice.send(decision('gate', 'carol@localhost', 'Caz', false));
    await carol.expect(outcome('gate', false));
    assert.equal(room.affiliation('carol@localhost'), 'none');
    assert.equal(room.registrationRequests.size, 0);
    await exchange(carol, join('gate', 'Caz'), /type="error".*?<registration-required/);

    // Withdrawn with <remove/>: nothing left to approve.
    await exchange(carol, register('gate', 'Caz', 'again'), result('again'));
    await exchange(carol, `<iq type='set' id='rm' to='gate@${ROOMS}'><query xmlns='${REGISTER}'><remove/></query></iq>`, result('rm'));
    await exchange(alice, decision('gate', 'carol@localhost', 'Caz', true), messageError('item-not-found'));

    // Erin asks for "Zed"; before the answer the owner takes that nick in the room: approving is a conflict.
    await exchange(erin, register('gate', 'Zed'), result('reg'));
    await exchange(alice, `<presence to='gate@${ROOMS}/Zed'/>`, /<presence from="gate@conference.localhost\/Zed"[^>]*>(?:(?!<\/presence>).)*<status code="110"\/>/);
    erin.received = '';
    await exchange(alice, decision('gate', 'erin@localhost', 'Zed', true), messageError('conflict'));
    await erin.expect(outcome('gate', false));
    assert.equal(room.affiliation('erin@localhost'), 'none');

    // An outcast may not ask at all; a ban also answers a waiting request.
    await exchange(alice, `<iq type='set' id='ban' to='gate@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='outcast' jid='dave@localhost'/></query></iq>`, result('ban'));
    await exchange(dave, register('gate', 'Dee', 'r5'), iqError('r5', 'forbidden'));
    await exchange(erin, register('gate', 'Erin', 'r6'), result('r6'));
    await exchange(alice, `<iq type='set' id='ban2' to='gate@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='outcast' jid='erin@localhost'/></query></iq>`, result('ban2'));
    assert.equal(room.registrationRequests.has('erin@localhost'), false);

    // In an open room registration needs no approval (§7.10 as before).
    await createRoom(alice, 'open', 'Alice');
    await exchange(carol, register('open', 'Caz', 'o1'), result('o1'));
    assert.equal(server.services.muc.get(ROOMS)!.rooms.get('open')!.affiliation('carol@localhost'), 'member');
    for (const c of [alice, carol, erin, dave]) c.close();
  });

  it('slixmpp asks to register in a members-only room; a StanzaJS admin gets the form and approves; slixmpp is given its nick (210)', async () => {
    const alice = await login(server, 'alice', 'interop');
    await createRoom(alice, 'guild', 'Alice', { 'muc#roomconfig_membersonly': '1' });
    await exchange(alice, `<iq type='set' id='adm' to='guild@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='admin' jid='frank@localhost'/></query></iq>`, result('adm'));
    const room = `guild@${ROOMS}`;

    const frank = Stanza.createClient({ jid: 'frank@localhost', password: 'pw', resource: 'web', transports: { websocket: `wss://localhost:${server.wsPort}/xmpp-websocket`, bosh: false } });
    // COMPAT: as in im-scenarios.test.ts, StanzaJS cannot do -PLUS over Node's WebSocket.
    frank.sasl.disable('SCRAM-SHA-256-PLUS');
    frank.sasl.disable('SCRAM-SHA-1-PLUS');
    agents.push(frank);
    const started = new Promise<void>((resolve) => frank.once('session:started', () => resolve()));
    frank.connect();
    await started;
    await frank.sendPresence();
    const asked = new Promise<Stanza.Stanzas.ReceivedMessage>((resolve) => frank.on('dataform', (m) => { if (m.from === room) resolve(m); }));

    const dave = new SlixmppMucPeer('dave@localhost/slix', 'pw', server.c2sPort);
    peers.push(dave);
    await dave.expect((e) => e.ev === 'online', 'online');
    const sent = await dave.run({ cmd: 'register', room, nick: 'Davey' }, (e) => e.ev === 'done' || e.ev === 'error', 'registered');
    assert.equal(sent.ev, 'done', JSON.stringify(sent));
    const refused = await dave.run({ cmd: 'join', room, nick: 'Dave' }, (e) => e.ev === 'joined' || e.ev === 'error', 'refused while waiting');
    assert.equal(refused.condition, 'registration-required');

    // StanzaJS parses the §9.9 form; frank sends it back with the checkbox set.
    const request = await asked;
    const form = request.forms![0]!;
    const value = (name: string): unknown => form.fields!.find((f) => f.name === name)?.value;
    assert.equal(form.title, 'Registration request');
    assert.equal(value('muc#register_roomnick'), 'Davey');
    assert.equal(String(value('muc#jid')), 'dave@localhost');
    assert.equal(value('muc#register_allow'), false);
    frank.sendMessage({ to: room, forms: [{ type: 'submit', fields: [{ name: 'FORM_TYPE', type: 'hidden', value: `${MUC}#register` }, { name: 'muc#jid', type: 'jid-single', value: 'dave@localhost' }, { name: 'muc#register_allow', type: 'boolean', value: true }] }] });
    await waitFor(() => server.services.muc.get(ROOMS)!.rooms.get('guild')!.affiliation('dave@localhost') === 'member', 10_000, 'dave a member');
    const joined = await dave.run({ cmd: 'join', room, nick: 'Dave' }, (e) => e.ev === 'presence' && e.from === `${room}/Davey` && (e.codes as number[]).includes(210), 'given the nick');
    assert.ok((joined.codes as number[]).includes(110));
    alice.close();
  });
});

