// Issue #17, "Migration": a store filled through a running server on SQLite
// (accounts, a roster with subscriptions both ways, offline messages, a vCard,
// a PEP item, an archived chat with a full-text searchable body, a persistent
// room with an affiliation and history) is copied by `switchboard migrate` to
// PostgreSQL; a server started on PostgreSQL serves all of it (SCRAM logins
// with the same passwords, the roster, the offline messages, the same MAM ids
// with full text, the room); then it is copied back to a fresh SQLite store and
// the counts compared. The refusals: a running server's store, a non-empty
// target, an absent source, and a store a migrate left unfinished (the
// server's, too).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { client as xmppClient, xml } from '@xmpp/client';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';
import { startServe } from './serve-process.ts';
import { openSqliteStorage } from '../src/storage/sqlite/sqlite-storage.ts';
import { openPostgresStorage } from '../src/storage/postgres/postgres-storage.ts';
import { MIGRATION_MARK, tallyStorage } from '../src/storage/migrate.ts';

const PG_URL = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const MUC = 'http://jabber.org/protocol/muc';
const ROOMS = 'conference.localhost';
const MAM = 'urn:xmpp:mam:2';
const OVERRIDES = { allowPlaintextOnLoopback: true, archive: true } as const;

/** The real command, in a process of its own. */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function login(server: TestServer, user: string, resource = 'r'): Promise<RawClient> {
  const c = await RawClient.connect(server.c2sPort);
  await c.login(user, `${user}-pw`, resource);
  return c;
}

async function exchange(c: RawClient, send: string, pattern: RegExp, ms = 5000): Promise<RegExpMatchArray> {
  c.received = '';
  c.send(send);
  return c.expect(pattern, ms);
}

const result = (id: string): RegExp => new RegExp(`<iq(?=[^>]*id="${id}")[^>]*type="result"`);
const mamQuery = (id: string, fullText?: string): string =>
  `<iq type='set' id='${id}'><query xmlns='${MAM}' queryid='${id}'>` +
  (fullText ? `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${MAM}</value></field><field var='{urn:xmpp:fulltext:0}fulltext'><value>${fullText}</value></field></x>` : '') +
  `<set xmlns='http://jabber.org/protocol/rsm'><max>50</max></set></query></iq>`;

/** The archived ids a query returned, in order. */
async function mamIds(c: RawClient, id: string, fullText?: string): Promise<string[]> {
  const fin = await exchange(c, mamQuery(id, fullText), new RegExp(`<iq(?=[^>]*id="${id}")[^>]*type="result".*?</iq>`));
  assert.match(fin[0], /complete="true"/);
  return [...c.received.matchAll(new RegExp(`<result xmlns="${MAM}" queryid="${id}" id="([^"]+)"`, 'g'))].map((m) => m[1]!);
}

