// Issue #20: the MUC service with third-party clients: slixmpp's xep_0045
// plugin (/usr/bin/python3, TCP) and StanzaJS's muc plugin (WebSocket), in
// the same rooms, including the refusals of §7.2 and a destroyed room.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as Stanza from 'stanza';
import { waitFor, type TestServer } from './helpers.ts';
import { SlixmppMucPeer, type MucPeerEvent } from './peers/slixmpp-muc.ts';
import { mucSuite, stanzajs } from './muc-kit.ts';

const ROOMS = 'conference.localhost';


async function online(agent: Stanza.Agent): Promise<void> {
  const started = new Promise<void>((resolve) => agent.once('session:started', () => resolve()));
  agent.connect();
  await started;
  await agent.sendPresence();
}

async function slixmpp(server: TestServer, user: string): Promise<SlixmppMucPeer> {
  const peer = new SlixmppMucPeer(`${user}@localhost/slix`, 'pw', server.c2sPort);
  await peer.expect((e) => e.ev === 'online', 'online');
  return peer;
}

const is = (ev: string, extra: (e: MucPeerEvent) => boolean = () => true) => (e: MucPeerEvent) => e.ev === ev && extra(e);

describe('XEP-0045 with slixmpp and StanzaJS', { timeout: 90_000 }, () => {
  const suite = mucSuite();
  const { peers, agents } = suite;
  let server: TestServer;
  before(() => {
    server = suite.server;
  });

  it('slixmpp creates and configures a room, StanzaJS joins, they talk both ways, a ban ends it (301, then forbidden)', async () => {
    const alice = await slixmpp(server, 'alice');
    peers.push(alice);
    const room = `interop@${ROOMS}`;
    const joined = await alice.run({ cmd: 'join', room, nick: 'Alice' }, is('joined'), 'joined');
    assert.deepEqual(joined.codes, [110, 201]);
    assert.equal(joined.role, 'moderator');
    const configured = await alice.run({ cmd: 'configure', room, fields: { 'muc#roomconfig_roomname': 'Interop' } }, (e) => e.ev === 'configured' || e.ev === 'error', 'configured');
    assert.equal(configured.ev, 'configured', JSON.stringify(configured));

    const bob = stanzajs(server, 'bob');
    agents.push(bob);
    await online(bob);
    const groupchat: { from: string; body?: string }[] = [];
    bob.on('groupchat', (m) => groupchat.push({ from: m.from, body: m.body }));
    const self = await bob.joinRoom(room, 'Bob');
    assert.ok(self.muc.statusCodes?.includes('110'));
    assert.equal(self.muc.role, 'participant');
    await alice.expect(is('presence', (e) => e.from === `${room}/Bob` && e.role === 'participant'), 'Bob arrives');

    alice.command({ cmd: 'say', room, body: 'hi from slixmpp' });
    await waitFor(() => groupchat.some((m) => m.body === 'hi from slixmpp' && m.from === `${room}/Alice`), 5000, 'StanzaJS gets the groupchat');
    bob.sendMessage({ to: room, type: 'groupchat', body: 'hi from StanzaJS' });
    await alice.expect(is('groupchat', (e) => e.body === 'hi from StanzaJS' && e.from === `${room}/Bob`), 'slixmpp gets the groupchat');

    const gone = new Promise<Stanza.Stanzas.ReceivedMUCPresence>((resolve) => bob.on('muc:unavailable', (p) => resolve(p)));
    await alice.run({ cmd: 'affiliation', room, affiliation: 'outcast', jid: 'bob@localhost', reason: 'testing' }, is('done'), 'ban');
    const banned = await gone;
    assert.ok(banned.muc.statusCodes?.includes('301'));
    await assert.rejects(bob.joinRoom(room, 'Bob'), (p: Stanza.Stanzas.ReceivedPresence) => p.error?.condition === 'forbidden');
  });

  it('StanzaJS owns a members-only, password-protected room; slixmpp is refused, then let in; nickname taken', async () => {
    const carol = stanzajs(server, 'carol');
    agents.push(carol);
    await online(carol);
    const room = `gate@${ROOMS}`;
    const created = await carol.joinRoom(room, 'Carol');
    assert.ok(created.muc.statusCodes?.includes('201'));
    await carol.configureRoom(room, {
      type: 'submit',
      fields: [
        { name: 'FORM_TYPE', value: 'http://jabber.org/protocol/muc#roomconfig' },
        { name: 'muc#roomconfig_membersonly', value: true },
        { name: 'muc#roomconfig_passwordprotectedroom', value: true },
        { name: 'muc#roomconfig_roomsecret', value: 'sesame' },
      ],
    });
    const dave = await slixmpp(server, 'dave');
    peers.push(dave);
    const refused = await dave.run({ cmd: 'join', room, nick: 'Dave', password: 'sesame' }, is('error'), 'members-only refusal');
    assert.equal(refused.condition, 'registration-required');
    await carol.setRoomAffiliation(room, 'dave@localhost', 'member');
    const wrong = await dave.run({ cmd: 'join', room, nick: 'Dave', password: 'nope' }, is('error'), 'wrong password');
    assert.equal(wrong.condition, 'not-authorized');
    const joined = await dave.run({ cmd: 'join', room, nick: 'Dave', password: 'sesame', maxstanzas: 5 }, is('joined'), 'joined');
    assert.deepEqual(joined.codes, [110]);
    // slixmpp counts itself among the occupants.
    assert.deepEqual(joined.occupants, ['Carol', 'Dave']);

    await carol.setRoomAffiliation(room, 'erin@localhost', 'member');
    const erin = await slixmpp(server, 'erin');
    peers.push(erin);
    const taken = await erin.run({ cmd: 'join', room, nick: 'Dave', password: 'sesame' }, is('error'), 'nickname taken');
    assert.equal(taken.condition, 'conflict');
  });

  it('a moderated room silences a visitor; a direct invitation arrives; the room destroyed while occupied tells everyone', async () => {
    const carol = agents.find((a) => a.jid.startsWith('carol'))!;
    const room = `quiet@${ROOMS}`;
    await carol.joinRoom(room, 'Carol');
    await carol.configureRoom(room, { type: 'submit', fields: [{ name: 'muc#roomconfig_moderatedroom', value: true }] });
    const erin = peers.find((p) => p.events.some((e) => e.ev === 'online' && String(e.jid).startsWith('erin')))!;
    const since = erin.events.length;
    carol.sendMessage({ to: 'erin@localhost', muc: { type: 'direct-invite', jid: room, reason: 'come' } });
    await erin.expect(is('direct_invite', (e) => e.room === room), 'direct invitation', since);
    const joined = await erin.run({ cmd: 'join', room, nick: 'Erin' }, is('joined', (e) => e.room === room), 'joined as visitor');
    assert.equal(joined.role, 'visitor');
    const silenced = await erin.run({ cmd: 'say', room, body: 'can anyone hear me?' }, is('message_error'), 'no voice');
    assert.equal(silenced.condition, 'forbidden');

    const before = erin.events.length;
    await carol.destroyRoom(room, { jid: `lobby@${ROOMS}`, reason: 'closing' });
    await erin.expect(is('presence', (e) => e.from === `${room}/Erin` && e.type === 'unavailable'), 'destroyed', before);
    const after = erin.events.length;
    const gone = await erin.run({ cmd: 'join', room, nick: 'Erin' }, is('joined'), 're-entering creates anew');
    // The old room is gone: entering creates a new one, owned by whoever enters.
    assert.deepEqual(gone.codes, [110, 201]);
    assert.ok(erin.events.length > after);
  });
});
