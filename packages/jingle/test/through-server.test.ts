// Issue #5, "wire it to the client and transfer through our server": two of
// our clients (@switchboard/client), each with a JingleManager wired by
// attachJingle, logged in to a real Switchboard server on 127.0.0.1 (TLS,
// SCRAM, default limits). Files go over IBB through the server, over SOCKS5
// directly between the two processes' sockets, and over IBB again after
// SOCKS5 fails; a peer that disconnects ends the session; iqs for sessions
// that do not exist come back with the right errors through the server.
//
// alice and bob are mutual contacts (RFC 6121 §3), so each sees the other's
// presence, unavailable included (XEP-0166 §6.7).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Client, IqError, xml, type Element } from '@switchboard/client';
import { freePort } from '@switchboard/testkit';
import { startTestServer, waitFor, type TestServer } from '../../server/test/helpers.ts';
import {
  NS_IBB, NS_JINGLE, NS_JINGLE_ERRORS, NS_JINGLE_FT, NS_JINGLE_IBB, NS_JINGLE_S5B, FileTransferSession, JingleManager, attachJingle, registerFileTransfer,
  type FileTransferOptions, type FileTransfers, type Reason, type Socks5Port,
} from '../src/index.ts';
import { nodeHasher, nodeSocks5 } from '../src/node.ts';

const MiB = 1024 * 1024;
const PASSWORDS: Record<string, string> = { alice: 'alice-pw', bob: 'bob-pw' };

interface Peer {
  readonly client: Client;
  readonly jingle: JingleManager;
  readonly files: FileTransfers;
  readonly jid: string;
  /** Sessions the peer was offered, in order, each watched from the start. */
  readonly incoming: Offer[];
}

interface Offer {
  readonly session: FileTransferSession;
  readonly watched: Watched;
}

interface Ended {
  readonly reason: Reason;
  readonly by: 'local' | 'peer';
}

interface Watched {
  readonly ended: Promise<Ended>;
  readonly methods: string[];
  readonly progress: { transferred: number; total: number | undefined }[];
  readonly received: Promise<{ data: Uint8Array; verified: string | undefined }>;
}

