// Issue #20: a persistent room survives a restart (configuration,
// affiliations, subject, history, reserved nicks, §9.9 registration requests,
// XEP-0317 hats, the avatar), rooms are loaded only when used, and
// occupants are told of the shutdown with status 332. Run on SQLite and on
// the machine's PostgreSQL, in a schema of its own.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { RawClient, startTestServer, type TestServer } from './helpers.ts';
import type { ConfigOverrides } from '../src/config.ts';

const MUC = 'http://jabber.org/protocol/muc';
const ROOMS = 'conference.localhost';
const PG_URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function login(server: TestServer, user: string, resource = 'r'): Promise<RawClient> {
  const c = await RawClient.connect(server.c2sPort);
  await c.login(user, 'pw', resource);
  c.send('<presence/>');
  return c;
}

async function exchange(c: RawClient, send: string, pattern: RegExp): Promise<RegExpMatchArray> {
  c.received = '';
  c.send(send);
  return c.expect(pattern);
}

function restartSuite(name: string, overrides: () => ConfigOverrides, cleanup: () => Promise<void>): void {
  describe(`a persistent room across a restart (${name})`, { timeout: 60_000 }, () => {
    after(cleanup);
    it('keeps config, affiliations, subject and history; loads lazily; says 332 on shutdown', async () => {
      let server = await startTestServer({ allowPlaintextOnLoopback: true, ...overrides() });
      for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, 'pw');
      const alice = await login(server, 'alice');
      const bob = await login(server, 'bob');
      await exchange(alice, `<presence to='keep@${ROOMS}/Alice'><x xmlns='${MUC}'/></presence>`, /<status code="201"\/>/);
      await exchange(
        alice,
        `<iq type='set' id='cfg' to='keep@${ROOMS}'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_persistentroom'><value>1</value></field><field var='muc#roomconfig_membersonly'><value>1</value></field><field var='muc#roomconfig_roomname'><value>Keeper</value></field></x></query></iq>`,
        /<iq(?=[^>]*id="cfg")[^>]*type="result"/,
      );
      await exchange(alice, `<iq type='set' id='m' to='keep@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='member' jid='bob@localhost'/></query></iq>`, /<iq(?=[^>]*id="m")[^>]*type="result"/);
      await exchange(alice, `<message to='keep@${ROOMS}' type='groupchat' id='s'><subject>Kept subject</subject></message>`, /<subject>Kept subject<\/subject>/);
      await exchange(alice, `<message to='keep@${ROOMS}' type='groupchat' id='b'><body>before the restart</body></message>`, /<body>before the restart<\/body>/);
      await exchange(bob, `<presence to='keep@${ROOMS}/Bob'><x xmlns='${MUC}'/></presence>`, /<status code="110"\/>/);
      // §7.10: bob reserves a nick; XEP-0486: alice gives the room an avatar. Both are kept with the room.
      await exchange(bob, `<iq type='set' id='reg' to='keep@${ROOMS}'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#register</value></field><field var='muc#register_roomnick'><value>Bobbo</value></field></x></query></iq>`, /<iq(?=[^>]*id="reg")[^>]*type="result"/);
      await exchange(alice, `<iq type='set' id='av' to='keep@${ROOMS}'><vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>AAEC</BINVAL></PHOTO></vCard></iq>`, /<iq(?=[^>]*id="av")[^>]*type="result"/);
      // XEP-0317: a hat defined and worn by bob is kept with the room.
      await exchange(alice, `<iq type='set' id='hat' to='keep@${ROOMS}'><command xmlns='http://jabber.org/protocol/commands' node='urn:xmpp:hats:commands:create'><x xmlns='jabber:x:data' type='submit'><field var='hats#title'><value>Keeper of keys</value></field><field var='hats#uri'><value>urn:example:keys</value></field></x></command></iq>`, /<iq(?=[^>]*id="hat")[^>]*type="result"/);
      await exchange(alice, `<iq type='set' id='don' to='keep@${ROOMS}'><command xmlns='http://jabber.org/protocol/commands' node='urn:xmpp:hats:commands:assign'><x xmlns='jabber:x:data' type='submit'><field var='hats#jid'><value>bob@localhost</value></field><field var='hats#uri'><value>urn:example:keys</value></field></x></command></iq>`, /<iq(?=[^>]*id="don")[^>]*type="result"/);
      // §9.9: carol, a stranger, asks to register; the request waits for an admin across the restart.
      const carolBefore = await login(server, 'carol', 'before');
      await exchange(carolBefore, `<iq type='set' id='ask' to='keep@${ROOMS}'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#register</value></field><field var='muc#register_roomnick'><value>Caro</value></field></x></query></iq>`, /<iq(?=[^>]*id="ask")[^>]*type="result"/);
      carolBefore.close();
      // Let the archive write land before stopping.
      await new Promise((r) => setTimeout(r, 200));
      alice.received = '';
      bob.received = '';
      await server.stopKeepingData();
      // Every occupant heard of the shutdown.
      await alice.expect(/type="unavailable".*?<status code="332"\/>/);
      await bob.expect(/type="unavailable".*?<status code="332"\/>/);
      alice.close();
      bob.close();

      server = await startTestServer({ allowPlaintextOnLoopback: true, ...overrides(), dataDir: server.dataDir });
      const muc = server.services.muc.get(ROOMS)!;
      assert.equal(muc.loadedRooms, 0, 'no room is loaded at start');
      const bob2 = await login(server, 'bob', 'again');
      const entered = await exchange(bob2, `<presence to='keep@${ROOMS}/Bob'><x xmlns='${MUC}'/></presence>`, /<subject>Kept subject<\/subject>/);
      assert.ok(entered);
      assert.match(bob2.received, /<body>before the restart<\/body><occupant-id[^>]*\/><stanza-id[^>]*\/><delay xmlns="urn:xmpp:delay"/);
      assert.match(bob2.received, /affiliation="member"/);
      // The reserved nick and the avatar came back with the room: bob is given "Bobbo" (210) and sees the hash.
      assert.match(bob2.received, new RegExp(`<presence from="keep@${ROOMS}/Bobbo"[^>]*>(?:(?!</presence>).)*<status code="210"/>`));
      assert.match(bob2.received, new RegExp(`<presence from="keep@${ROOMS}/Bobbo"[^>]*>(?:(?!</presence>).)*<hats xmlns="urn:xmpp:hats:0"><hat uri="urn:example:keys" title="Keeper of keys"/></hats>`));
      assert.match(bob2.received, /<x xmlns="vcard-temp:x:update"><photo>0c7a623fd2bbc05b06423be359e4021d36e721ad<\/photo>/);
      assert.equal(muc.loadedRooms, 1);
      // Members-only survived: a stranger is refused.
      const carol = await login(server, 'carol');
      await exchange(carol, `<presence to='keep@${ROOMS}/Carol'><x xmlns='${MUC}'/></presence>`, /type="error".*?<registration-required/);
      const items = await exchange(carol, `<iq type='get' id='rooms' to='${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, /<iq(?=[^>]*id="rooms").*?<\/iq>/);
      assert.match(items[0], new RegExp(`<item jid="keep@${ROOMS}" name="Keeper"/>`));
      // XEP-0313 on the room: a member reads the archive (with RSM); a stranger of a members-only room may not.
      const mam = await exchange(bob2, `<iq type='set' id='mam' to='keep@${ROOMS}'><query xmlns='urn:xmpp:mam:2' queryid='q1'><set xmlns='http://jabber.org/protocol/rsm'><max>10</max></set></query></iq>`, /<iq(?=[^>]*id="mam")[^>]*type="result".*?<\/iq>/);
      assert.match(bob2.received, new RegExp(`<message[^>]*from="keep@${ROOMS}"[^>]*><result xmlns="urn:xmpp:mam:2" queryid="q1" id="[^"]+"><forwarded[^>]*>.*?<body>before the restart</body>`));
      assert.match(bob2.received, new RegExp(`<stanza-id xmlns="urn:xmpp:sid:0" by="keep@${ROOMS}" id="[^"]+"/>`));
      assert.match(mam[0], /<fin xmlns="urn:xmpp:mam:2" complete="true">.*?<count>1<\/count>/);
      await exchange(carol, `<iq type='set' id='mam2' to='keep@${ROOMS}'><query xmlns='urn:xmpp:mam:2'/></iq>`, /id="mam2"[^>]*type="error".*?<forbidden/);
      // §5 metadata (#extended, which the room advertises): its one message is both first and last; not for a stranger.
      const onlyId = new RegExp(`<result xmlns="urn:xmpp:mam:2" queryid="q1" id="([^"]+)"`).exec(bob2.received)![1]!;
      const md = await exchange(bob2, `<iq type='get' id='md' to='keep@${ROOMS}'><metadata xmlns='urn:xmpp:mam:2'/></iq>`, /<iq(?=[^>]*id="md")[^>]*type="result".*?<\/iq>/);
      assert.match(md[0], new RegExp(`<metadata xmlns="urn:xmpp:mam:2"><start id="${onlyId}" timestamp="[^"]+"/><end id="${onlyId}" timestamp="[^"]+"/></metadata>`));
      await exchange(carol, `<iq type='get' id='md2' to='keep@${ROOMS}'><metadata xmlns='urn:xmpp:mam:2'/></iq>`, /id="md2"[^>]*type="error".*?<forbidden/);
      // Carol's request came back with the room: the owner approves it now, and she enters under the nick she asked for.
      const alice2 = await login(server, 'alice', 'again');
      carol.received = '';
      alice2.send(`<message to='keep@${ROOMS}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${MUC}#register</value></field><field var='muc#jid'><value>carol@localhost</value></field><field var='muc#register_allow'><value>1</value></field></x></message>`);
      await carol.expect(/<field var="muc#register_roomnick"><value>Caro<\/value><\/field><field var="muc#register_allow"><value>1<\/value>/);
      await exchange(carol, `<presence to='keep@${ROOMS}/Carol'><x xmlns='${MUC}'/></presence>`, new RegExp(`<presence from="keep@${ROOMS}/Caro"[^>]*>(?:(?!</presence>).)*<status code="110"/>`));
      alice2.close();
      bob2.close();
      carol.close();
      await server.stop();
    });
  });
}

restartSuite('SQLite', () => ({}), async () => {});

const schema = `sb_muc_${randomBytes(5).toString('hex')}`;
restartSuite('PostgreSQL', () => ({ storage: { kind: 'postgres', url: PG_URL, schema } }), async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});
