// What the client does with what a server sends during negotiation, for the
// answers a real server will not give on demand (a scripted server on a real
// socket plays them): a stream error or missing features at StreamInit are
// reported, not ignored; silence times out; policy refusals and servers that
// cannot prove they know the password stop the machine; PLAIN goes out
// without TLS only when the application allows it.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startScriptedServer, type ScriptedConnection, type ScriptedServer } from '@switchboard/testkit';
import { Client, ClientError, type ClientErrorCode, type ClientOptions, type ConnectionState } from '../src/index.ts';

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0' xml:lang='en'>`;
const OPEN = /<stream:stream[^>]*>/;
const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const mechanisms = (...names: string[]): string => `<stream:features><mechanisms xmlns='${SASL}'>${names.map((n) => `<mechanism>${n}</mechanism>`).join('')}</mechanisms></stream:features>`;
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

interface Run {
  states: ConnectionState[];
  errors: ClientErrorCode[];
  offline: (ClientError | undefined)[];
  outcome: string;
}

const servers: ScriptedServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function serve(script: (conn: ScriptedConnection, index: number) => Promise<void> | void): Promise<ScriptedServer> {
  const server = await startScriptedServer(script);
  servers.push(server);
  return server;
}

/** Connects to the scripted server and records everything until connect() settles. */
async function run(server: ScriptedServer, extra: Partial<ClientOptions> = {}): Promise<Run & { client: Client }> {
  const client = new Client({
    domain: 'localhost',
    username: 'alice',
    password: 'secret',
    transport: { kind: 'tcp', host: '127.0.0.1', port: server.port },
    requireTls: false,
    retry: { delayMs: 50, maxAttempts: 1 },
    timeoutMs: 1000,
    ...extra,
  });
  const r: Run & { client: Client } = { client, states: [], errors: [], offline: [], outcome: '' };
  client.on('state', ({ to }) => r.states.push(to));
  client.on('error', (e) => r.errors.push(e.code));
  client.on('offline', ({ error }) => r.offline.push(error));
  r.outcome = await client.connect().then(
    (jid) => `online ${jid}`,
    (err: ClientError) => `${err.code}: ${err.message}`,
  );
  return r;
}

const RETRIED_ONCE = (...inAttempt: ConnectionState[]): ConnectionState[] => [...inAttempt, 'Retrying', ...inAttempt, 'Disconnected'];

