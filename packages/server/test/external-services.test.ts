// Issue #5: XEP-0215 external service discovery, against a real server and
// our own client over TLS: the configured STUN/TURN services, the type
// filter, TURN REST ephemeral credentials (checked by recomputing the HMAC),
// credentials on request (§3.3), the errors, and the disco feature only when
// something is configured.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, IqError, xml, type Element } from '@switchboard/client';
import { NS_DISCO_INFO } from '@switchboard/protocol';
import { loadConfig, type ExternalService } from '../src/config.ts';
import { NS_EXTDISCO, validateExternalServices } from '../src/sm/modules/external-services.ts';
import { startTestServer, type TestServer } from './helpers.ts';

const SECRET = 'north-wind-shared-secret';

const SERVICES: ExternalService[] = [
  { type: 'stun', host: 'stun.example.org', port: 3478, transport: 'udp' },
  { type: 'turn', host: 'turn.example.org', port: 3478, transport: 'udp', secret: SECRET, ttlSeconds: 600 },
  { type: 'turns', host: 'turn.example.org', port: 5349, transport: 'tcp', secret: SECRET },
  { type: 'turn', host: '192.0.2.7', port: 3478, transport: 'tcp', name: 'Fixed relay', username: 'fixed-user', password: 'fixed-pass', restricted: true },
];

const attrsOf = (el: Element): Record<string, string> => ({ ...el.attrs });