describe('switchboard migrate: SQLite -> PostgreSQL -> SQLite, through running servers', { timeout: 120_000 }, () => {
  const schema = `sb_mig_${randomBytes(5).toString('hex')}`;
  const dirs: string[] = [];
  const tmp = (): string => {
    dirs.push(mkdtempSync(join(tmpdir(), 'switchboard-migrate-')));
    return dirs.at(-1)!;
  };
  after(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('carries accounts, rosters, offline messages, vCard, PEP, the archive with full text and a room, and checks the counts', async (t) => {
    // 1. Fill a SQLite store through a running server.
    const sqliteDir = tmp();
    let server = await startTestServer({ ...OVERRIDES, dataDir: sqliteDir });
    let stopped = false;
    const first = server;
    t.after(() => (stopped ? undefined : first.stopKeepingData()));
    for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, `${u}-pw`);
    const alice = await login(server, 'alice');
    const bob = await login(server, 'bob');
    t.after(() => {
      alice.close();
      bob.close();
    });
    alice.send('<presence/>');
    bob.send('<presence/>');
    await waitFor(() => server.sm.sessions.full('bob@localhost/r')?.available === true);
    // Subscriptions both ways (RFC 6121 §3).
    alice.send("<presence to='bob@localhost' type='subscribe'/>");
    bob.send("<presence to='alice@localhost' type='subscribe'/>");
    await new Promise((r) => setTimeout(r, 100));
    alice.send("<presence to='bob@localhost' type='subscribed'/>");
    bob.send("<presence to='alice@localhost' type='subscribed'/>");
    await waitFor(async () => (await server.storage.rosters.getRoster('alice', 'localhost')).items.some((i) => i.jid === 'bob@localhost' && i.subscription === 'both'));
    await waitFor(async () => (await server.storage.rosters.getRoster('bob', 'localhost')).items.some((i) => i.jid === 'alice@localhost' && i.subscription === 'both'));
    // An archived chat with a searchable body, and one without the word.
    alice.send("<message to='bob@localhost' type='chat' id='c1'><body>the quokka smiles at dawn</body></message>");
    await bob.expect(/<body>the quokka smiles at dawn<\/body>/);
    bob.send("<message to='alice@localhost' type='chat' id='c2'><body>nothing to see</body></message>");
    await alice.expect(/<body>nothing to see<\/body>/);
    // Offline messages for carol.
    for (const n of [1, 2]) alice.send(`<message to='carol@localhost' type='chat' id='o${n}'><body>while you were out ${n}</body></message>`);
    await waitFor(async () => (await server.storage.offline.count('carol', 'localhost')) === 2);
    // A vCard and a PEP item.
    await exchange(alice, "<iq type='set' id='vc'><vCard xmlns='vcard-temp'><FN>Alice Liddell</FN></vCard></iq>", result('vc'));
    await exchange(
      alice,
      "<iq type='set' id='pub'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:example:mood'><item id='i1'><mood xmlns='urn:example:mood'>curious</mood></item></publish></pubsub></iq>",
      result('pub'),
    );
    // A persistent, members-only room with bob as member and a message in its history.
    await exchange(alice, `<presence to='tea@${ROOMS}/Alice'><x xmlns='${MUC}'/></presence>`, /<status code="201"\/>/);
    await exchange(
      alice,
      `<iq type='set' id='cfg' to='tea@${ROOMS}'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_persistentroom'><value>1</value></field><field var='muc#roomconfig_membersonly'><value>1</value></field><field var='muc#roomconfig_roomname'><value>Mad Tea Party</value></field></x></query></iq>`,
      result('cfg'),
    );
    await exchange(alice, `<iq type='set' id='aff' to='tea@${ROOMS}'><query xmlns='${MUC}#admin'><item affiliation='member' jid='bob@localhost'/></query></iq>`, result('aff'));
    await exchange(alice, `<message to='tea@${ROOMS}' type='groupchat' id='g1'><body>no room, no room</body></message>`, /<body>no room, no room<\/body>/);
    const idsBefore = await mamIds(alice, 'all1');
    const quokkaBefore = await mamIds(alice, 'ft1', 'quokka');
    assert.equal(idsBefore.length, 4, "two chats and two messages to carol");
    assert.equal(quokkaBefore.length, 1);

    alice.close();
    bob.close();
    stopped = true;
    await server.stopKeepingData();

    // 2. SQLite -> PostgreSQL.
    const toPg = await cli('migrate', '--from', `sqlite:${sqliteDir}`, '--to', `postgres:${PG_URL}`, '--schema', schema, '--batch', '3');
    assert.equal(toPg.code, 0, toPg.stderr);
    assert.match(toPg.stdout, /^accounts\s+3\s+3$/m);
    assert.match(toPg.stdout, /^offlineMessages\s+2\s+2$/m);
    assert.match(toPg.stdout, /^mucRooms\s+1\s+1$/m);
    assert.match(toPg.stderr, /every count agrees/);
    // Again into the same schema: refused, and says why.
    const again = await cli('migrate', '--from', `sqlite:${sqliteDir}`, '--to', `postgres:${PG_URL}`, '--schema', schema);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /refused: the target is not empty \(accounts 3, .*\); nothing was written/);

    // 3. A server on PostgreSQL serves everything.
    server = await startTestServer({ ...OVERRIDES, storage: { kind: 'postgres', url: PG_URL, schema } });
    try {
      // SCRAM with the passwords of before: the stored keys came across as they were.
      const mechanisms: string[] = [];
      const onAuth = (m: unknown): void => void mechanisms.push((m as { mechanism: string }).mechanism);
      subscribe('switchboard:c2s:authenticated', onAuth);
      try {
        const entity = xmppClient({ service: `xmpp://127.0.0.1:${server.c2sPort}`, domain: 'localhost', resource: 'scram', username: 'carol', password: 'carol-pw' });
        entity.reconnect.stop();
        entity.on('error', () => {});
        const offline: string[] = [];
        entity.on('stanza', (el) => {
          const body = el.is('message') ? el.getChildText('body') : null;
          if (body) offline.push(body);
        });
        await entity.start();
        await entity.send(xml('presence'));
        await waitFor(() => offline.length === 2, 5000, 'offline messages');
        assert.deepEqual(offline, ['while you were out 1', 'while you were out 2']);
        await entity.stop();
      } finally {
        unsubscribe('switchboard:c2s:authenticated', onAuth);
      }
      assert.ok(mechanisms.length === 1 && mechanisms[0]!.startsWith('SCRAM-'), `logged in with ${mechanisms.join(',')}`);

      const alice2 = await login(server, 'alice', 'again');
      const roster = await exchange(alice2, "<iq type='get' id='ro'><query xmlns='jabber:iq:roster'/></iq>", /<iq(?=[^>]*id="ro").*?<\/iq>/);
      assert.match(roster[0], /<item[^>]*jid="bob@localhost"[^>]*subscription="both"/);
      assert.match(roster[0], /ver="\d+"/);
      assert.deepEqual(await mamIds(alice2, 'all2'), idsBefore, 'the same archive ids, in order');
      assert.deepEqual(await mamIds(alice2, 'ft2', 'quokka'), quokkaBefore, 'full text finds the same message');
      const vcard = await exchange(alice2, "<iq type='get' id='vg'><vCard xmlns='vcard-temp'/></iq>", /<iq(?=[^>]*id="vg").*?<\/iq>/);
      assert.match(vcard[0], /<FN>Alice Liddell<\/FN>/);
      const pep = await exchange(
        alice2,
        "<iq type='get' id='pg' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:example:mood'/></pubsub></iq>",
        /<iq(?=[^>]*id="pg").*?<\/iq>/,
      );
      assert.match(pep[0], /<item id="i1"><mood xmlns="urn:example:mood">curious<\/mood><\/item>/);
      // The room: bob (a member) enters a members-only room and gets the history; its name is listed.
      const bob2 = await login(server, 'bob', 'again');
      await exchange(bob2, `<presence to='tea@${ROOMS}/Bob'><x xmlns='${MUC}'/></presence>`, /<body>no room, no room<\/body>/);
      assert.match(bob2.received, /affiliation="member"/);
      const items = await exchange(bob2, `<iq type='get' id='rooms' to='${ROOMS}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, /<iq(?=[^>]*id="rooms").*?<\/iq>/);
      assert.match(items[0], new RegExp(`<item jid="tea@${ROOMS}" name="Mad Tea Party"/>`));
      const carol = await login(server, 'carol', 'room');
      await exchange(carol, `<presence to='tea@${ROOMS}/Carol'><x xmlns='${MUC}'/></presence>`, /type="error".*?<registration-required/);
      for (const c of [alice2, bob2, carol]) c.close();
    } finally {
      await server.stop();
    }

    // 4. PostgreSQL -> a fresh SQLite store; the counts of both agree, checked here apart from the command's own check.
    const back = tmp();
    const toSqlite = await cli('migrate', '--from', `postgres:${PG_URL}`, '--from-schema', schema, '--to', `sqlite:${back}`);
    assert.equal(toSqlite.code, 0, toSqlite.stderr);
    const pgStore = await openPostgresStorage(PG_URL, { schema });
    const sqliteStore = openSqliteStorage(join(back, 'switchboard.sqlite'));
    try {
      const [a, b] = [await tallyStorage(pgStore), await tallyStorage(sqliteStore)];
      assert.deepEqual(b, a);
      assert.equal(a.accounts, 3);
      assert.ok(a.archive! >= 4, `archive rows ${a.archive}`);
      assert.equal(a.mucRooms, 1);
    } finally {
      await pgStore.close();
      await sqliteStore.close();
    }
  });

  it("refuses a running server's store, an absent source and bad usage, naming the problem", async () => {
    const live = tmp();
    const serve = await startServe(['--data-dir', live, '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1', '--allow-plaintext-on-loopback']);
    try {
      const running = await cli('migrate', '--from', `sqlite:${live}`, '--to', `sqlite:${tmp()}`);
      assert.equal(running.code, 1, running.stderr);
      assert.match(running.stderr, /refused: a server is running on .*: stop it first/);
    } finally {
      await serve.stop();
    }
    const missing = await cli('migrate', '--from', `sqlite:${join(tmp(), 'nothing-here')}`, '--to', `sqlite:${tmp()}`);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /refused: no store at .*switchboard\.sqlite/);
    const noSchema = await cli('migrate', '--from', `postgres:${PG_URL}`, '--from-schema', `${schema}_absent`, '--to', `sqlite:${tmp()}`);
    assert.equal(noSchema.code, 1);
    assert.match(noSchema.stderr, /refused: no store in schema/);
    // A store a migrate left unfinished: the server will not start on it, and says what to do.
    const half = tmp();
    const marked = openSqliteStorage(join(half, 'switchboard.sqlite'));
    await marked.userData.set(MIGRATION_MARK.username, MIGRATION_MARK.host, MIGRATION_MARK.kind, MIGRATION_MARK.key, '{"from":"sqlite:/old"}');
    await marked.close();
    await assert.rejects(startTestServer({ ...OVERRIDES, dataDir: half }), /target of a switchboard migrate that has not finished \(\{"from":"sqlite:\/old"\}\): run that migrate again with --resume/);
    const onward = await cli('migrate', '--from', `sqlite:${half}`, '--to', `sqlite:${tmp()}`);
    assert.equal(onward.code, 1);
    assert.match(onward.stderr, /refused: the source is the target of a migrate that has not finished/);
    const usage = await cli('migrate', '--from', 'mysql:x', '--to', `sqlite:${tmp()}`);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /not a store: mysql:x/);
  });
});