/** Records what a file transfer session reports, from now on. */
function watch(session: FileTransferSession): Watched {
  const methods: string[] = [];
  const progress: Watched['progress'] = [];
  session.on('transport', ({ method }) => methods.push(method));
  session.on('progress', (p) => progress.push(p));
  return {
    ended: new Promise((resolve) => session.once('terminated', resolve)),
    received: new Promise((resolve) => session.once('received', ({ data, verified }) => resolve({ data, verified: verified?.algo }))),
    methods,
    progress,
  };
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SOCKS5 listeners that really listen, but offered at a port where nothing does: every candidate is refused. */
function unreachableSocks5(closedPort: number): Socks5Port {
  const real = nodeSocks5();
  return {
    async listen(host, dstaddr) {
      const listener = await real.listen(host, dstaddr);
      return { host: listener.host, port: closedPort, accepted: listener.accepted, close: () => listener.close() };
    },
    connect: (host, port, dstaddr, timeoutMs) => real.connect(host, port, dstaddr, timeoutMs),
  };
}

describe('Jingle file transfer between two of our clients through our server', () => {
  let server: TestServer;
  const clients: Client[] = [];
  const detach: (() => void)[] = [];

  async function connectPeer(username: string, resource: string, options: FileTransferOptions = {}): Promise<Peer> {
    const client = new Client({
      domain: 'localhost',
      username,
      password: PASSWORDS[username]!,
      resource,
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort },
    });
    clients.push(client);
    // Attached before connect(): the manager learns its full JID from 'online'.
    const jingle = new JingleManager();
    const files = registerFileTransfer(jingle, { hasher: nodeHasher, ...options });
    detach.push(attachJingle(client, jingle));
    const incoming: Offer[] = [];
    jingle.on('incoming', (session) => {
      if (session instanceof FileTransferSession) incoming.push({ session, watched: watch(session) });
    });
    const jid = await client.connect();
    assert.equal(jingle.selfID, jid);
    return { client, jingle, files, jid, incoming };
  }

  /** Waits for offer number `count` to `peer`. */
  async function nthOffer(peer: Peer, count: number): Promise<Offer> {
    await waitFor(() => peer.incoming.length >= count, 10_000, `offer #${count} at ${peer.jid}`);
    return peer.incoming[count - 1]!;
  }

  /** Waits until `watcher` has seen available presence from `from`. */
  function presenceFrom(watcher: Client, from: string): Promise<void> {
    return new Promise((resolve) => {
      const off = watcher.on('stanza', (el) => {
        if (el.name === 'presence' && el.attrs.from === from && el.attrs.type === undefined) {
          off();
          resolve();
        }
      });
    });
  }

  /** RFC 6121 §3.1: a subscribes to b, and b approves. */
  async function subscribe(a: Client, b: Client, bJid: string): Promise<void> {
    const approved = new Promise<void>((resolve) => {
      const off = b.on('stanza', (el) => {
        if (el.name === 'presence' && el.attrs.type === 'subscribe') {
          off();
          b.send(xml('presence', { to: el.attrs.from, type: 'subscribed' }));
          resolve();
        }
      });
    });
    const seen = presenceFrom(a, bJid);
    a.send(xml('presence', { to: bJid.split('/')[0], type: 'subscribe' }));
    await approved;
    await seen;
  }

  let alice: Peer;
  let bob: Peer;
  let offers = 0;

  before(async () => {
    // Default limits, the rate limit included (1 MiB/s sustained, 4 MiB burst, per connection).
    server = await startTestServer();
    for (const [u, p] of Object.entries(PASSWORDS)) await server.addUser(u, p);
    const socks5 = { port: nodeSocks5(), hosts: ['127.0.0.1'] };
    alice = await connectPeer('alice', 'desk', { socks5 });
    bob = await connectPeer('bob', 'laptop', { socks5 });
    await subscribe(alice.client, bob.client, bob.jid);
    await subscribe(bob.client, alice.client, alice.jid);
    bob.jingle.on('incoming', (session) => void session.accept());
  });

  after(async () => {
    for (const off of detach) off();
    await Promise.all(clients.map((c) => c.disconnect()));
    await server?.stop();
  });

  /** `from` offers `bytes` to `to`, which accepts; both sides watched from the start. */
  async function transfer(from: Peer, to: Peer, bytes: Uint8Array, method?: 's5b' | 'ibb') {
    const started = Date.now();
    const sending = await from.files.offer(to.jid, { name: 'random.bin', data: bytes, mediaType: 'application/octet-stream' }, method);
    const sender = watch(sending);
    const { session: receiving, watched: receiver } = await nthOffer(to, ++offers);
    assert.equal(receiving.sid, sending.sid);
    assert.equal(receiving.file?.size, bytes.length);
    return { sending, receiving, sender, receiver, started };
  }

  async function assertDelivered(bytes: Uint8Array, t: Awaited<ReturnType<typeof transfer>>, method: string): Promise<number> {
    const { data, verified } = await t.receiver.received;
    assert.equal(verified, 'sha-256', 'the receiver checked the sha-256 the offer carried');
    assert.equal(data.length, bytes.length);
    assert.equal(sha256(data), sha256(bytes));
    const [sent, got] = await Promise.all([t.sender.ended, t.receiver.ended]);
    const ms = Date.now() - t.started;
    assert.deepEqual(got, { reason: { condition: 'success' }, by: 'local' });
    assert.deepEqual(sent, { reason: { condition: 'success' }, by: 'peer' });
    assert.deepEqual(t.sender.methods, [method]);
    assert.deepEqual(t.receiver.methods, [method]);
    for (const side of [t.sender, t.receiver]) {
      assert.ok(side.progress.length > 1, 'progress reported along the way');
      assert.deepEqual(side.progress.at(-1), { transferred: bytes.length, total: bytes.length });
      assert.ok(side.progress.every((p, i) => i === 0 || p.transferred > side.progress[i - 1]!.transferred), 'progress only grows');
    }
    assert.equal(alice.jingle.sessionsWith(bob.jid).length, 0, 'alice forgot the session');
    assert.equal(bob.jingle.sessionsWith(alice.jid).length, 0, 'bob forgot the session');
    return ms;
  }

  it('answers disco#info with an identity and the Jingle file transfer features', async () => {
    const answer = await alice.client.iq(xml('iq', { type: 'get', to: bob.jid }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const query = answer.getChild('query', 'http://jabber.org/protocol/disco#info')!;
    assert.deepEqual({ ...query.getChild('identity')?.attrs }, { category: 'client', type: 'pc' });
    const features = query.getChildren('feature').map((f) => f.attrs.var);
    for (const f of ['http://jabber.org/protocol/disco#info', NS_JINGLE, NS_JINGLE_FT, NS_JINGLE_IBB, NS_IBB, NS_JINGLE_S5B, 'urn:xmpp:hash-function-text-names:sha-256']) {
      assert.ok(features.includes(f), f);
    }
  });

  it('sends 5 MiB over IBB through the server, sha-256 verified, both sides ending with success', { timeout: 120_000 }, async (ctx) => {
    // Default rate limit: about 7.3 MB of base64 in <data/> iqs leave alice,
    // so after the 4 MiB burst the server reads her at 1 MiB/s.
    const bytes = new Uint8Array(randomBytes(5 * MiB));
    // Every iq alice's manager sends, and every answer that reaches alice's client for it.
    const requests = new Map<string, string>();
    const answers: Element[] = [];
    const offSend = alice.jingle.on('send', (iq) => {
      if (iq.attrs.type === 'set') requests.set(iq.attrs.id!, iq.getChildren()[0]!.name);
    });
    const offStanza = alice.client.on('stanza', (el) => {
      if (el.name === 'iq' && requests.has(el.attrs.id!)) answers.push(el);
    });
    const t = await transfer(alice, bob, bytes, 'ibb');
    const ms = await assertDelivered(bytes, t, 'ibb');
    // The IBB <close/> may still be on its way: bob ends the session as soon as the last byte checks out.
    await waitFor(() => answers.length >= requests.size, 5000, 'an answer to every request');
    offSend();
    offStanza();
    assert.ok(t.receiver.progress.length >= (5 * MiB) / 4096, 'one progress event per 4096-byte block at the receiver');
    // The client leaves the ids it did not issue to the manager: each request answered once, by bob.
    assert.ok(requests.size > 1280, `${requests.size} requests`);
    assert.equal(answers.length, requests.size);
    assert.equal(new Set(answers.map((a) => a.attrs.id)).size, requests.size);
    for (const answer of answers) {
      assert.equal(answer.attrs.from, bob.jid);
      const kind = requests.get(answer.attrs.id!);
      // A <close/> that reaches bob after his session-terminate is for a bytestream he no longer has (XEP-0047 §2.3).
      if (kind === 'close' && answer.attrs.type === 'error') assert.ok(answer.getChild('error')?.getChild('item-not-found'), answer.toString());
      else assert.equal(answer.attrs.type, 'result', `${kind}: ${answer.toString().slice(0, 300)}`);
    }
    ctx.diagnostic(`5 MiB over IBB through the server in ${ms} ms`);
  });

  it('sends 5 MiB over a direct SOCKS5 connection (XEP-0260), hash verified', { timeout: 60_000 }, async (ctx) => {
    const bytes = new Uint8Array(randomBytes(5 * MiB));
    const t = await transfer(alice, bob, bytes, 's5b');
    const ms = await assertDelivered(bytes, t, 's5b');
    ctx.diagnostic(`5 MiB over SOCKS5 in ${ms} ms`);
  });

  it('falls back to IBB through transport-replace when no SOCKS5 candidate can be reached', { timeout: 120_000 }, async (ctx) => {
    const closed = await freePort();
    const socks5 = { port: unreachableSocks5(closed), hosts: ['127.0.0.1'] };
    // Second resources of both accounts, whose candidates all point at a closed port.
    const alice2 = await connectPeer('alice', 'unreachable', { socks5 });
    const bob2 = await connectPeer('bob', 'unreachable', { socks5 });
    bob2.jingle.on('incoming', (session) => void session.accept());
    const actions: string[] = [];
    const record = (el: Element): void => {
      const jingle = el.getChild('jingle', NS_JINGLE);
      if (el.attrs.type === 'set' && jingle) actions.push(jingle.attrs.action!);
    };
    alice2.jingle.on('send', record);
    bob2.jingle.on('send', record);
    const bytes = new Uint8Array(randomBytes(5 * MiB));
    const started = Date.now();
    const sending = await alice2.files.offer(bob2.jid, { name: 'fallback.bin', data: bytes }, 's5b');
    const sender = watch(sending);
    const { watched: receiver } = await nthOffer(bob2, 1);
    const { data, verified } = await receiver.received;
    assert.equal(verified, 'sha-256');
    assert.equal(sha256(data), sha256(bytes));
    const [sent, got] = await Promise.all([sender.ended, receiver.ended]);
    assert.equal(sent.reason.condition, 'success');
    assert.equal(got.reason.condition, 'success');
    assert.deepEqual(sender.methods, ['ibb']);
    assert.deepEqual(receiver.methods, ['ibb']);
    // XEP-0260 §3: both report candidate-error, the initiator replaces the transport, the responder accepts.
    assert.deepEqual(
      actions.filter((a) => a !== 'session-terminate'),
      ['session-initiate', 'session-accept', 'transport-info', 'transport-info', 'transport-replace', 'transport-accept'],
    );
    ctx.diagnostic(`5 MiB over IBB after the SOCKS5 fallback in ${Date.now() - started} ms`);
  });

  it("ends alice's session when bob's client disconnects mid-transfer", { timeout: 60_000 }, async () => {
    const leaving = await connectPeer('bob', 'leaving');
    leaving.jingle.on('incoming', (session) => void session.accept());
    const bytes = new Uint8Array(randomBytes(5 * MiB));
    const sending = await alice.files.offer(leaving.jid, { name: 'cut.bin', data: bytes }, 'ibb');
    const sender = watch(sending);
    const { watched: receiver } = await nthOffer(leaving, 1);
    await waitFor(() => receiver.progress.length > 0, 10_000, 'the first block at bob');
    await leaving.client.disconnect();
    // bob's own manager ends its sessions at 'offline', silently: nothing can be sent.
    assert.deepEqual(await receiver.ended, { reason: { condition: 'gone' }, by: 'local' });
    // alice learns it from bob's unavailable presence (XEP-0166 §6.7) and ends hers.
    const ended = await sender.ended;
    assert.equal(ended.by, 'local');
    assert.equal(ended.reason.condition, 'gone');
    assert.ok((sender.progress.at(-1)?.transferred ?? 0) < bytes.length, 'it ended before the last byte');
    assert.equal(alice.jingle.sessionsWith(leaving.jid).length, 0);
  });

  it('answers an iq for a session that does not exist with item-not-found and unknown-session, through the server', async () => {
    const request = xml('iq', { type: 'set', to: bob.jid }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-info', sid: 'no-such-sid' }));
    const err = await alice.client.iq(request).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof IqError, String(err));
    assert.equal(err.condition, 'item-not-found');
    assert.equal(err.error.type, 'cancel');
    assert.equal(err.error.application?.name, 'unknown-session');
    assert.equal(err.error.application?.attrs.xmlns, NS_JINGLE_ERRORS);
  });

  it('answers XEP-0047 data for an unknown bytestream with item-not-found, and an unnegotiated open with not-acceptable', async () => {
    const data = xml('iq', { type: 'set', to: bob.jid }, xml('data', { xmlns: NS_IBB, sid: 'no-such-ibb', seq: '0' }, 'AAAA'));
    const open = xml('iq', { type: 'set', to: bob.jid }, xml('open', { xmlns: NS_IBB, sid: 'no-such-ibb', 'block-size': '4096' }));
    for (const [request, condition] of [[data, 'item-not-found'], [open, 'not-acceptable']] as const) {
      const err = await alice.client.iq(request).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof IqError, String(err));
      assert.equal(err.condition, condition);
    }
  });

  it('after detaching, leaves Jingle to the client default (service-unavailable) and answers no disco#info', async () => {
    const gone = await connectPeer('bob', 'detached');
    detach.at(-1)!();
    for (const payload of [xml('jingle', { xmlns: NS_JINGLE, action: 'session-info', sid: 'x' }), xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })]) {
      const err = await alice.client.iq(xml('iq', { type: payload.name === 'jingle' ? 'set' : 'get', to: gone.jid }, payload)).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof IqError, String(err));
      assert.equal(err.condition, 'service-unavailable');
    }
  });

  it('leaves iqs it does not own to the client (service-unavailable)', async () => {
    const request = xml('iq', { type: 'get', to: bob.jid }, xml('query', { xmlns: 'urn:example:nothing' }));
    const err = await alice.client.iq(request).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof IqError, String(err));
    assert.equal(err.condition, 'service-unavailable');
  });
});
