// Issue #20: XEP-0317 Hats (0.3) on our rooms. Raw stanzas: the disco
// feature, the command list per requester (XEP-0050 §2.2), create → assign →
// the hat in occupant presence → retitle → list / list-assigned → unassign →
// destroy, 0.2's don; the negative cases (a participant cannot manage hats,
// an unknown hat, a hat not worn, a bad hue, a hat the user claims in its own
// presence is not shown). Then slixmpp (no XEP-0317 plugin in 1.8.3: its
// xep_0050 runs the commands, the hats are read from the presence XML) and
// StanzaJS (its XEP-0317 definition is 0.1's: it finds the <hat/> but reads
// `name`/`displayName`, not 0.2+'s `uri`/`title`).

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as Stanza from 'stanza';
import type { TestServer } from './helpers.ts';
import { ROOMS, createRoom, exchange, join, login, mucSuite, stanzajs } from './muc-kit.ts';
import { SlixmppMucPeer, type MucPeerEvent } from './peers/slixmpp-muc.ts';

const COMMANDS = 'http://jabber.org/protocol/commands';
const HATS = 'urn:xmpp:hats:0';
const TEACHER = 'http://tech.example.edu/hats#Teacher';
const TA = 'http://tech.example.edu/hats#TeacherAssistant';

/** An XEP-0050 execute with the form already filled in (one step). */
const command = (room: string, name: string, fields: Record<string, string>, id = 'cmd'): string =>
  `<iq type='set' id='${id}' to='${room}@${ROOMS}'><command xmlns='${COMMANDS}' node='urn:xmpp:hats:commands:${name}' action='execute'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:hats:commands</value></field>${Object.entries(fields)
    .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
    .join('')}</x></command></iq>`;
const completed = (id: string): RegExp => new RegExp(`<iq(?=[^>]*id="${id}")[^>]*type="result"[^>]*><command[^>]*status="completed".*?</iq>`);
const iqError = (id: string, condition: string): RegExp => new RegExp(`<iq(?=[^>]*id="${id}")[^>]*type="error".*?<${condition}`);
/** The presence of `nick` in `room`, up to its end. */
const presenceOf = (room: string, nick: string): RegExp => new RegExp(`<presence from="${room}@${ROOMS}/${nick}"[^>]*>.*?</presence>`);