describe('XEP-0215 external service discovery', { timeout: 60_000 }, () => {
  let server: TestServer;
  let bare: TestServer;
  const clients: Client[] = [];

  const login = async (s: TestServer, username: string): Promise<Client> => {
    const client = new Client({ domain: 'localhost', username, password: 'pw', resource: 'calls', transport: { kind: 'tcp', host: '127.0.0.1', port: s.c2sPort } });
    clients.push(client);
    await client.connect();
    return client;
  };
  const get = (client: Client, payload: Element): Promise<Element> => client.iq(xml('iq', { type: 'get', to: 'localhost' }, payload));
  const services = async (client: Client, type?: string): Promise<Element> => (await get(client, xml('services', { xmlns: NS_EXTDISCO, type }))).getChild('services', NS_EXTDISCO)!;
  const refusal = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (err) {
      if (err instanceof IqError) return err.condition;
      throw err;
    }
    return 'result';
  };

  before(async () => {
    server = await startTestServer({ externalServices: SERVICES });
    bare = await startTestServer();
    await server.addUser('alice', 'pw');
    await bare.addUser('alice', 'pw');
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.disconnect()));
    await server.stop();
    await bare.stop();
  });

  it('lists every configured service (§3.1), with ephemeral TURN credentials that verify against the shared secret', async () => {
    const alice = await login(server, 'alice');
    const before = Math.floor(Date.now() / 1000);
    const list = (await services(alice)).getChildren('service').map(attrsOf);
    const after = Math.floor(Date.now() / 1000);
    assert.deepEqual(list.map((s) => `${s.type} ${s.host}:${s.port}/${s.transport}`), [
      'stun stun.example.org:3478/udp', 'turn turn.example.org:3478/udp', 'turns turn.example.org:5349/tcp', 'turn 192.0.2.7:3478/tcp',
    ]);
    assert.deepEqual(list[0], { type: 'stun', host: 'stun.example.org', port: '3478', transport: 'udp' }, 'STUN: no credentials');
    for (const [s, ttl] of [[list[1]!, 600], [list[2]!, 86_400]] as const) {
      // draft-uberti-behave-turn-rest-00 §2.2: username = expiry:user, password = base64(HMAC-SHA1(secret, username)).
      const [expiry, user] = s.username!.split(/:(.*)/s);
      assert.equal(user, 'alice@localhost');
      assert.ok(Number(expiry) >= before + ttl && Number(expiry) <= after + ttl, `expiry ${expiry} is now + ${ttl}`);
      assert.equal(s.password, createHmac('sha1', SECRET).update(s.username!).digest('base64'));
      assert.equal(s.expires, new Date(Number(expiry) * 1000).toISOString().replace('.000Z', 'Z'), 'XEP-0082 expiry');
      assert.equal(s.restricted, undefined);
    }
    assert.deepEqual(list[3], { type: 'turn', host: '192.0.2.7', port: '3478', transport: 'tcp', name: 'Fixed relay', restricted: '1' }, 'restricted: credentials on request only');
  });

  it('filters by type (§3.2), echoing the type; an unknown type lists nothing', async () => {
    const alice = await login(server, 'alice');
    const turn = await services(alice, 'turn');
    assert.equal(turn.attrs.type, 'turn');
    assert.deepEqual(turn.getChildren('service').map((s) => s.attrs.host), ['turn.example.org', '192.0.2.7']);
    assert.deepEqual((await services(alice, 'stun')).getChildren('service').map((s) => s.attrs.host), ['stun.example.org']);
    assert.deepEqual((await services(alice, 'ftp')).getChildren('service'), []);
  });

  it('hands out credentials on request (§3.3): fixed for a restricted service, fresh ephemeral ones for a TURN REST service', async () => {
    const alice = await login(server, 'alice');
    const credentials = async (attrs: Record<string, string>) =>
      (await get(alice, xml('credentials', { xmlns: NS_EXTDISCO }, xml('service', attrs)))).getChild('credentials', NS_EXTDISCO)!.getChildren('service').map(attrsOf);
    assert.deepEqual(await credentials({ host: '192.0.2.7', type: 'turn' }), [
      { type: 'turn', host: '192.0.2.7', port: '3478', transport: 'tcp', name: 'Fixed relay', username: 'fixed-user', password: 'fixed-pass' },
    ]);
    // Two services on one host: the port picks one.
    const [turns] = await credentials({ host: 'turn.example.org', type: 'turns', port: '5349' });
    assert.equal(turns?.port, '5349');
    assert.equal(turns?.password, createHmac('sha1', SECRET).update(turns!.username!).digest('base64'));
    assert.match(turns!.username!, /^\d+:alice@localhost$/);
  });

  it('refuses what the XEP says to refuse: unknown service, no credentials to give, malformed request, a set', async () => {
    const alice = await login(server, 'alice');
    const ask = (service: Record<string, string> | undefined) => get(alice, xml('credentials', { xmlns: NS_EXTDISCO }, service && xml('service', service)));
    assert.equal(await refusal(ask({ host: 'nowhere.example.org', type: 'turn' })), 'item-not-found');
    assert.equal(await refusal(ask({ host: 'turn.example.org', type: 'turn', port: '9999' })), 'item-not-found');
    assert.equal(await refusal(ask({ host: 'stun.example.org', type: 'stun' })), 'item-not-found', 'STUN takes no credentials');
    assert.equal(await refusal(ask({ host: 'turn.example.org' })), 'bad-request');
    assert.equal(await refusal(ask(undefined)), 'bad-request');
    assert.equal(await refusal(alice.iq(xml('iq', { type: 'set', to: 'localhost' }, xml('services', { xmlns: NS_EXTDISCO })))), 'bad-request');
  });

  it('advertises urn:xmpp:extdisco:2 in the server\'s disco#info only when services are configured (§5)', async () => {
    const features = async (s: TestServer) => {
      const client = await login(s, 'alice');
      const info = await get(client, xml('query', { xmlns: NS_DISCO_INFO }));
      return info.getChild('query', NS_DISCO_INFO)!.getChildren('feature').map((f) => f.attrs.var);
    };
    assert.ok((await features(server)).includes(NS_EXTDISCO));
    assert.ok(!(await features(bare)).includes(NS_EXTDISCO));
    const alice = await login(bare, 'alice');
    assert.equal(await refusal(services(alice)), 'service-unavailable', 'nothing configured: nothing answers');
  });

  it('reads externalServices from the JSON config file, and refuses entries a client could not use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-extdisco-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ externalServices: SERVICES.slice(0, 2) }));
      assert.deepEqual(loadConfig(['--config', file], {}).externalServices, SERVICES.slice(0, 2));
      assert.deepEqual(loadConfig([], {}).externalServices, [], 'none by default');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const bad: [unknown, RegExp][] = [
      [{ type: 'turn' }, /host is required/],
      [{ type: 'turn', host: 'h', port: 70000 }, /port/],
      [{ type: 'turn', host: 'h', transport: 'sctp' }, /transport/],
      [{ type: 'turn', host: 'h', secret: 's', username: 'u', password: 'p' }, /excludes/],
      [{ type: 'turn', host: 'h', username: 'u' }, /go together/],
      [{ type: '', host: 'h' }, /type/],
    ];
    for (const [entry, message] of bad) assert.throws(() => validateExternalServices([entry as ExternalService]), message);
    assert.doesNotThrow(() => validateExternalServices(SERVICES));
  });
});
