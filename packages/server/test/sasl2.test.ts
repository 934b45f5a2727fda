// XEP-0388 SASL2 with XEP-0386 Bind 2 and inline XEP-0198, on real sockets:
// the feature, one round trip from <authenticate/> to a bound session with
// stream management enabled, the failure envelope, inline resumption, and
// XEP-0280 carbons and XEP-0352 state inline in Bind 2.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { secureRaw as secure, startTestServer, waitFor, type TestServer } from './helpers.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const UA = '9b2f3c1e-7d4a-4e8b-a1c2-3d4e5f6a7b8c';

const authenticate = (password: string, inline = ''): string =>
  `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>${b64(`\0alice\0${password}`)}</initial-response>` +
  `<user-agent id='${UA}'><software>test</software><device>node</device></user-agent>${inline}</authenticate>`;

describe('SASL2 + Bind 2 (XEP-0388, XEP-0386)', { timeout: 30_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ sasl2: true });
    await server.addUser('alice', 'alice-pw');
  });
  after(async () => server?.stop());

  it('offers SASL2 with Bind 2 and XEP-0198 inline', async () => {
    const c = await secure(server.c2sPort);
    const features = (await c.expect(/<stream:features>[\s\S]*?<\/stream:features>/))[0];
    assert.match(features, /<authentication xmlns="urn:xmpp:sasl:2"><mechanism>SCRAM-SHA-256-PLUS<\/mechanism>[\s\S]*<mechanism>PLAIN<\/mechanism><inline><bind xmlns="urn:xmpp:bind:0"><inline><feature var="urn:xmpp:carbons:2"\/><feature var="urn:xmpp:csi:0"\/><feature var="urn:xmpp:sm:3"\/><\/inline><\/bind><sm xmlns="urn:xmpp:sm:3"\/>(<fast xmlns="urn:xmpp:fast:0">.*?<\/fast>)?<\/inline><\/authentication>/);
    c.socket.destroy();
  });

  it('authenticates, binds with the tag and enables stream management in one round trip; no restart', async () => {
    const c = await secure(server.c2sPort);
    await c.expect(/<\/stream:features>/);
    c.socket.write(authenticate('alice-pw', `<bind xmlns='urn:xmpp:bind:0'><tag>phone</tag><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>`));
    const success = (await c.expect(/<success xmlns="urn:xmpp:sasl:2">[\s\S]*?<\/success>/))[0];
    const jid = /<authorization-identifier>([^<]+)<\/authorization-identifier>/.exec(success)![1]!;
    // XEP-0386 §3.1: `tag/generated`, the RECOMMENDED form.
    assert.match(jid, /^alice@localhost\/phone\/[A-Za-z0-9_-]+$/);
    assert.match(success, /<bound xmlns="urn:xmpp:bind:0"><enabled xmlns="urn:xmpp:sm:3" id="[^"]+" resume="true" max="\d+"\/><\/bound>/);
    assert.ok(server.sm.sessions.full(jid), 'the sm has the session');
    // The session works at once: a ping to the server, then XEP-0198 counts it.
    c.socket.write(`<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq><r xmlns='urn:xmpp:sm:3'/>`);
    // The <a/> is answered at once, the iq once the sm has answered it: either may come first.
    await c.expect(/<a xmlns="urn:xmpp:sm:3" h="1"\/>[\s\S]*<iq[^>]*id="p1"|<iq[^>]*id="p1"[\s\S]*<a xmlns="urn:xmpp:sm:3" h="1"\/>/);
    c.socket.destroy();
  });

  it('answers a wrong password with a SASL2 failure carrying the RFC 6120 condition', async () => {
    const c = await secure(server.c2sPort);
    await c.expect(/<\/stream:features>/);
    c.socket.write(authenticate('wrong'));
    await c.expect(/<failure xmlns="urn:xmpp:sasl:2"><not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-sasl"\/><\/failure>/);
    c.socket.destroy();
  });

  it('resumes inline: <resumed/> inside <success/>, the same full JID, what the server had not acknowledged re-sent after it', async () => {
    const c = await secure(server.c2sPort);
    await c.expect(/<\/stream:features>/);
    c.socket.write(authenticate('alice-pw', `<bind xmlns='urn:xmpp:bind:0'><tag>laptop</tag><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>`));
    const success = (await c.expect(/<success xmlns="urn:xmpp:sasl:2">[\s\S]*?<\/success>/))[0];
    const jid = /<authorization-identifier>([^<]+)<\/authorization-identifier>/.exec(success)![1]!;
    const previd = /<enabled xmlns="urn:xmpp:sm:3" id="([^"]+)"/.exec(success)![1]!;
    c.socket.destroy();
    await waitFor(() => server.sm.sessions.full(jid) !== undefined);
    // While the session hibernates, a message for it waits in the XEP-0198 queue.
    const b = await secure(server.c2sPort);
    await b.expect(/<\/stream:features>/);
    b.socket.write(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>${b64('\0alice\0alice-pw')}</initial-response><bind xmlns='urn:xmpp:bind:0'><tag>other</tag></bind></authenticate>`);
    await b.expect(/<success/);
    b.socket.write(`<message to='${jid}' type='chat' id='m1'><body>while away</body></message>`);
    await new Promise((r) => setTimeout(r, 300));
    const r = await secure(server.c2sPort);
    await r.expect(/<\/stream:features>/);
    r.socket.write(authenticate('alice-pw', `<resume xmlns='urn:xmpp:sm:3' previd='${previd}' h='0'/>`));
    const resumed = (await r.expect(/<success xmlns="urn:xmpp:sasl:2">[\s\S]*?<\/success>/))[0];
    assert.match(resumed, new RegExp(`<authorization-identifier>${jid.replace(/[.]/g, '\\.')}</authorization-identifier>`));
    assert.match(resumed, /<resumed xmlns="urn:xmpp:sm:3" previd="[^"]+" h="0"\/>/);
    await r.expect(/<body>while away<\/body>/);
    r.socket.destroy();
    b.socket.destroy();
  });

  it('a failed inline resumption is reported in <success/> and Bind 2 makes a new session', async () => {
    const c = await secure(server.c2sPort);
    await c.expect(/<\/stream:features>/);
    c.socket.write(authenticate('alice-pw', `<resume xmlns='urn:xmpp:sm:3' previd='nonexistent' h='0'/><bind xmlns='urn:xmpp:bind:0'><tag>fresh</tag></bind>`));
    const success = (await c.expect(/<success xmlns="urn:xmpp:sasl:2">[\s\S]*?<\/success>/))[0];
    assert.match(success, /<failed xmlns="urn:xmpp:sm:3"><item-not-found/);
    assert.match(success, /<authorization-identifier>alice@localhost\/fresh\//);
    c.socket.destroy();
  });

  it('Bind 2 inline: carbons on and the session inactive from the start (XEP-0386 §3.2)', async () => {
    await server.addUser('bob', 'bob-pw');
    const bob = await secure(server.c2sPort);
    await bob.expect(/<\/stream:features>/);
    bob.socket.write(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>${b64('\0bob\0bob-pw')}</initial-response><bind xmlns='urn:xmpp:bind:0'/></authenticate>`);
    await bob.expect(/<success/);
    const c = await secure(server.c2sPort);
    await c.expect(/<\/stream:features>/);
    c.socket.write(authenticate('alice-pw', `<bind xmlns='urn:xmpp:bind:0'><tag>pocket</tag><enable xmlns='urn:xmpp:carbons:2'/><inactive xmlns='urn:xmpp:csi:0'/></bind>`));
    const success = (await c.expect(/<success xmlns="urn:xmpp:sasl:2">[\s\S]*?<\/success>/))[0];
    const jid = /<authorization-identifier>([^<]+)<\/authorization-identifier>/.exec(success)![1]!;
    // §3.2: carbons and CSI need no answer; <bound/> carries only what does.
    assert.match(success, /<bound xmlns="urn:xmpp:bind:0"\/>/);
    // Another resource of alice's, without carbons.
    const other = await secure(server.c2sPort);
    await other.expect(/<\/stream:features>/);
    other.socket.write(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>${b64('\0alice\0alice-pw')}</initial-response><bind xmlns='urn:xmpp:bind:0'><tag>desk</tag></bind></authenticate>`);
    const otherJid = /<authorization-identifier>([^<]+)<\/authorization-identifier>/.exec((await other.expect(/<success[\s\S]*?<\/success>/))[0])![1]!;
    // Inactive: a chat state (no body) for the pocket resource waits (XEP-0352, csi.ts).
    bob.socket.write(`<message to='${jid}' type='chat' id='cs1'><composing xmlns='http://jabber.org/protocol/chatstates'/></message><iq type='get' id='bp' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    // bob's stanzas are handled in order: once the ping is answered the chat state has reached the pocket's stream.
    await bob.expect(/<iq[^>]*id="bp"/);
    await new Promise((r) => setTimeout(r, 150));
    assert.doesNotMatch(c.received, /cs1/, 'held: the session started inactive');
    // Carbons on without an iq: a message bob sends to the desk resource is copied to the pocket one, and takes the held chat state along first.
    bob.socket.write(`<message to='${otherJid}' type='chat' id='b1'><body>to the desk</body></message>`);
    await other.expect(/<body>to the desk<\/body>/);
    const got = (await c.expect(/<received xmlns="urn:xmpp:carbons:2">[\s\S]*?<\/message><\/forwarded><\/received><\/message>/))[0];
    assert.match(got, /<body>to the desk<\/body>/);
    assert.match(c.received, /id=["']cs1["'][\s\S]*<received xmlns="urn:xmpp:carbons:2">/, 'the held chat state went out before the carbon, in order');
    // The desk resource did not ask for carbons: it gets no copy of what the pocket is sent.
    bob.socket.write(`<message to='${jid}' type='chat' id='b2'><body>to the pocket</body></message>`);
    await c.expect(/<body>to the pocket<\/body>/);
    await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(other.received, /to the pocket/);
    for (const x of [c, other, bob]) x.socket.destroy();
  });
});