describe('XEP-0317 hats', { timeout: 90_000 }, () => {
  const suite = mucSuite();
  const { peers, agents } = suite;
  let server: TestServer;
  before(() => {
    server = suite.server;
  });

  it('owners define and assign hats; occupants see them in presence; participants cannot manage them', async () => {
    const alice = await login(server, 'alice', 'hats');
    const bob = await login(server, 'bob', 'hats');
    const carol = await login(server, 'carol', 'hats');
    await createRoom(alice, 'class', 'Alice');
    await exchange(bob, join('class', 'Bob'), /<subject\/>/);

    const info = await exchange(bob, `<iq type='get' id='i' to='class@${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, /<iq[^>]*id="i".*?<\/iq>/);
    assert.match(info[0], new RegExp(`<feature var="${HATS}"/>`));
    assert.match(info[0], new RegExp(`<feature var="${COMMANDS}"/>`));
    // XEP-0050 §2.2: the owner is offered every command, a participant only the list.
    const ownerList = await exchange(alice, `<iq type='get' id='l' to='class@${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#items' node='${COMMANDS}'/></iq>`, /<iq[^>]*id="l".*?<\/iq>/);
    for (const name of ['list', 'list-assigned', 'create', 'destroy', 'assign', 'unassign']) assert.match(ownerList[0], new RegExp(`node="urn:xmpp:hats:commands:${name}"`));
    const bobList = await exchange(bob, `<iq type='get' id='l2' to='class@${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#items' node='${COMMANDS}'/></iq>`, /<iq[^>]*id="l2".*?<\/iq>/);
    assert.equal(bobList[0].match(/<item /g)?.length, 1);
    assert.match(bobList[0], /node="urn:xmpp:hats:commands:list"/);

    // Execute without a form: the form to fill in (XEP-0050 §3.4).
    const form = await exchange(alice, `<iq type='set' id='x' to='class@${ROOMS}'><command xmlns='${COMMANDS}' node='urn:xmpp:hats:commands:create' action='execute'/></iq>`, /<iq[^>]*id="x".*?<\/iq>/);
    assert.match(form[0], /status="executing"/);
    assert.match(form[0], /sessionid="[^"]+"/);
    assert.match(form[0], /<actions execute="complete"><complete\/><\/actions>/);
    assert.match(form[0], /<field var="hats#title" type="text-single"[^>]*><required\/><\/field>/);
    await exchange(alice, command('class', 'create', { 'hats#title': 'Teacher', 'hats#uri': TEACHER, 'hats#hue': '210' }, 'c1'), completed('c1'));
    await exchange(alice, command('class', 'create', { 'hats#title': "Teacher's Assistant", 'hats#uri': TA }, 'c2'), completed('c2'));

    // The negative cases.
    await exchange(bob, command('class', 'create', { 'hats#title': 'Mine', 'hats#uri': 'urn:x' }, 'n1'), iqError('n1', 'forbidden'));
    await exchange(bob, command('class', 'assign', { 'hats#jid': 'bob@localhost', 'hats#uri': TEACHER }, 'n2'), iqError('n2', 'forbidden'));
    await exchange(alice, command('class', 'assign', { 'hats#jid': 'bob@localhost', 'hats#uri': 'urn:nope' }, 'n3'), iqError('n3', 'item-not-found'));
    await exchange(alice, command('class', 'unassign', { 'hats#jid': 'bob@localhost', 'hats#uri': TEACHER }, 'n4'), iqError('n4', 'item-not-found'));
    await exchange(alice, command('class', 'create', { 'hats#title': 'Red', 'hats#hue': '400' }, 'n5'), iqError('n5', 'bad-payload'));
    await exchange(alice, `<iq type='set' id='n6' to='class@${ROOMS}'><command xmlns='${COMMANDS}' node='urn:xmpp:hats:commands:fly'/></iq>`, iqError('n6', 'item-not-found'));

    // Assigned: everyone sees bob's hat, bob too.
    alice.received = '';
    await exchange(alice, command('class', 'assign', { 'hats#jid': 'bob@localhost', 'hats#uri': TEACHER }, 'a1'), completed('a1'));
    const seen = await alice.expect(presenceOf('class', 'Bob'));
    assert.match(seen[0], new RegExp(`<hats xmlns="${HATS}"><hat uri="${TEACHER}" title="Teacher" hue="210"/></hats>`));
    await bob.expect(new RegExp(`<presence from="class@${ROOMS}/Bob"[^>]*>(?:(?!</presence>).)*<status code="110"/>(?:(?!</presence>).)*<hat uri="${TEACHER}"`));
    // 0.2's don with its field names: a second hat.
    alice.received = '';
    await exchange(alice, `<iq type='set' id='don' to='class@${ROOMS}'><command xmlns='${COMMANDS}' node='urn:xmpp:hats:commands:don'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:hats:commands</value></field><field var='accountjid'><value>bob@localhost</value></field><field var='hat'><value>${TA}</value></field></x></command></iq>`, completed('don'));
    const two = await alice.expect(presenceOf('class', 'Bob'));
    assert.match(two[0], new RegExp(`<hat uri="${TEACHER}" title="Teacher" hue="210"/><hat uri="${TA}" title="Teacher&apos;s Assistant"/>`));
    // A newcomer sees the hats in the roster; the hats a user claims in its own presence are not passed on.
    await exchange(carol, `<presence to='class@${ROOMS}/Carol'><x xmlns='http://jabber.org/protocol/muc'/><hats xmlns='${HATS}'><hat uri='urn:fake' title='Owner of everything'/></hats></presence>`, /<subject\/>/);
    assert.match(carol.received, new RegExp(`<presence from="class@${ROOMS}/Bob"[^>]*>(?:(?!</presence>).)*<hat uri="${TEACHER}"`));
    const carolSeen = await alice.expect(presenceOf('class', 'Carol'));
    assert.doesNotMatch(carolSeen[0], /urn:fake|<hats/);

    // The lists.
    const list = await exchange(bob, `<iq type='set' id='ls' to='class@${ROOMS}'><command xmlns='${COMMANDS}' node='urn:xmpp:hats:commands:list' action='execute'/></iq>`, completed('ls'));
    assert.match(list[0], /<reported><field var="hats#title"[^>]*\/><field var="hats#uri"[^>]*\/><field var="hats#hue"[^>]*\/><\/reported>/);
    assert.match(list[0], new RegExp(`<item><field var="hats#title"><value>Teacher</value></field><field var="hats#uri"><value>${TEACHER}</value></field><field var="hats#hue"><value>210</value></field></item>`));
    await exchange(bob, `<iq type='set' id='la0' to='class@${ROOMS}'><command xmlns='${COMMANDS}' node='urn:xmpp:hats:commands:list-assigned'/></iq>`, iqError('la0', 'forbidden'));
    const assigned = await exchange(alice, `<iq type='set' id='la' to='class@${ROOMS}'><command xmlns='${COMMANDS}' node='urn:xmpp:hats:commands:list-assigned'/></iq>`, completed('la'));
    assert.equal(assigned[0].match(/<item>/g)?.length, 2);
    assert.match(assigned[0], new RegExp(`<item><field var="hats#jid"><value>bob@localhost</value></field><field var="hats#uri"><value>${TEACHER}</value></field>`));

    // Retitled: shown again on its wearer. Unassigned, destroyed: gone from presence.
    alice.received = '';
    await exchange(alice, command('class', 'create', { 'hats#title': 'Professor', 'hats#uri': TEACHER, 'hats#hue': '30' }, 'c3'), completed('c3'));
    assert.match((await alice.expect(presenceOf('class', 'Bob')))[0], new RegExp(`<hat uri="${TEACHER}" title="Professor" hue="30"/>`));
    alice.received = '';
    await exchange(alice, command('class', 'unassign', { 'hats#jid': 'bob@localhost', 'hats#uri': TEACHER }, 'u1'), completed('u1'));
    const fewer = await alice.expect(presenceOf('class', 'Bob'));
    assert.doesNotMatch(fewer[0], new RegExp(`uri="${TEACHER}"`));
    assert.match(fewer[0], new RegExp(`<hat uri="${TA}"`));
    alice.received = '';
    await exchange(alice, command('class', 'destroy', { 'hats#uri': TA }, 'd1'), completed('d1'));
    assert.doesNotMatch((await alice.expect(presenceOf('class', 'Bob')))[0], /<hats/);
    const room = server.services.muc.get(ROOMS)!.rooms.get('class')!;
    assert.deepEqual([...room.hats.keys()], [TEACHER]);
    assert.equal(room.hatsWorn.size, 0);
    // Cancel ends a command (XEP-0050 §3.5).
    await exchange(alice, `<iq type='set' id='cx' to='class@${ROOMS}'><command xmlns='${COMMANDS}' node='urn:xmpp:hats:commands:create' sessionid='s1' action='cancel'/></iq>`, /<iq(?=[^>]*id="cx")[^>]*type="result"[^>]*><command[^>]*status="canceled"/);
    // In a members-only room, a stranger may not even list the hats.
    await exchange(alice, `<iq type='set' id='mo' to='class@${ROOMS}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_membersonly'><value>1</value></field></x></query></iq>`, /<iq(?=[^>]*id="mo")[^>]*type="result"/);
    await exchange(carol, `<iq type='set' id='ls2' to='class@${ROOMS}'><command xmlns='${COMMANDS}' node='urn:xmpp:hats:commands:list'/></iq>`, iqError('ls2', 'forbidden'));
    for (const c of [alice, bob, carol]) c.close();
  });

  it('slixmpp runs the hat commands with its xep_0050 and sees the hat; StanzaJS finds it with 0.1 attribute names', async () => {
    const room = `clients@${ROOMS}`;
    const dave = new SlixmppMucPeer('dave@localhost/slix', 'pw', server.c2sPort);
    peers.push(dave);
    await dave.expect((e: MucPeerEvent) => e.ev === 'online', 'online');
    const created = await dave.run({ cmd: 'join', room, nick: 'Dave' }, (e) => e.ev === 'joined', 'joined');
    assert.deepEqual(created.codes, [110, 201]);
    const instant = await dave.run({ cmd: 'configure', room, fields: {} }, (e) => e.ev === 'configured' || e.ev === 'error', 'configured');
    assert.equal(instant.ev, 'configured', JSON.stringify(instant));
    const made = await dave.run({ cmd: 'adhoc', to: room, node: 'urn:xmpp:hats:commands:create', fields: { 'hats#title': 'Host', 'hats#uri': 'urn:example:host', 'hats#hue': '120' } }, (e) => e.ev === 'adhoc' || e.ev === 'error', 'create');
    assert.equal(made.status, 'completed', JSON.stringify(made));

    const erin = stanzajs(server, 'erin');
    agents.push(erin);
    const started = new Promise<void>((resolve) => erin.once('session:started', () => resolve()));
    erin.connect();
    await started;
    await erin.sendPresence();
    await erin.joinRoom(room, 'Erin');
    const erinHat = new Promise<Stanza.Stanzas.Presence>((resolve) => erin.on('muc:available', (p) => { if (p.from === `${room}/Erin` && p.hats?.length) resolve(p); }));
    const since = dave.events.length;
    const assigned = await dave.run({ cmd: 'adhoc', to: room, node: 'urn:xmpp:hats:commands:assign', fields: { 'hats#jid': 'erin@localhost', 'hats#uri': 'urn:example:host' } }, (e) => e.ev === 'adhoc' || e.ev === 'error', 'assign');
    assert.equal(assigned.status, 'completed', JSON.stringify(assigned));
    const seen = await dave.expect((e) => e.ev === 'presence' && e.from === `${room}/Erin` && (e.hats as unknown[]).length === 1, 'hat in presence', since);
    assert.deepEqual(seen.hats, [{ uri: 'urn:example:host', title: 'Host', hue: '120' }]);
    const listed = await dave.run({ cmd: 'adhoc', to: room, node: 'urn:xmpp:hats:commands:list-assigned' }, (e) => e.ev === 'adhoc' || e.ev === 'error', 'list-assigned');
    assert.deepEqual(listed.rows, [{ 'hats#jid': 'erin@localhost', 'hats#uri': 'urn:example:host', 'hats#title': 'Host', 'hats#hue': '120' }]);
    // StanzaJS 12 sees one hat; its 0.1 definition reads `name`/`displayName`, which 0.2+ renamed `uri`/`title`.
    const p = await erinHat;
    assert.equal(p.hats!.length, 1);
    assert.equal(p.hats![0]!.id, undefined);
  });
});