describe('negotiation against a scripted server', () => {
  it('StreamInit: a fatal stream error in place of the features is reported and stops the machine', async () => {
    const server = await serve(async (c) => {
      await c.read(OPEN);
      c.write(`${HEADER}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no such domain</text></stream:error></stream:stream>`);
    });
    const r = await run(server);
    assert.deepEqual(r.states, ['Connected', 'StreamInit', 'Disconnected']);
    assert.deepEqual(r.errors, ['SB_ERR_STREAM']);
    assert.equal(r.offline[0]?.detail.streamError?.condition, 'host-unknown');
    assert.equal(r.offline[0]?.detail.streamError?.text, 'no such domain');
    assert.match(r.outcome, /^SB_ERR_STREAM: stream error: host-unknown/);
    assert.equal(server.accepted, 1);
  });

  it('StreamInit: a passing stream error is reported and retried', async () => {
    const server = await serve(async (c) => {
      await c.read(OPEN);
      c.write(`${HEADER}<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`);
    });
    const r = await run(server);
    assert.deepEqual(r.states, RETRIED_ONCE('Connected', 'StreamInit'));
    assert.deepEqual(r.errors, ['SB_ERR_STREAM', 'SB_ERR_STREAM']);
    assert.match(r.outcome, /^SB_ERR_ATTEMPTS: .*system-shutdown/);
    assert.equal(server.accepted, 2);
  });

  it('StreamInit: something other than the features is reported, not ignored', async () => {
    const server = await serve(async (c) => {
      await c.read(OPEN);
      c.write(`${HEADER}<message from='localhost'><body>hi</body></message>`);
    });
    const r = await run(server);
    assert.deepEqual(r.states, RETRIED_ONCE('Connected', 'StreamInit'));
    assert.deepEqual(r.errors, ['SB_ERR_NEGOTIATION', 'SB_ERR_NEGOTIATION']);
    assert.match(r.outcome, /expected stream features, got <message>/);
  });

  it('StreamInit: features without SASL mechanisms are reported', async () => {
    const server = await serve(async (c) => {
      await c.read(OPEN);
      c.write(`${HEADER}<stream:features/>`);
    });
    const r = await run(server);
    assert.deepEqual(r.states, RETRIED_ONCE('Connected', 'StreamInit', 'Authenticate'));
    assert.match(r.outcome, /offer no SASL mechanisms/);
  });

  it('StreamInit: a server that never sends its features times out', async () => {
    const server = await serve(async (c) => {
      await c.read(OPEN);
      c.write(HEADER);
    });
    const started = Date.now();
    const r = await run(server, { timeoutMs: 200 });
    assert.deepEqual(r.states, RETRIED_ONCE('Connected', 'StreamInit'));
    assert.deepEqual(r.errors, ['SB_ERR_TIMEOUT', 'SB_ERR_TIMEOUT']);
    assert.ok(Date.now() - started >= 400, 'two waits of 200 ms');
  });

  it('StreamInit: a pre-XMPP-1.0 header (no version) stops the machine', async () => {
    const server = await serve(async (c) => {
      await c.read(OPEN);
      c.write(`${HEADER.replace(" version='1.0' xml:lang", ' xml:lang')}${mechanisms('PLAIN')}`);
    });
    const r = await run(server);
    assert.deepEqual(r.states, ['Connected', 'StreamInit', 'Disconnected']);
    assert.match(r.outcome, /^SB_ERR_NEGOTIATION: .*XMPP 1\.0 is required/);
  });

  it('StreamInit: XML that is not well-formed is answered with a stream error and retried', async () => {
    const server = await serve(async (c) => {
      await c.read(OPEN);
      c.write(`${HEADER}<stream:features><a></b>`);
      await c.read(/<stream:error><not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    });
    const r = await run(server);
    assert.deepEqual(r.states, RETRIED_ONCE('Connected', 'StreamInit'));
    assert.deepEqual(r.errors, ['SB_ERR_STREAM', 'SB_ERR_STREAM']);
    assert.deepEqual(server.failures, []);
  });

  it('Authenticate: without TLS on offer, requireTls (the default) stops before any credential is sent', async () => {
    const server = await serve(async (c) => {
      await c.read(OPEN);
      c.write(HEADER + mechanisms('PLAIN', 'SCRAM-SHA-1'));
    });
    const r = await run(server, { requireTls: true });
    assert.deepEqual(r.states, ['Connected', 'StreamInit', 'Authenticate', 'Disconnected']);
    assert.match(r.outcome, /^SB_ERR_POLICY: /);
    await server.connections[0]!.closed;
    assert.doesNotMatch(server.connections[0]!.received, /<auth/);
  });

  it('Authenticate: PLAIN without TLS is refused unless allowed, and then logs in (legacy session included)', async () => {
    const refused = await serve(async (c) => {
      await c.read(OPEN);
      c.write(HEADER + mechanisms('PLAIN'));
    });
    const r1 = await run(refused);
    assert.deepEqual(r1.states, ['Connected', 'StreamInit', 'Authenticate', 'Disconnected']);
    assert.match(r1.outcome, /^SB_ERR_AUTH: no usable SASL mechanism/);
    await refused.connections[0]!.closed;
    assert.doesNotMatch(refused.connections[0]!.received, /<auth/);

    let auth = '';
    const allowed = await serve(async (c) => {
      await c.read(OPEN);
      c.write(HEADER + mechanisms('PLAIN'));
      auth = await c.read(/<\/auth>/);
      c.write(`<success xmlns='${SASL}'/>`);
      await c.read(OPEN);
      c.write(`${HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>`);
      const bind = await c.read(/<\/iq>/);
      assert.match(bind, /<bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>scripted<\/resource><\/bind>/);
      c.write(`<iq type='result' id='${/id="([^"]+)"/.exec(bind)![1]}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/scripted</jid></bind></iq>`);
      const session = await c.read(/<\/iq>/);
      assert.match(session, /<session xmlns="urn:ietf:params:xml:ns:xmpp-session"\/>/);
      c.write(`<iq type='result' id='${/id="([^"]+)"/.exec(session)![1]}'/>`);
      await c.read(/<presence\/>/);
      await c.read(/<\/stream:stream>/);
      c.write('</stream:stream>');
      c.end();
    });
    const r2 = await run(allowed, { allowPlainWithoutTls: true, resource: 'scripted' });
    assert.equal(r2.outcome, 'online alice@localhost/scripted');
    assert.match(auth, new RegExp(`<auth xmlns="${SASL}" mechanism="PLAIN">${b64('\0alice\0secret')}</auth>`));
    await r2.client.disconnect();
    assert.deepEqual(r2.states, ['Connected', 'StreamInit', 'Authenticate', 'Bind', 'Binding', 'Binded', 'Disconnected']);
    assert.deepEqual(r2.errors, []);
    assert.deepEqual(allowed.failures, []);
  });

  it('Authenticate: a SCRAM server that cannot prove it knows the password is refused, with no retry', async () => {
    const server = await serve(async (c) => {
      await c.read(OPEN);
      c.write(HEADER + mechanisms('SCRAM-SHA-1'));
      const auth = await c.read(/<\/auth>/);
      const clientFirst = unb64(/>([^<]+)<\/auth>/.exec(auth)![1]!);
      const nonce = /r=([^,]+)/.exec(clientFirst)![1]!;
      c.write(`<challenge xmlns='${SASL}'>${b64(`r=${nonce}impostor,s=QSXCR+Q6sek8bf92,i=4096`)}</challenge>`);
      await c.read(/<\/response>/);
      c.write(`<success xmlns='${SASL}'>${b64(`v=${Buffer.alloc(20, 7).toString('base64')}`)}</success>`);
    });
    const r = await run(server);
    assert.deepEqual(r.states, ['Connected', 'StreamInit', 'Authenticate', 'Disconnected']);
    assert.match(r.outcome, /^SB_ERR_AUTH: SCRAM: the server signature does not verify/);
    assert.equal(server.accepted, 1);
    assert.deepEqual(server.failures, []);
  });

  it('Authenticate: temporary-auth-failure is retried; not-authorized is not', async () => {
    const failing = (condition: string) => async (c: ScriptedConnection) => {
      await c.read(OPEN);
      c.write(HEADER + mechanisms('PLAIN'));
      await c.read(/<\/auth>/);
      c.write(`<failure xmlns='${SASL}'><${condition}/></failure>`);
    };
    const temporary = await run(await serve(failing('temporary-auth-failure')), { allowPlainWithoutTls: true });
    assert.deepEqual(temporary.states, RETRIED_ONCE('Connected', 'StreamInit', 'Authenticate'));
    assert.equal(temporary.offline[0]?.code, 'SB_ERR_ATTEMPTS');
    const wrong = await run(await serve(failing('not-authorized')), { allowPlainWithoutTls: true });
    assert.deepEqual(wrong.states, ['Connected', 'StreamInit', 'Authenticate', 'Disconnected']);
    assert.equal(wrong.offline[0]?.detail.saslCondition, 'not-authorized');
  });
});
