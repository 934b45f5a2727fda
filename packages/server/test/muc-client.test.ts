// Issue #20: our client library's typed MUC API (packages/client/src/muc.ts)
// against our server: join with history and the roster of occupants,
// groupchat, nick change, subject, typed configuration, invitations, kick and
// ban with their status codes, leave; §7.10 registration and §9.9 approval
// through the API; XEP-0317 hats managed through it and typed on occupants.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client, IqError, Muc, MucError, type MucEvents } from '@switchboard/client';
import { startTestServer, waitFor, type TestServer } from './helpers.ts';

const ROOMS = 'conference.localhost';

async function online(server: TestServer, username: string): Promise<{ client: Client; muc: Muc }> {
  const client = new Client({ domain: 'localhost', username, password: 'pw', resource: 'lib', transport: { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort }, requireTls: false, allowPlainWithoutTls: true });
  await client.connect();
  return { client, muc: new Muc(client) };
}

function record<K extends keyof MucEvents>(muc: Muc, event: K): MucEvents[K][] {
  const seen: MucEvents[K][] = [];
  muc.on(event, (e) => seen.push(e));
  return seen;
}

describe('client MUC API', { timeout: 60_000 }, () => {
  let server: TestServer;
  const clients: Client[] = [];
  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, 'pw');
  });
  after(async () => {
    for (const c of clients) await c.disconnect();
    await server.stop();
  });

  it('joins with history and occupants, talks, changes nick and subject, configures, invites, kicks and bans', async () => {
    const a = await online(server, 'alice');
    const b = await online(server, 'bob');
    const c = await online(server, 'carol');
    clients.push(a.client, b.client, c.client);
    const room = `api@${ROOMS}`;

    const created = await a.muc.join(room, 'Alice');
    assert.deepEqual(created.codes.sort(), ['110', '201']);
    assert.equal(created.self.affiliation, 'owner');
    await a.muc.configure(room, { name: 'API room', persistent: true, whois: 'anyone', historyLength: 10 });
    const config = await a.muc.getConfig(room);
    assert.equal(config.name, 'API room');
    assert.equal(config.persistent, true);
    assert.equal(config.whois, 'anyone');
    assert.equal(config.membersOnly, false);
    assert.equal(config.historyLength, 10);

    a.muc.say(room, 'one');
    a.muc.say(room, 'two');
    a.muc.say(room, 'three');
    const aliceSees = record(a.muc, 'groupchat');
    await waitFor(() => aliceSees.filter((m) => m.body === 'three').length === 1);
    const joinedEvents = record(a.muc, 'occupant:joined');
    const bobRoom = await b.muc.join(room, 'Bob', { history: { maxstanzas: 2 } });
    assert.deepEqual(bobRoom.history.map((m) => m.body), ['two', 'three']);
    assert.ok(bobRoom.history.every((m) => m.delayedAt instanceof Date && m.nick === 'Alice' && m.occupantId));
    assert.deepEqual([...bobRoom.occupants.keys()], ['Alice']);
    assert.equal(bobRoom.occupants.get('Alice')!.jid, a.client.jid, 'non-anonymous: real JIDs shown');
    assert.ok(bobRoom.codes.includes('100'));
    await waitFor(() => joinedEvents.some((e) => e.occupant.nick === 'Bob'));

    const bobSees = record(b.muc, 'groupchat');
    a.muc.say(room, 'live');
    await waitFor(() => bobSees.some((m) => m.body === 'live' && m.nick === 'Alice' && m.delayedAt === undefined));

    // Nick change: 303 seen by the others; a taken nick is a conflict.
    const renames = record(a.muc, 'nick:changed');
    const renamed = await b.muc.changeNick(room, 'Robert');
    assert.equal(renamed.nick, 'Robert');
    await waitFor(() => renames.some((r) => r.from === 'Bob' && r.to === 'Robert'));
    await assert.rejects(b.muc.changeNick(room, 'Alice'), (e: MucError) => e.condition === 'conflict');

    const subjects = record(b.muc, 'subject');
    a.muc.setSubject(room, 'Today');
    await waitFor(() => subjects.some((s) => s.subject === 'Today' && s.nick === 'Alice'));

    // Invitations, mediated and direct.
    const invites = record(c.muc, 'invite');
    a.muc.invite(room, 'carol@localhost', 'come in');
    a.muc.inviteDirectly(room, 'carol@localhost', 'or here');
    await waitFor(() => invites.some((i) => i.kind === 'mediated' && i.from === 'alice@localhost' && i.reason === 'come in') && invites.some((i) => i.kind === 'direct' && i.room === room));
    await c.muc.join(room, 'Carol');

    // Kick (307) and ban (301), seen by the others and by the one removed.
    const left = record(a.muc, 'occupant:left');
    const carolOut = record(c.muc, 'room:left');
    await a.muc.kick(room, 'Carol', 'enough');
    await waitFor(() => left.some((l) => l.occupant.nick === 'Carol' && l.codes.includes('307')));
    await waitFor(() => carolOut.some((l) => l.codes.includes('307') && l.codes.includes('110') && l.reason === 'enough'));
    const bobOut = record(b.muc, 'room:left');
    await a.muc.ban(room, 'bob@localhost', 'spam');
    await waitFor(() => bobOut.some((l) => l.codes.includes('301')));
    assert.deepEqual(await a.muc.affiliations(room, 'outcast'), [{ jid: 'bob@localhost', nick: undefined, reason: 'spam' }]);
    await assert.rejects(b.muc.join(room, 'Bob'), (e: MucError) => e.condition === 'forbidden');

    await a.muc.leave(room);
    assert.equal(a.muc.occupants(room).size, 0);
    await a.muc.join(room, 'Alice');
    await a.muc.destroy(room, { reason: 'done' });
  });

  it('registers (at once in an open room, by approval in a members-only one), manages hats, and reads them on occupants', async () => {
    const a = await online(server, 'alice');
    const b = await online(server, 'bob');
    const d = await online(server, 'dave');
    clients.push(a.client, b.client, d.client);
    const open = `open@${ROOMS}`;
    const club = `club@${ROOMS}`;
    await a.muc.join(open, 'Alice');
    await a.muc.configure(open);
    await a.muc.join(club, 'Alice');
    await a.muc.configure(club, { membersOnly: true });

    // §7.10 in an open room: registered at once.
    assert.equal(await b.muc.register(open, 'Bobby'), 'registered');
    assert.equal(await b.muc.reservedNick(open), 'Bobby');
    await assert.rejects(d.muc.register(open, 'Bobby'), (e: IqError) => e.condition === 'conflict');
    // §9.9 in a members-only room: pending; the owner is asked, a non-admin's answer is refused, the owner's counts.
    const asked = record(a.muc, 'registration:requested');
    const told = record(b.muc, 'registration:decided');
    assert.equal(await b.muc.register(club, 'Bob of the club', { first: 'Robert' }), 'pending');
    await waitFor(() => asked.some((r) => r.room === club && r.jid === 'bob@localhost' && r.nick === 'Bob of the club' && r.details.first === 'Robert'));
    const refused = new Promise<void>((resolve) => d.client.on('stanza', (el) => { if (el.name === 'message' && el.attrs.type === 'error' && el.attrs.from === club && el.toString().includes('<forbidden')) resolve(); }));
    d.muc.decideRegistration(club, 'bob@localhost', true);
    await refused;
    await assert.rejects(b.muc.join(club, 'Bob'), (e: MucError) => e.condition === 'registration-required');
    a.muc.decideRegistration(club, 'bob@localhost', true);
    await waitFor(() => told.some((t) => t.room === club && t.nick === 'Bob of the club' && t.allowed));
    assert.equal(await b.muc.reservedNick(club), 'Bob of the club');
    const entered = await b.muc.join(club, 'Bob');
    assert.equal(entered.nick, 'Bob of the club');
    assert.ok(entered.codes.includes('210'));
    // Denied and withdrawn.
    const daveTold = record(d.muc, 'registration:decided');
    assert.equal(await d.muc.register(club, 'Dee'), 'pending');
    await waitFor(() => asked.some((r) => r.jid === 'dave@localhost'));
    a.muc.decideRegistration(club, 'dave@localhost', false);
    await waitFor(() => daveTold.some((t) => t.nick === 'Dee' && !t.allowed));
    assert.equal(await d.muc.register(club, 'Dee'), 'pending');
    await d.muc.unregister(club);

    // XEP-0317: the owner defines and assigns; every client sees the hat on bob, typed.
    const teacher = await a.muc.createHat(club, { title: 'Teacher', hue: 210 });
    const host = await a.muc.createHat(club, { title: 'Host', uri: 'urn:example:host' });
    assert.deepEqual(await b.muc.hats(club), [teacher, host]);
    await assert.rejects(b.muc.assignHat(club, 'bob@localhost', teacher.uri), (e: IqError) => e.condition === 'forbidden');
    const aliceSees = record(a.muc, 'occupant:changed');
    await a.muc.assignHat(club, 'bob@localhost', teacher.uri);
    await waitFor(() => aliceSees.some((e) => e.occupant.nick === 'Bob of the club' && e.occupant.hats?.[0]?.uri === teacher.uri));
    assert.deepEqual(a.muc.occupants(club).get('Bob of the club')!.hats, [{ uri: teacher.uri, title: 'Teacher', hue: 210 }]);
    await waitFor(() => b.muc.occupants(club).get('Bob of the club')?.hats?.length === 1);
    assert.deepEqual(await a.muc.assignedHats(club), [{ jid: 'bob@localhost', uri: teacher.uri, title: 'Teacher', hue: 210 }]);
    await assert.rejects(a.muc.assignHat(club, 'bob@localhost', 'urn:none'), (e: IqError) => e.condition === 'item-not-found');
    await a.muc.unassignHat(club, 'bob@localhost', teacher.uri);
    await waitFor(() => a.muc.occupants(club).get('Bob of the club')!.hats === undefined);
    await a.muc.destroyHat(club, host.uri);
    assert.deepEqual(await a.muc.hats(club), [teacher]);
  });
});
