// XEP-0198 across c2s processes (#17, #21), with real processes in the fault
// suite's topology (cluster-kit.ts): two c2s, two sm shards and a standby,
// the test's own nats-server, PostgreSQL. A client in the middle of a
// numbered burst loses its c2s (kill -9) and resumes through the other:
// every message exactly once, in order. A session whose c2s died and whose
// client never comes back ends after the resumption timeout, and what it
// held reaches offline storage, delivered once at the next login.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client, type Element, type TcpOptions } from '@switchboard/client';
import { RawClient, waitFor } from './helpers.ts';
import { kill, startFullCluster, type FullCluster, type RoleProcess } from './cluster-kit.ts';

const RESUME_SECONDS = 4;

const ids = (text: string, prefix: string): number[] => [...text.matchAll(new RegExp(`<message[^>]*id="${prefix}(\\d+)"`, 'g'))].map((m) => Number(m[1]));
/** Stanzas in a stretch of raw stream text (no stanza here nests another). */
const stanzaCount = (text: string): number => text.match(/<(?:message|presence|iq)[\s>/]/g)?.length ?? 0;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** Authenticates on a fresh stream without binding: the point where XEP-0198 §5 resumes. */
async function authenticate(client: RawClient, username: string): Promise<void> {
  const header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
  client.send(header);
  await client.expect(/<\/stream:features>/);
  client.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${username}\0pw`).toString('base64')}</auth>`);
  await client.expect(/<success/);
  client.received = '';
  client.send(header);
  await client.expect(/<\/stream:features>/);
  client.received = '';
}

/** Enables XEP-0198 with resumption on `c` and answers each <r/> with what it has handled, as a client does, until the timer is cleared. */
async function resumableWithAcks(c: RawClient): Promise<{ token: string; acker: NodeJS.Timeout }> {
  c.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
  const token = (await c.expect(/<enabled[^>]*id="([^"]+)"/))[1]!;
  c.received = '';
  let answered = 0;
  const acker = setInterval(() => {
    const asks = c.received.match(/<r xmlns="urn:xmpp:sm:3"\/>/g)?.length ?? 0;
    for (; answered < asks; answered++) c.send(`<a xmlns='urn:xmpp:sm:3' h='${stanzaCount(c.received)}'/>`);
  }, 20);
  return { token, acker };
}

