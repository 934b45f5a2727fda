// Issue #22: the operator HTTP listener. Metrics count a scripted session's
// logins and stanzas exactly; /health, /ready; XEP-0156 host-meta with CORS;
// every metric the Grafana dashboard in docs queries exists.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startHttpListener, type HttpListener } from '../src/ops/http-listener.ts';
import { storeSizes } from '../src/ops/store-sizes.ts';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('operator HTTP listener', () => {
  let server: TestServer;
  let http: HttpListener;
  let ready = true;
  let base = '';

  before(async () => {
    server = await startTestServer({ allowPlaintextOnLoopback: true, archive: true, archiveWriteDelayMs: 50 });
    // Sizes read at each scrape here (maxAgeMs 0); a server reads them at most once a minute.
    http = await startHttpListener({ host: '127.0.0.1', port: 0, websocketUrl: `wss://localhost:${server.wsPort}/xmpp-websocket`, ready: () => ready, storeSizes: storeSizes(server.storage, { maxAgeMs: 0 }) });
    base = `http://127.0.0.1:${http.port}`;
    await server.addUser('alice', 'alice-pw');
    await server.addUser('bob', 'bob-pw');
    await server.addUser('carol', 'carol-pw');
  });
  after(async () => {
    await http.close();
    await server.stop();
  });

  it('counts a scripted session: logins by mechanism and result, stanzas in and out by kind, sessions', async () => {
    const metrics = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();
    const before = await metrics();
    const msgIn0 = sample(before, 'switchboard_stanzas_in_total', { kind: 'message' }) ?? 0;
    const msgOut0 = sample(before, 'switchboard_stanzas_out_total', { kind: 'message' }) ?? 0;

    const wrong = await RawClient.connect(server.c2sPort);
    wrong.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
    await wrong.expect(/<\/stream:features>/);
    wrong.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0nope').toString('base64')}</auth>`);
    await wrong.expect(/<failure/);
    wrong.close();

    const alice = await RawClient.connect(server.c2sPort);
    const bob = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'alice-pw', 'a');
    await bob.login('bob', 'bob-pw', 'b');
    for (let i = 0; i < 3; i++) alice.send(`<message to='bob@localhost/b' type='chat' id='m${i}'><body>hi ${i}</body></message>`);
    await bob.expect(/hi 2/);

    let text = '';
    await waitFor(async () => sample((text = await metrics()), 'switchboard_stanzas_out_total', { kind: 'message' }) === msgOut0 + 3, 5000, 'three messages out');
    assert.equal(sample(text, 'switchboard_logins_total', { mechanism: 'PLAIN', result: 'success' }), 2);
    assert.equal(sample(text, 'switchboard_logins_total', { mechanism: 'PLAIN', result: 'not-authorized' }), 1);
    assert.equal(sample(text, 'switchboard_stanzas_in_total', { kind: 'message' }), msgIn0 + 3);
    assert.equal(sample(text, 'switchboard_sm_sessions'), 2);
    assert.equal(sample(text, 'switchboard_c2s_connections', { transport: 'tcp', state: 'authenticated' }), 2);
    assert.ok((sample(text, 'nodejs_eventloop_lag_p99_seconds') ?? -1) >= 0, 'event-loop lag');
    assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0, 'memory');
    alice.close();
    bob.close();
    await waitFor(async () => sample(await metrics(), 'switchboard_sm_sessions') === 0, 5000, 'sessions ended');
  });

  it('times storage calls by port and method, and one stanza in 16 at the sm', async () => {
    const metrics = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();
    const before = await metrics();
    const logins0 = sample(before, 'switchboard_storage_call_seconds_count', { port: 'accounts', op: 'getAccount' }) ?? 0;
    const timed0 = sample(before, 'switchboard_sm_stanza_seconds_count', { kind: 'message' }) ?? 0;
    const alice = await RawClient.connect(server.c2sPort);
    const bob = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'alice-pw', 'a');
    await bob.login('bob', 'bob-pw', 'b');
    for (let i = 0; i < 48; i++) alice.send(`<message to='bob@localhost/b' type='chat' id='t${i}'><body>t ${i}</body></message>`);
    await bob.expect(/t 47</);
    const text = await metrics();
    // Each SCRAM/PLAIN login reads its account once.
    assert.ok((sample(text, 'switchboard_storage_call_seconds_count', { port: 'accounts', op: 'getAccount' }) ?? 0) >= logins0 + 2, 'account reads timed');
    // 48 messages (and the presences and iqs of two logins) pass the sm: at least two of them timed.
    const timed = (sample(text, 'switchboard_sm_stanza_seconds_count', { kind: 'message' }) ?? 0) - timed0;
    assert.ok(timed >= 2 && timed <= 4, `${timed} of 48 messages timed`);
    const sum = sample(text, 'switchboard_sm_stanza_seconds_sum', { kind: 'message' }) ?? 0;
    assert.ok(sum > 0 && sum < 5, 'the timed messages took some time, and not seconds');
    alice.close();
    bob.close();
    await waitFor(async () => sample(await metrics(), 'switchboard_sm_sessions') === 0, 5000, 'sessions ended');
  });

  it('gauges the offline queue and the archive, as the store counts them', async () => {
    const metrics = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();
    const archived = async (): Promise<number> => {
      let n = 0;
      for (const u of ['alice', 'bob', 'carol']) n += await server.storage.archive.count(u, 'localhost');
      return n;
    };
    const alice = await RawClient.connect(server.c2sPort);
    await alice.login('alice', 'alice-pw', 'a');
    for (let i = 0; i < 2; i++) alice.send(`<message to='carol@localhost' type='chat' id='off${i}'><body>later ${i}</body></message>`);
    await waitFor(async () => sample(await metrics(), 'switchboard_offline_messages') === 2, 5000, 'two messages waiting offline');
    // Each is in alice's archive and carol's, written behind (archiveWriteDelayMs): the gauge follows the store's counts.
    let text = '';
    await waitFor(async () => (await archived()) >= 4 && sample((text = await metrics()), 'switchboard_archive_messages') === (await archived()), 5000, 'the archive counted');
    assert.equal(sample(text, 'switchboard_archive_messages'), await archived());

    const carol = await RawClient.connect(server.c2sPort);
    await carol.login('carol', 'carol-pw', 'c');
    carol.send('<presence/>');
    await carol.expect(/later 1/);
    await waitFor(async () => sample(await metrics(), 'switchboard_offline_messages') === 0, 5000, 'the queue delivered');
    alice.close();
    carol.close();
    await waitFor(async () => sample(await metrics(), 'switchboard_sm_sessions') === 0, 5000, 'sessions ended');
  });

  it('answers /health and /ready (503 while stopping)', async () => {
    assert.equal((await fetch(`${base}/health`)).status, 200);
    assert.equal((await fetch(`${base}/ready`)).status, 200);
    ready = false;
    assert.equal((await fetch(`${base}/ready`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
  });

  it('serves XEP-0156 host-meta and host-meta.json with CORS, listing the wss:// endpoint', async () => {
    const url = `wss://localhost:${server.wsPort}/xmpp-websocket`;
    const xrd = await fetch(`${base}/.well-known/host-meta`, { headers: { origin: 'https://converse.example' } });
    assert.equal(xrd.status, 200);
    assert.equal(xrd.headers.get('access-control-allow-origin'), '*');
    assert.match(await xrd.text(), new RegExp(`<Link rel="urn:xmpp:alt-connections:websocket" href="${url}"/>`));
    const json = await fetch(`${base}/.well-known/host-meta.json`);
    assert.equal(json.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await json.json(), { links: [{ rel: 'urn:xmpp:alt-connections:websocket', href: url }] });
    const preflight = await fetch(`${base}/.well-known/host-meta.json`, { method: 'OPTIONS' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET, OPTIONS');
  });

  it('every metric the Grafana dashboard queries exists', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const dashboard = JSON.parse(readFileSync(new URL('../../../docs/grafana/switchboard.json', import.meta.url), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const t of panel.targets) {
        for (const m of t.expr.matchAll(/\b(switchboard_\w+|nodejs_\w+|process_\w+)\b/g)) queried.add(m[1]!.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    assert.ok(queried.size >= 10);
    for (const name of queried) assert.ok(exposed.has(name), `${name} (queried by the dashboard) is not exposed`);
  });
});
