// Issue #4: the client library against our server AND Prosody (Debian),
// over real sockets: each mechanism, the exact state sequence, reconnect
// after the connection is killed, no retry loop on a wrong password,
// resumption without loss (XEP-0198, where the server has it), clean
// disconnect.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy, type CuttableProxy } from '@switchboard/testkit';
import { Client, ClientError, IqError, xml, type ClientOptions, type ConnectionState, type Element } from '../src/index.ts';
import { startProsodyServer, startSwitchboard, type ServerUnderTest } from './servers.ts';

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
        assert.equal(jid, `alice@localhost/m-${mechanism}`, mechanism);
        assert.deepEqual(states, LOGIN_SEQUENCE, mechanism);
        assert.equal(client.state, 'Binded');
        await client.disconnect();
        assert.equal(client.state, 'Disconnected');
      }
    });

    it('logs in over WebSocket', async () => {
      const client = make('alice', 'alice-pw', { resource: 'ws', transport: { kind: 'websocket', url: server.websocketUrl }, requireTls: server.websocketTls });
      const states = recordStates(client);
      assert.equal(await client.connect(), 'alice@localhost/ws');
      assert.deepEqual(states, LOGIN_SEQUENCE);
      const pong = await client.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.equal(pong.attrs.type, 'result');
      await client.disconnect();
    });

    it('connects with direct TLS (XEP-0368)', async () => {
      assert.ok(server.directTlsPort !== undefined);
      const client = make('alice', 'alice-pw', { resource: 'direct', transport: { kind: 'tcp', host: '127.0.0.1', port: server.directTlsPort, tls: 'direct' } });
      const states = recordStates(client);
      assert.equal(await client.connect(), 'alice@localhost/direct');
      assert.deepEqual(states, LOGIN_SEQUENCE);
      await client.disconnect();
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
      await alice.connect();
      await bob.connect();
      const got = nextMessage(bob);
      alice.send(xml('message', { to: 'bob@localhost/chat', type: 'chat' }, xml('body', {}, 'hello <bob> & co')));
      const message = await got;
      assert.equal(message.attrs.from, 'alice@localhost/chat');
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
      await client.connect();
      const states = recordStates(client);
      const online = new Promise<string>((resolve) => client.once('online', ({ jid }) => resolve(jid)));
      proxy.cutAll();
      assert.equal(await online, 'alice@localhost/phoenix');
      assert.deepEqual(states, ['Retrying', ...LOGIN_SEQUENCE]);
      await client.disconnect();
    });

    it('reconnects when the server process dies and comes back: Binded → Retrying → … → Binded', async () => {
      const client = make('alice', 'alice-pw', { resource: 'survivor', retry: { delayMs: 300 } });
      await client.connect();
      const states = recordStates(client);
      const online = new Promise<string>((resolve) => client.once('online', ({ jid }) => resolve(jid)));
      await server.restart();
      assert.equal(await online, 'alice@localhost/survivor');
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
      await alice.connect();
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
      bob.send(xml('message', { to: 'alice@localhost/resumer', type: 'chat' }, xml('body', {}, 'while you were out')));
      await until(() => alice.state === 'Binded', 8000, 'Binded again');
      assert.deepEqual(events, ['resumed']);
      await until(() => received.includes('while you were out'), 5000, 'the held message');
      bob.send(xml('message', { to: 'alice@localhost/resumer', type: 'chat' }, xml('body', {}, 'after')));
      await until(() => received.includes('after'), 5000, 'a message after reconnecting');
      await alice.disconnect();
      await bob.disconnect();
    });
  });
}