describe('XEP-0198 through any c2s (2 c2s, 2 sm shards + standby, NATS, PostgreSQL)', { timeout: 180_000 }, () => {
  let cluster: FullCluster;

  before(async () => {
    // alice, carol, dave and erin are on shard 1, frank on shard 0: every resumption is across shards too.
    cluster = await startFullCluster('resume', ['alice', 'frank', 'carol', 'dave', 'erin'], {
      timeouts: { resumeSeconds: RESUME_SECONDS },
      // The test certificate every test process trusts (scripts/test.mjs), for the client library's STARTTLS.
      ...(process.env.SWITCHBOARD_TEST_TLS_CERT ? { tlsCert: process.env.SWITCHBOARD_TEST_TLS_CERT, tlsKey: process.env.SWITCHBOARD_TEST_TLS_KEY } : {}),
    });
  });

  after(async () => {
    await cluster?.close();
  });

  /** c2s A and B; A is killed by the test and started again afterwards. */
  async function c2sPair(): Promise<[RoleProcess, RoleProcess]> {
    if (cluster.c2s[0].child.exitCode !== null || cluster.c2s[0].child.signalCode !== null) await cluster.restartC2s(0);
    return [cluster.c2s[0], cluster.c2s[1]];
  }

  it('kill -9 of the c2s mid-burst: the client resumes through the other c2s and gets every message exactly once, in order', async () => {
    const [c2sA, c2sB] = await c2sPair();
    const alice = await RawClient.connect(c2sA.port!);
    const frank = await RawClient.connect(c2sB.port!);
    await alice.login('alice', 'pw', 'a');
    await frank.login('frank', 'pw', 'b');
    // alice answers each <r/> with what she has handled, as a client does.
    const { token, acker } = await resumableWithAcks(alice);
    const n = 80;
    for (let i = 1; i <= n; i++) {
      frank.send(`<message to='alice@localhost/a' type='chat' id='k${i}'><body>${i}</body></message>`);
      if (i === 35) {
        await kill(c2sA, 'SIGKILL');
        clearInterval(acker);
      }
      await new Promise((r) => setTimeout(r, 15));
    }
    await alice.waitClosed();
    const first = ids(alice.received, 'k');
    const h = stanzaCount(alice.received);
    // Through the other c2s, which never held the stream.
    const back = await RawClient.connect(c2sB.port!);
    await authenticate(back, 'alice');
    back.send(`<resume xmlns='urn:xmpp:sm:3' previd='${token}' h='${h}'/>`);
    await back.expect(/<resumed xmlns="urn:xmpp:sm:3" previd="[^"]+" h="0"\/>/);
    await waitFor(() => first.length + ids(back.received, 'k').length >= n, 5000, 'the rest of the burst').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const rest = ids(back.received, 'k');
    console.log(`resume through the other c2s: ${first.length} before the kill (h=${h}), ${rest.length} after, resumed in order`);
    assert.deepEqual([...first, ...rest], range(n));
    // The session never ended: frank saw no unavailable presence from alice, and it carries on, both ways.
    assert.doesNotMatch(frank.received, /from="alice@localhost\/a"[^>]*type="unavailable"/);
    frank.send("<message to='alice@localhost/a' type='chat' id='after1'><body>after</body></message>");
    await back.expect(/id="after1"/);
    back.send("<message to='frank@localhost/b' type='chat' id='reply1'><body>reply</body></message>");
    await frank.expect(/id="reply1"[^>]*>|from="alice@localhost\/a"[^>]*id="reply1"/);
    // A second resumption attempt with the old token at yet another stream is refused as a bad h is: nothing moves.
    const stale = await RawClient.connect(c2sB.port!);
    await authenticate(stale, 'alice');
    stale.send(`<resume xmlns='urn:xmpp:sm:3' previd='${token}' h='99999'/>`);
    await stale.expect(/<failed xmlns="urn:xmpp:sm:3"[^>]*>.*handled-count-too-high/);
    frank.send("<message to='alice@localhost/a' type='chat' id='after2'><body>still</body></message>");
    await back.expect(/id="after2"/);
    for (const c of [frank, back, stale]) c.close();
  });

  it('SIGTERM of the c2s mid-burst (a rolling restart): the session hibernates in the sm, the client resumes through the other c2s and gets every message exactly once, in order', async () => {
    const [c2sA, c2sB] = await c2sPair();
    const alice = await RawClient.connect(c2sA.port!);
    const frank = await RawClient.connect(c2sB.port!);
    await alice.login('alice', 'pw', 'a2');
    await frank.login('frank', 'pw', 'b');
    // alice answers each <r/> with what she has handled, as a client does.
    const { token, acker } = await resumableWithAcks(alice);
    const n = 80;
    let exited: Promise<number | null> | undefined;
    for (let i = 1; i <= n; i++) {
      frank.send(`<message to='alice@localhost/a2' type='chat' id='g${i}'><body>${i}</body></message>`);
      if (i === 35) exited = kill(c2sA, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 15));
    }
    clearInterval(acker);
    await alice.waitClosed();
    assert.equal(await exited, 0);
    // Cut as a broken link is: no stream error that would tell the client its session is over.
    assert.doesNotMatch(alice.received, /<stream:error>/);
    const first = ids(alice.received, 'g');
    const h = stanzaCount(alice.received);
    const back = await RawClient.connect(c2sB.port!);
    await authenticate(back, 'alice');
    back.send(`<resume xmlns='urn:xmpp:sm:3' previd='${token}' h='${h}'/>`);
    await back.expect(/<resumed xmlns="urn:xmpp:sm:3"/);
    await waitFor(() => first.length + ids(back.received, 'g').length >= n, 5000, 'the rest of the burst').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const rest = ids(back.received, 'g');
    console.log(`SIGTERM of the c2s: ${first.length} before (h=${h}), ${rest.length} after the resumption through the other c2s`);
    assert.deepEqual([...first, ...rest], range(n));
    assert.doesNotMatch(frank.received, /from="alice@localhost\/a2"[^>]*type="unavailable"/);
    frank.send("<message to='alice@localhost/a2' type='chat' id='gafter'><body>after</body></message>");
    await back.expect(/id="gafter"/);
    for (const c of [frank, back]) c.close();
  });

  it('a resumption through the c2s that still holds the stream of a cut connection moves it: the old stream gets <conflict/>', async () => {
    const [c2sA, c2sB] = await c2sPair();
    const carol = await RawClient.connect(c2sA.port!);
    const frank = await RawClient.connect(c2sB.port!);
    await carol.login('carol', 'pw', 'c');
    await frank.login('frank', 'pw', 'b');
    carol.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    const token = (await carol.expect(/<enabled[^>]*id="([^"]+)"/))[1]!;
    carol.received = '';
    for (let i = 1; i <= 12; i++) frank.send(`<message to='carol@localhost/c' type='chat' id='t${i}'><body>${i}</body></message>`);
    await waitFor(() => ids(carol.received, 't').length === 12, 5000, 'twelve messages');
    // Her link is silently dead (c2sA still thinks the stream is up); she resumes through c2sB having handled 5.
    carol.pause();
    const back = await RawClient.connect(c2sB.port!);
    await authenticate(back, 'carol');
    back.send(`<resume xmlns='urn:xmpp:sm:3' previd='${token}' h='5'/>`);
    await back.expect(/<resumed xmlns="urn:xmpp:sm:3"/);
    await waitFor(() => ids(back.received, 't').length >= 7, 5000, 'the seven she had not acknowledged');
    assert.deepEqual(ids(back.received, 't'), [6, 7, 8, 9, 10, 11, 12]);
    carol.resume();
    await carol.expect(/<conflict/);
    frank.send("<message to='carol@localhost/c' type='chat' id='t13'><body>13</body></message>");
    await back.expect(/id="t13"/);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(ids(back.received, 't'), [6, 7, 8, 9, 10, 11, 12, 13]);
    for (const c of [carol, frank, back]) c.close();
    await kill(c2sA, 'SIGKILL');
  });

  it('our client library resumes through the other c2s after kill -9 on its own, and misses nothing', async () => {
    const [c2sA, c2sB] = await c2sPair();
    const transport: TcpOptions = { kind: 'tcp', host: '127.0.0.1', port: c2sA.port! };
    const lib = new Client({ domain: 'localhost', username: 'dave', password: 'pw', resource: 'lib', transport, requireTls: false, allowPlainWithoutTls: true, sasl2: false, retry: { delayMs: 100 } });
    const seen: number[] = [];
    lib.on('stanza', (el: Element) => {
      const m = el.name === 'message' ? /^l(\d+)$/.exec(el.attrs.id ?? '') : null;
      if (m) seen.push(Number(m[1]));
    });
    let resumed = 0;
    lib.on('resumed', () => resumed++);
    await lib.connect();
    const frank = await RawClient.connect(c2sB.port!);
    await frank.login('frank', 'pw', 'b');
    const n = 60;
    for (let i = 1; i <= n; i++) {
      frank.send(`<message to='dave@localhost/lib' type='chat' id='l${i}'><body>${i}</body></message>`);
      if (i === 25) {
        // The library will find the other c2s at the address it reconnects to (a load balancer's job in use).
        transport.port = c2sB.port!;
        await kill(c2sA, 'SIGKILL');
      }
      await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor(() => seen.length >= n, 10_000, `the whole burst (have ${seen.length})`).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    console.log(`client library: resumed ${resumed} time(s), ${seen.length} messages`);
    assert.equal(resumed, 1);
    assert.deepEqual(seen, range(n));
    await lib.disconnect();
    frank.close();
  });

  it('the resumption timeout passes after the c2s died: what the client never acknowledged is stored offline and delivered once at the next login; an iq is answered', async () => {
    const [c2sA, c2sB] = await c2sPair();
    const erin = await RawClient.connect(c2sA.port!);
    const frank = await RawClient.connect(c2sB.port!);
    await erin.login('erin', 'pw', 'e');
    await frank.login('frank', 'pw', 'b');
    erin.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    await erin.expect(/<enabled/);
    erin.send('<presence/>');
    for (let i = 1; i <= 10; i++) frank.send(`<message to='erin@localhost/e' type='chat' id='x${i}'><body>${i}</body></message>`);
    await waitFor(() => ids(erin.received, 'x').length === 10, 5000, 'ten messages');
    // Never acknowledged; her c2s dies, and more come while the sm holds the session.
    const t0 = Date.now();
    await kill(c2sA, 'SIGKILL');
    for (let i = 11; i <= 20; i++) frank.send(`<message to='erin@localhost/e' type='chat' id='x${i}'><body>${i}</body></message>`);
    frank.send("<iq type='get' id='v1' to='erin@localhost/e'><query xmlns='jabber:iq:version'/></iq>");
    // The session hibernates (contacts see nothing yet), then ends: unavailable, the iq answered with an error.
    await frank.expect(/id="v1"[^>]*type="error"|type="error"[^>]*id="v1"/, (RESUME_SECONDS + 6) * 1000);
    const endedMs = Date.now() - t0;
    assert.ok(endedMs >= RESUME_SECONDS * 1000 - 500, `ended after ${endedMs} ms`);
    assert.match(frank.received, /service-unavailable/);
    const back = await RawClient.connect(c2sB.port!);
    await back.login('erin', 'pw', 'again');
    back.send('<presence/>');
    await waitFor(() => ids(back.received, 'x').length >= 20, 5000, 'offline messages').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    console.log(`expiry after c2s death: ended ${endedMs} ms after the kill; ${ids(back.received, 'x').length} delivered from offline storage`);
    assert.deepEqual(ids(back.received, 'x'), range(20));
    for (const c of [frank, back]) c.close();
  });
});
