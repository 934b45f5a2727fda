// Issue #4: the client library against our server AND Prosody (Debian),
// over real sockets: each mechanism, the exact state sequence, reconnect
// after the connection is killed, no retry loop on a wrong password,
// resumption without loss (XEP-0198, where the server has it), clean
// disconnect.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startDnsServer, startProxy, type CuttableProxy } from '@switchboard/testkit';
import { Client, ClientError, IqError, message, presence, xml, type ClientOptions, type ConnectionState, type Element } from '../src/index.ts';
import { boundFor, startProsodyServer, startSwitchboard, type ServerUnderTest } from './servers.ts';

const LOGIN_SEQUENCE: ConnectionState[] = ['Connected', 'StreamInit', 'Authenticate', 'Bind', 'Binding', 'Binded'];

function until(predicate: () => boolean, ms = 8000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

function recordStates(client: Client): ConnectionState[] {
  const states: ConnectionState[] = [];
  client.on('state', ({ to }) => states.push(to));
  return states;
}

function nextMessage(client: Client): Promise<Element> {
  return new Promise((resolve) => {
    const off = client.on('stanza', (el) => {
      if (el.name === 'message' && el.getChild('body')) {
        off();
        resolve(el);
      }
    });
  });
}

for (const start of [startSwitchboard, startProsodyServer]) {
  describe(`client against ${start === startSwitchboard ? 'Switchboard' : 'Prosody'}`, () => {
    let server: ServerUnderTest;
    const clients: Client[] = [];
    const proxies: CuttableProxy[] = [];

    const make = (username: string, password: string, extra: Partial<ClientOptions> = {}): Client => {
      const client = new Client({
        domain: 'localhost',
        username,
        password,
        transport: { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort },
        retry: { delayMs: 200 },
        ...extra,
      });
      clients.push(client);
      return client;
    };

    before(async () => {
      server = await start();
    });

    after(async () => {
      await Promise.all(clients.map((c) => c.disconnect()));
      await Promise.all(proxies.map((p) => p.close()));
      await server.stop();
    });

    it('logs in with each mechanism the server offers, passing through the states in order', async () => {
      for (const mechanism of server.mechanisms) {
        const client = make('alice', 'alice-pw', { resource: `m-${mechanism}`, mechanisms: [mechanism as never] });
        const states = recordStates(client);
        const jid = await client.connect();
        assert.ok(boundFor(jid, 'alice@localhost', `m-${mechanism}`), `${mechanism}: ${jid}`);
        assert.deepEqual(states, LOGIN_SEQUENCE, mechanism);
        assert.equal(client.state, 'Binded');
        await client.disconnect();
        assert.equal(client.state, 'Disconnected');
      }
    });

    it('binds the resource the server assigns when none is requested', async () => {
      const client = make('alice', 'alice-pw');
      const jid = await client.connect();
      assert.match(jid, /^alice@localhost\/.+$/);
      assert.equal(client.jid, jid);
      await client.disconnect();
    });

    it('sends initial presence (the server reflects it), a given presence, or none', async () => {
      const reflected = (client: Client): Promise<Element | undefined> =>
        new Promise((resolve) => {
          const timer = setTimeout(() => resolve(undefined), 700);
          client.on('stanza', (el) => {
            if (el.name === 'presence' && el.attrs.from === client.jid) {
              clearTimeout(timer);
              resolve(el);
            }
          });
        });
      // RFC 6121 §4.2.2: the server broadcasts initial presence to the user's available resources, the sender included.
      const plain = make('alice', 'alice-pw', { resource: 'p1' });
      const got1 = reflected(plain);
      await plain.connect();
      assert.equal((await got1)?.attrs.type, undefined);
      const custom = make('bob', 'bob-pw', { resource: 'p2', initialPresence: presence({ show: 'dnd', status: 'busy <really>' }) });
      const got2 = reflected(custom);
      await custom.connect();
      const p2 = await got2;
      assert.equal(p2?.getChildText('show'), 'dnd');
      assert.equal(p2?.getChildText('status'), 'busy <really>');
      const none = make('bob', 'bob-pw', { resource: 'p3', initialPresence: false });
      const got3 = reflected(none);
      await none.connect();
      assert.equal(await got3, undefined);
      await Promise.all([plain.disconnect(), custom.disconnect(), none.disconnect()]);
    });

    it('disconnect() closes the stream cleanly: one offline, no error, and the server ends the session at once', async () => {
      const alice = make('alice', 'alice-pw', { resource: 'leaving' });
      const bob = make('bob', 'bob-pw', { resource: 'staying' });
      const aliceJid = await alice.connect();
      await bob.connect();
      const states = recordStates(alice);
      const events: string[] = [];
      alice.on('offline', ({ error }) => events.push(`offline${error ? ` ${error.code}` : ''}`));
      alice.on('error', (e) => events.push(`error ${e.code}`));
      const started = Date.now();
      await alice.disconnect();
      // The server answered our </stream:stream> with its own; the 2 s fallback did not run out.
      assert.ok(Date.now() - started < 1500, `disconnect took ${Date.now() - started} ms`);
      assert.deepEqual(states, ['Disconnected']);
      assert.deepEqual(events, ['offline']);
      // Not hibernated for resumption (XEP-0198 §5): an iq to the full JID is answered with an error, not held.
      await assert.rejects(bob.iq(xml('iq', { type: 'get', to: aliceJid }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 3000), (err: Error) => err instanceof IqError);
      const again: string[] = [];
      alice.on('online', () => again.push('online'));
      alice.on('resumed', () => again.push('resumed'));
      await alice.connect();
      assert.deepEqual(again, ['online']);
      await Promise.all([alice.disconnect(), bob.disconnect()]);
    });

    it('refuses to send characters XML cannot carry; the builders replace them', async () => {
      const alice = make('alice', 'alice-pw', { resource: 'xmlchars' });
      const bob = make('bob', 'bob-pw', { resource: 'xmlchars' });
      await alice.connect();
      const bobJid = await bob.connect();
      assert.throws(() => alice.send(xml('message', { to: bobJid }, xml('body', {}, 'bell\u0007'))), (err: ClientError) => err.code === 'SB_ERR_INVALID_XML');
      const got = nextMessage(bob);
      alice.send(message({ to: bobJid, type: 'chat', body: 'bell\u0007 & <tag> "q" \u{1F600}' }));
      assert.equal((await got).getChildText('body'), 'bell\uFFFD & <tag> "q" \u{1F600}');
      assert.equal(alice.state, 'Binded', 'the stream survived');
      await Promise.all([alice.disconnect(), bob.disconnect()]);
    });

    it('logs in over WebSocket', async () => {
      const client = make('alice', 'alice-pw', { resource: 'ws', transport: { kind: 'websocket', url: server.websocketUrl }, requireTls: server.websocketTls });
      const states = recordStates(client);
      assert.ok(boundFor(await client.connect(), 'alice@localhost', 'ws'));
      assert.deepEqual(states, LOGIN_SEQUENCE);
      const pong = await client.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.equal(pong.attrs.type, 'result');
      await client.disconnect();
    });

    it('connects with direct TLS (XEP-0368)', async () => {
      assert.ok(server.directTlsPort !== undefined);
      const client = make('alice', 'alice-pw', { resource: 'direct', transport: { kind: 'tcp', host: '127.0.0.1', port: server.directTlsPort, tls: 'direct' } });
      const states = recordStates(client);
      assert.ok(boundFor(await client.connect(), 'alice@localhost', 'direct'));
      assert.deepEqual(states, LOGIN_SEQUENCE);
      await client.disconnect();
    });

    it('finds the server by SRV when only the domain is given (XEP-0368): direct TLS first, then STARTTLS, in priority order', async () => {
      const direct = await startProxy(server.directTlsPort!);
      const starttls = await startProxy(server.c2sPort);
      proxies.push(direct, starttls);
      const dead = await freePort();
      const both = await startDnsServer({
        '_xmpps-client._tcp.localhost': [
          { priority: 0, weight: 0, port: dead, target: 'localhost' },
          { priority: 5, weight: 0, port: direct.port, target: 'localhost' },
        ],
        '_xmpp-client._tcp.localhost': [{ priority: 10, weight: 0, port: starttls.port, target: 'localhost' }],
      });
      const onlyStarttls = await startDnsServer({ '_xmpp-client._tcp.localhost': [{ priority: 0, weight: 0, port: starttls.port, target: 'localhost' }] });
      try {
        const a = make('alice', 'alice-pw', { resource: 'srv-direct', transport: { kind: 'tcp', dnsServers: [both.address] } });
        assert.ok(boundFor(await a.connect(), 'alice@localhost', 'srv-direct'));
        assert.deepEqual([...both.queries].sort(), ['_xmpp-client._tcp.localhost', '_xmpps-client._tcp.localhost']);
        assert.deepEqual([direct.connections, starttls.connections], [1, 0], 'the dead priority-0 target skipped, direct TLS used');
        await a.disconnect();
        const b = make('alice', 'alice-pw', { resource: 'srv-starttls', transport: { kind: 'tcp', dnsServers: [onlyStarttls.address] } });
        assert.ok(boundFor(await b.connect(), 'alice@localhost', 'srv-starttls'));
        assert.equal(starttls.connections, 1);
        await b.disconnect();
      } finally {
        await both.close();
        await onlyStarttls.close();
      }
    });

    it('stops in Disconnected on a wrong password, without retrying', async () => {
      const client = make('alice', 'wrong-password');
      const states = recordStates(client);
      let retries = 0;
      client.on('retrying', () => retries++);
      await assert.rejects(client.connect(), (err: ClientError) => {
        assert.equal(err.code, 'SB_ERR_AUTH');
        assert.equal(err.detail?.saslCondition, 'not-authorized');
        return true;
      });
      await new Promise((r) => setTimeout(r, 500)); // longer than the retry delay
      assert.equal(retries, 0);
      assert.equal(client.state, 'Disconnected');
      assert.deepEqual(states, ['Connected', 'StreamInit', 'Authenticate', 'Disconnected']);
    });

    it('exchanges messages and answers iqs with typed errors', async () => {
      const alice = make('alice', 'alice-pw', { resource: 'chat' });
      const bob = make('bob', 'bob-pw', { resource: 'chat' });
      const aliceJid = await alice.connect();
      const bobJid = await bob.connect();
      const got = nextMessage(bob);
      alice.send(xml('message', { to: bobJid, type: 'chat' }, xml('body', {}, 'hello <bob> & co')));
      const message = await got;
      assert.equal(message.attrs.from, aliceJid);
      assert.equal(message.getChildText('body'), 'hello <bob> & co');
      await assert.rejects(alice.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: 'urn:example:none' }))), (err: IqError) => {
        assert.ok(err instanceof IqError);
        assert.equal(err.condition, 'service-unavailable');
        return true;
      });
      await alice.disconnect();
      await bob.disconnect();
    });

    it('reconnects after the connection is killed: Binded → Retrying → … → Binded', async () => {
      const proxy = await startProxy(server.c2sPort);
      proxies.push(proxy);
      const client = make('alice', 'alice-pw', { resource: 'phoenix', transport: { kind: 'tcp', host: '127.0.0.1', port: proxy.port }, streamManagement: false });
      const first = await client.connect();
      const states = recordStates(client);
      const online = new Promise<string>((resolve) => client.once('online', ({ jid }) => resolve(jid)));
      proxy.cutAll();
      // RFC 6120: the resource asked for; Bind 2: the same one again, made from the tag and the client's user-agent id.
      assert.equal(await online, first);
      assert.deepEqual(states, ['Retrying', ...LOGIN_SEQUENCE]);
      await client.disconnect();
    });

    it('reconnects when the server process dies and comes back: Binded → Retrying → … → Binded', async () => {
      const client = make('alice', 'alice-pw', { resource: 'survivor', retry: { delayMs: 300 } });
      const first = await client.connect();
      const states = recordStates(client);
      const online = new Promise<string>((resolve) => client.once('online', ({ jid }) => resolve(jid)));
      await server.restart();
      assert.equal(await online, first);
      assert.equal(states[0], 'Retrying');
      assert.deepEqual(states.slice(-LOGIN_SEQUENCE.length), LOGIN_SEQUENCE);
      assert.ok(states.slice(0, -LOGIN_SEQUENCE.length).every((s) => s === 'Retrying' || LOGIN_SEQUENCE.includes(s)), states.join(' '));
      await client.disconnect();
    });

    it('disconnect() during Retrying wins: no reconnection follows', async () => {
      const proxy = await startProxy(server.c2sPort);
      proxies.push(proxy);
      const client = make('alice', 'alice-pw', { resource: 'quitter', transport: { kind: 'tcp', host: '127.0.0.1', port: proxy.port }, retry: { delayMs: 300 } });
      await client.connect();
      proxy.cutAll();
      await until(() => client.state === 'Retrying', 5000, 'Retrying');
      await client.disconnect();
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(client.state, 'Disconnected');
      assert.equal(proxy.connections, 0);
    });

    it('after a killed connection resumes the session (XEP-0198) and loses no message', async () => {
      const proxy = await startProxy(server.c2sPort);
      proxies.push(proxy);
      const alice = make('alice', 'alice-pw', { resource: 'resumer', transport: { kind: 'tcp', host: '127.0.0.1', port: proxy.port }, retry: { delayMs: 500 } });
      const bob = make('bob', 'bob-pw', { resource: 'sender' });
      const aliceJid = await alice.connect();
      await bob.connect();
      const events: string[] = [];
      alice.on('resumed', () => events.push('resumed'));
      alice.on('online', () => events.push('online'));
      const received: string[] = [];
      alice.on('stanza', (el) => {
        const body = el.getChildText('body');
        if (el.name === 'message' && body) received.push(body);
      });
      proxy.cutAll();
      await until(() => alice.state === 'Retrying', 5000, 'Retrying');
      // Sent while alice is away: the server holds it for the hibernating session.
      bob.send(xml('message', { to: aliceJid, type: 'chat' }, xml('body', {}, 'while you were out')));
      await until(() => alice.state === 'Binded', 8000, 'Binded again');
      assert.deepEqual(events, ['resumed']);
      await until(() => received.includes('while you were out'), 5000, 'the held message');
      bob.send(xml('message', { to: aliceJid, type: 'chat' }, xml('body', {}, 'after')));
      await until(() => received.includes('after'), 5000, 'a message after reconnecting');
      await alice.disconnect();
      await bob.disconnect();
    });

    it('resumption re-sends what the server had not acknowledged, exactly once', async () => {
      const proxy = await startProxy(server.c2sPort);
      proxies.push(proxy);
      const alice = make('alice', 'alice-pw', { resource: 'resender', transport: { kind: 'tcp', host: '127.0.0.1', port: proxy.port }, retry: { delayMs: 200 } });
      const bob = make('bob', 'bob-pw', { resource: 'receiver' });
      await alice.connect();
      const bobJid = await bob.connect();
      const received: string[] = [];
      bob.on('stanza', (el) => {
        const body = el.getChildText('body');
        if (el.name === 'message' && body) received.push(body);
      });
      const events: string[] = [];
      alice.on('resumed', () => events.push('resumed'));
      alice.on('online', () => events.push('online'));
      alice.send(message({ to: bobJid, type: 'chat', body: 'before' }));
      await until(() => received.includes('before'), 5000, 'the first message');
      // The path dies silently: these never reach the server, so it cannot acknowledge them.
      proxy.freeze();
      alice.send(message({ to: bobJid, type: 'chat', body: 'lost-1' }));
      alice.send(message({ to: bobJid, type: 'chat', body: 'lost-2' }));
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(received, ['before']);
      proxy.cutAll();
      await until(() => received.length >= 3, 8000, 'the re-sent messages');
      await new Promise((r) => setTimeout(r, 300)); // time for a duplicate to show up
      assert.deepEqual(received, ['before', 'lost-1', 'lost-2']);
      assert.deepEqual(events, ['resumed']);
      await alice.disconnect();
      await bob.disconnect();
    });
  });
}