describe('SASL2 sessions and the pre-authentication limits (issue #18)', { timeout: 30_000 }, () => {
  let server: TestServer;
  before(async () => {
    // Two unauthenticated connections in all; loopback counted like any address.
    server = await startTestServer({ sasl2: true, limits: { preAuthTotal: 2, preAuthExemptLoopback: false, preAuthStanzaSize: 4096 } });
    await server.addUser('alice', 'alice-pw');
  });
  after(async () => server?.stop());

  it('a SASL2 login stops counting as unauthenticated at <success/>, and gets the full stanza limit', async () => {
    const online = [];
    for (let i = 0; i < 3; i++) {
      const c = await secure(server.c2sPort);
      await c.expect(/<\/stream:features>/);
      c.socket.write(authenticate('alice-pw', `<bind xmlns='urn:xmpp:bind:0'><tag>n${i}</tag></bind>`));
      await c.expect(/<success xmlns="urn:xmpp:sasl:2">[\s\S]*?<\/success>/);
      online.push(c);
    }
    // A third and a fourth connection were admitted: the ones before them no longer counted (before the fix: resource-constraint).
    const [a] = online;
    // Past the pre-auth limit (4096 here), within the session's: answered, not policy-violation.
    a!.socket.write(`<iq type='get' id='big' to='localhost'><ping xmlns='urn:xmpp:ping'/><x xmlns='urn:example:pad'>${'p'.repeat(10_000)}</x></iq>`);
    await a!.expect(/<iq[^>]*id="big"/);
    assert.doesNotMatch(a!.received, /policy-violation/);
    for (const c of online) c.socket.destroy();
  });
});
