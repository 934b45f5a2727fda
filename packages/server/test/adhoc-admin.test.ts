// XEP-0050 ad-hoc commands with the XEP-0133 administration set, for the
// admins named in config: from our client library and from slixmpp's own
// xep_0050/xep_0133 plugins, with a non-admin refused by both paths.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client, IqError } from '@switchboard/client';
import { xml, type Element } from '@switchboard/xml';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';

const NS_COMMANDS = 'http://jabber.org/protocol/commands';
const NS_ADMIN = 'http://jabber.org/protocol/admin';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const q = (re: RegExp): RegExp => new RegExp(re.source.replace(/'/g, `['"]`));

function submit(fields: Record<string, string | string[]>): Element {
  return xml(
    'x',
    { xmlns: 'jabber:x:data', type: 'submit' },
    xml('field', { var: 'FORM_TYPE' }, xml('value', {}, NS_ADMIN)),
    Object.entries(fields).map(([k, v]) => xml('field', { var: k }, (Array.isArray(v) ? v : [v]).map((x) => xml('value', {}, x)))),
  );
}

describe('XEP-0133 service administration over XEP-0050', { timeout: 60_000 }, () => {
  let server: TestServer;
  const clients: Client[] = [];
  const connect = async (username: string, password: string, resource: string): Promise<Client> => {
    const c = new Client({ domain: 'localhost', username, password, resource, transport: { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort }, requireTls: false, allowPlainWithoutTls: true });
    clients.push(c);
    await c.connect();
    return c;
  };
  const command = (c: Client, node: string, attrs: Record<string, string> = {}, ...children: Element[]): Promise<Element> =>
    c.iq(xml('iq', { type: 'set', to: 'localhost' }, xml('command', { xmlns: NS_COMMANDS, node: `${NS_ADMIN}#${node}`, ...attrs }, ...children)));
  // (attrs.node, when given, names a node outside XEP-0133's namespace.)
  /** execute, then complete with the form filled in: the command element of the last answer. */
  const run = async (c: Client, node: string, fields: Record<string, string | string[]>): Promise<Element> => {
    const first = (await command(c, node)).getChild('command', NS_COMMANDS)!;
    assert.equal(first.attrs.status, 'executing');
    assert.ok(first.getChild('actions')?.getChild('complete'), 'XEP-0050 §3.4: the actions allowed');
    assert.equal(first.getChild('x', 'jabber:x:data')?.attrs.type, 'form');
    const done = await command(c, node, { sessionid: first.attrs.sessionid!, action: 'complete' }, submit(fields));
    return done.getChild('command', NS_COMMANDS)!;
  };

  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true, admins: ['Admin@LocalHost'] });
    await server.addUser('admin', 'admin-pw');
    await server.addUser('bob', 'bob-pw');
    await server.addUser('eve', 'eve-pw');
  });
  after(async () => {
    for (const c of clients) await c.disconnect();
    await server.stop();
  });

  it('lists the commands to an admin only (disco#items of the commands node), and their disco#info', async () => {
    const admin = await connect('admin', 'admin-pw', 'list');
    const eve = await connect('eve', 'eve-pw', 'list');
    const items = async (c: Client): Promise<string[]> =>
      (await c.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS }))))
        .getChild('query', NS_DISCO_ITEMS)!
        .getChildren('item')
        .map((i) => i.attrs.node!.replace(`${NS_ADMIN}#`, ''))
        .sort();
    assert.deepEqual(await items(admin), [
      'add-user',
      'announce',
      'change-user-password',
      'delete-user',
      'disable-user',
      'end-user-session',
      'get-disabled-users-list',
      'get-disabled-users-num',
      'get-online-users-list',
      'get-online-users-num',
      'get-registered-users-list',
      'get-registered-users-num',
      'get-user-lastlogin',
      'get-user-roster',
      'reenable-user',
      'urn:switchboard:admin:0#sessions',
      'urn:switchboard:admin:0#stats',
      'user-stats',
    ]);
    assert.deepEqual(await items(eve), [], 'a non-admin sees none');
    const info = await admin.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: NS_DISCO_INFO, node: `${NS_ADMIN}#add-user` })));
    assert.equal(info.getChild('query')!.getChild('identity')!.attrs.type, 'command-node');
    await assert.rejects(eve.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: NS_DISCO_INFO, node: `${NS_ADMIN}#add-user` }))), (e: unknown) => e instanceof IqError && e.condition === 'item-not-found');
    const serverInfo = await eve.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: NS_DISCO_INFO })));
    assert.ok(serverInfo.getChild('query')!.getChildren('feature').some((f) => f.attrs.var === NS_COMMANDS));
  });

  it('refuses a non-admin with forbidden, whatever the command', async () => {
    const eve = await connect('eve', 'eve-pw', 'try');
    for (const node of ['add-user', 'delete-user', 'no-such-command']) {
      await assert.rejects(command(eve, node), (e: unknown) => e instanceof IqError && e.condition === 'forbidden', node);
    }
    await assert.rejects(
      command(eve, 'add-user', {}, submit({ accountjid: 'mallory@localhost', password: 'x', 'password-verify': 'x' })),
      (e: unknown) => e instanceof IqError && e.condition === 'forbidden',
    );
    assert.equal(await server.storage.accounts.accountExists('mallory', 'localhost'), false);
  });

  it('add-user, change-user-password (the live session ends with <reset/>), delete-user (<not-authorized/>)', async () => {
    const admin = await connect('admin', 'admin-pw', 'ops');
    let done = await run(admin, 'add-user', { accountjid: 'carol@localhost', password: 'carol-1', 'password-verify': 'carol-1' });
    assert.equal(done.attrs.status, 'completed');
    assert.equal(done.getChildText('note'), 'added carol@localhost');
    const mismatch = await run(admin, 'add-user', { accountjid: 'dan@localhost', password: 'a', 'password-verify': 'b' });
    assert.equal(mismatch.getChild('note')!.attrs.type, 'error');

    const carol = await RawClient.connect(server.c2sPort);
    await carol.login('carol', 'carol-1', 'phone');
    done = await run(admin, 'change-user-password', { accountjid: 'carol@localhost', password: 'carol-2' });
    assert.equal(done.getChildText('note'), 'password changed for carol@localhost; 1 session ended');
    await carol.expect(q(/<reset xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/));
    await carol.waitClosed();

    const again = await RawClient.connect(server.c2sPort);
    await again.login('carol', 'carol-2', 'desk');
    done = await run(admin, 'delete-user', { accountjids: ['carol@localhost', 'nobody@localhost'] });
    assert.equal(done.getChild('note')!.attrs.type, 'error', 'one of the two failed');
    assert.equal(done.getChildText('note'), 'deleted carol@localhost; 1 session ended\nno such account: nobody@localhost');
    await again.expect(q(/<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/));
    assert.equal(await server.storage.accounts.accountExists('carol', 'localhost'), false);
  });

  it('disable-user ends the sessions and the old password no longer logs in', async () => {
    const admin = await connect('admin', 'admin-pw', 'disable');
    await server.addUser('frank', 'frank-pw');
    const frank = await RawClient.connect(server.c2sPort);
    await frank.login('frank', 'frank-pw', 'x');
    const done = await run(admin, 'disable-user', { accountjids: ['frank@localhost'] });
    assert.equal(done.getChildText('note'), 'disabled frank@localhost; 1 session ended');
    await frank.expect(q(/<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><text[^>]*>The account was disabled/));
    const retry = await RawClient.connect(server.c2sPort);
    await assert.rejects(retry.login('frank', 'frank-pw', 'y'));
    retry.close();
    assert.equal(await server.storage.accounts.accountExists('frank', 'localhost'), true, 'the data stays');
  });

  it('get-disabled-users-num/-list name the disabled account; reenable-user brings its old password back', async () => {
    const admin = await connect('admin', 'admin-pw', 'reenable');
    const value = (command: Element, name: string): string[] =>
      command.getChild('x', 'jabber:x:data')!.getChildren('field').find((f) => f.attrs.var === name)!.getChildren('value').map((v) => v.text());
    const num = async (): Promise<string[]> => value((await command(admin, 'get-disabled-users-num')).getChild('command', NS_COMMANDS)!, 'disabledusersnum');
    assert.deepEqual(await num(), ['1']);
    assert.deepEqual(value(await run(admin, 'get-disabled-users-list', { max_items: '100' }), 'disableduserjids'), ['frank@localhost']);
    // Disabled again: what was put aside the first time stays (not the unknowable password of the first disabling).
    await run(admin, 'disable-user', { accountjids: ['frank@localhost'] });
    const done = await run(admin, 'reenable-user', { accountjids: ['frank@localhost', 'bob@localhost'] });
    assert.equal(done.getChildText('note'), 're-enabled frank@localhost\nbob@localhost is not disabled');
    assert.equal(done.getChild('note')!.attrs.type, 'error');
    const frank = await RawClient.connect(server.c2sPort);
    assert.equal(await frank.login('frank', 'frank-pw', 'back'), 'frank@localhost/back');
    frank.close();
    assert.deepEqual(await num(), ['0']);
  });

  it('get-registered-users-num, get-user-lastlogin, get-user-roster and user-stats', async () => {
    const admin = await connect('admin', 'admin-pw', 'looks');
    await admin.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'bob@localhost', name: 'Bob' }, xml('group', {}, 'Work')))));
    await server.addUser('henry', 'henry-pw');
    const field = (command: Element, name: string): string[] =>
      command.getChild('x', 'jabber:x:data')!.getChildren('field').find((f) => f.attrs.var === name)!.getChildren('value').map((v) => v.text());
    const registered = (await command(admin, 'get-registered-users-num')).getChild('command', NS_COMMANDS)!;
    assert.equal(registered.attrs.status, 'completed');
    assert.deepEqual(field(registered, 'registeredusersnum'), [String((await server.storage.accounts.listAccounts('localhost')).length)]);

    const before = Date.now();
    const last = await run(admin, 'get-user-lastlogin', { accountjids: ['admin@localhost', 'henry@localhost'] });
    assert.deepEqual(field(last, 'accountjids'), ['admin@localhost', 'henry@localhost']);
    const [adminLast, henryLast] = field(last, 'lastlogin');
    // XEP-0082 DateTime of this test's login (written off the bind's path, so read once it is there).
    assert.match(adminLast!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Date.parse(adminLast!) <= before && before - Date.parse(adminLast!) < 60_000);
    assert.equal(henryLast, 'never');
    const unknown = await run(admin, 'get-user-lastlogin', { accountjids: ['nobody@localhost'] });
    assert.equal(unknown.getChildText('note'), 'no such account: nobody@localhost');

    const roster = await run(admin, 'get-user-roster', { accountjids: ['admin@localhost'] });
    const query = roster.getChild('x', 'jabber:x:data')!.getChild('query', 'jabber:iq:roster')!;
    assert.deepEqual(
      query.getChildren('item').map((i) => [i.attrs.jid, i.attrs.name, i.attrs.subscription, i.getChildText('group')]),
      [['bob@localhost', 'Bob', 'none', 'Work']],
    );

    const stats = await run(admin, 'user-stats', { accountjid: 'admin@localhost' });
    assert.deepEqual(field(stats, 'rostersize'), ['1']);
    // Bind 2 (on by default) makes the resource: what the client asked for, then a part of the server's.
    assert.ok(field(stats, 'onlineresources').some((r) => r.startsWith('looks/')));
  });

  it('get-online-users-num/-list and announce reach the online users; sessions are the requester’s own', async () => {
    const admin = await connect('admin', 'admin-pw', 'online');
    const bob = await connect('bob', 'bob-pw', 'laptop');
    const headlines: Element[] = [];
    bob.on('message', (m) => {
      if (m.stanza.attrs.type === 'headline') headlines.push(m.stanza);
    });
    await waitFor(() => server.sm.sessions.bare('bob@localhost').some((s) => s.available), 5000, 'bob available');
    const num = (await command(admin, 'get-online-users-num')).getChild('command', NS_COMMANDS)!;
    assert.equal(num.attrs.status, 'completed');
    const count = Number(num.getChild('x')!.getChildren('field').find((f) => f.attrs.var === 'onlineusersnum')!.getChildText('value'));
    assert.ok(count >= 2, `admin and bob at least (got ${count})`);
    const list = await run(admin, 'get-online-users-list', { max_items: '100' });
    const jids = list.getChild('x')!.getChildren('field').find((f) => f.attrs.var === 'onlineuserjids')!.getChildren('value').map((v) => v.text());
    assert.ok(jids.includes('bob@localhost') && jids.includes('admin@localhost'), jids.join(' '));

    const done = await run(admin, 'announce', { subject: 'Maintenance', announcement: 'Restart at 22:00' });
    assert.match(done.getChildText('note') ?? '', /^announced to \d+ sessions?$/);
    await waitFor(() => headlines.length > 0, 5000, 'bob gets the announcement');
    assert.equal(headlines[0]!.getChildText('body'), 'Restart at 22:00');
    assert.equal(headlines[0]!.getChildText('subject'), 'Maintenance');
    assert.equal(headlines[0]!.attrs.from, 'localhost');

    // XEP-0050 §4.6: a session is its opener's; another resource of the same admin cannot continue it; cancel ends it.
    const other = await connect('admin', 'admin-pw', 'other');
    const first = (await command(admin, 'add-user')).getChild('command', NS_COMMANDS)!;
    await assert.rejects(command(other, 'add-user', { sessionid: first.attrs.sessionid!, action: 'complete' }, submit({ accountjid: 'x@localhost', password: 'p', 'password-verify': 'p' })), (e: unknown) => e instanceof IqError && e.condition === 'bad-request');
    const canceled = (await command(admin, 'add-user', { sessionid: first.attrs.sessionid!, action: 'cancel' })).getChild('command', NS_COMMANDS)!;
    assert.equal(canceled.attrs.status, 'canceled');
    await assert.rejects(command(admin, 'add-user', { sessionid: first.attrs.sessionid!, action: 'complete' }, submit({})), (e: unknown) => e instanceof IqError && e.error.application?.name === 'bad-sessionid');
  });

  it('end-user-session ends one session (full JID) or all (bare); the registered users, the session table and the figures', async () => {
    const admin = await connect('admin', 'admin-pw', 'sessions');
    await server.addUser('hank', 'hank-pw');
    const [one, two, three] = [await RawClient.connect(server.c2sPort), await RawClient.connect(server.c2sPort), await RawClient.connect(server.c2sPort)];
    await one.login('hank', 'hank-pw', 'one');
    await two.login('hank', 'hank-pw', 'two');
    await three.login('hank', 'hank-pw', 'three');
    two.send("<presence><show>dnd</show><priority>5</priority></presence>");

    const table = async (): Promise<Record<string, string>[]> => {
      const x = (await command(admin, 'sessions', { node: 'urn:switchboard:admin:0#sessions' })).getChild('command', NS_COMMANDS)!.getChild('x', 'jabber:x:data')!;
      assert.deepEqual(x.getChild('reported')!.getChildren('field').map((f) => f.attrs.var), ['jid', 'available', 'show', 'priority']);
      return x.getChildren('item').map((i) => Object.fromEntries(i.getChildren('field').map((f) => [f.attrs.var!, f.getChildText('value') ?? ''])));
    };
    await waitFor(async () => (await table()).some((r) => r.jid === 'hank@localhost/two' && r.show === 'dnd'), 5000, 'two is dnd');
    assert.deepEqual((await table()).find((r) => r.jid === 'hank@localhost/two'), { jid: 'hank@localhost/two', available: '1', show: 'dnd', priority: '5' });

    let done = await run(admin, 'end-user-session', { accountjids: ['hank@localhost/one'] });
    assert.equal(done.getChildText('note'), 'kicked hank@localhost/one; 1 session ended');
    await one.expect(q(/<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/));
    done = await run(admin, 'end-user-session', { accountjids: ['hank@localhost'] });
    assert.equal(done.getChildText('note'), 'kicked hank@localhost; 2 sessions ended');
    await two.waitClosed();
    await three.waitClosed();
    done = await run(admin, 'end-user-session', { accountjids: ['hank@localhost'] });
    assert.equal(done.getChild('note')!.attrs.type, 'error');
    assert.deepEqual((await table()).filter((r) => r.jid!.startsWith('hank@')), []);

    const users = await run(admin, 'get-registered-users-list', { max_items: 'none' });
    const registered = users.getChild('x')!.getChildren('field').find((f) => f.attrs.var === 'registereduserjids')!.getChildren('value').map((v) => v.text());
    assert.deepEqual(registered, (await server.storage.accounts.listAccounts('localhost')).map((u) => `${u}@localhost`).sort());
    assert.ok(registered.includes('hank@localhost'));

    const stats = (await command(admin, 'stats', { node: 'urn:switchboard:admin:0#stats' })).getChild('command', NS_COMMANDS)!.getChild('x', 'jabber:x:data')!;
    const figure = (name: string): number => Number(stats.getChildren('field').find((f) => f.attrs.var === name)!.getChildText('value'));
    assert.equal(figure('sessions'), server.sm.sessions.size);
    assert.equal(figure('accounts'), registered.length);
    assert.ok(figure('stanzas-in') > 0 && figure('stanzas-out') > 0 && figure('eventloop-lag-p99-ms') >= 0 && figure('rss-bytes') > 0);
  });

  it('slixmpp (xep_0050, xep_0133) as admin adds a user and lists who is online; as a non-admin it is refused', { timeout: 40_000 }, async () => {
    const peer = (jid: string, password: string, newJid: string) =>
      new Promise<{ events: Record<string, unknown>[]; stderr: string }>((resolve) => {
        const script = fileURLToPath(new URL('./peers/slixmpp_adhoc.py', import.meta.url));
        const child = spawn('/usr/bin/python3', [script, jid, password, '127.0.0.1', String(server.c2sPort), newJid, 'slix-pw'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const timer = setTimeout(() => child.kill(), 30_000);
        child.once('close', () => {
          clearTimeout(timer);
          resolve({ events: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), stderr });
        });
      });

    const admin = await peer('admin@localhost/slixmpp', 'admin-pw', 'grace@localhost');
    const byCommand = (ev: string, command?: string) => admin.events.find((e) => e.ev === ev && (command === undefined || e.command === command));
    assert.ok(byCommand('commands'), `events ${JSON.stringify(admin.events)} ${admin.stderr.slice(-800)}`);
    assert.ok((byCommand('commands')!.nodes as string[]).includes(`${NS_ADMIN}#add-user`));
    assert.ok(byCommand('executing', 'add-user'), `events ${JSON.stringify(admin.events)} ${admin.stderr.slice(-1500)}`);
    assert.deepEqual(byCommand('executing', 'add-user')!.fields, ['FORM_TYPE', 'accountjid', 'password', 'password-verify']);
    assert.deepEqual([byCommand('completed', 'add-user')!.status, byCommand('completed', 'add-user')!.note], ['completed', 'added grace@localhost']);
    assert.ok((byCommand('completed', 'get-online-users-list')!.jids as string[]).includes('admin@localhost'));
    assert.deepEqual(byCommand('completed', 'get-registered-users-num'), { ev: 'completed', command: 'get-registered-users-num', status: 'completed', count: String((await server.storage.accounts.listAccounts('localhost')).length) });
    const last = byCommand('completed', 'get-user-lastlogin')!;
    assert.deepEqual(last.jids, ['admin@localhost', 'grace@localhost']);
    // slixmpp reads a text-multi's values back as lines of one string.
    const [adminLast, graceLast] = String(last.lastlogin).split('\n');
    assert.match(adminLast!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(graceLast, 'never');
    const grace = await connect('grace', 'slix-pw', 'new');
    assert.ok(grace);

    const eve = await peer('eve@localhost/slixmpp', 'eve-pw', 'mallory@localhost');
    assert.deepEqual(eve.events.find((e) => e.ev === 'commands')?.nodes, [], `events ${JSON.stringify(eve.events)} ${eve.stderr.slice(-800)}`);
    assert.deepEqual(eve.events.find((e) => e.ev === 'error'), { ev: 'error', step: 'add-user', condition: 'forbidden' });
    assert.equal(await server.storage.accounts.accountExists('mallory', 'localhost'), false);
  });
});
