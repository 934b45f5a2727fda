// XEP-0198 on the server: enable, acks, resumption on a new connection with
// the stanzas that arrived meanwhile, failure for an unknown token, and the
// hibernation timeout ending the session.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

/** Authenticates without binding, for a <resume/>. */
async function authenticate(port: number, user: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.send(HEADER);
  await c.expect(/<\/stream:features>/);
  c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0pw`).toString('base64')}</auth>`);
  await c.expect(/<success/);
  c.received = '';
  c.send(HEADER);
  await c.expect(/<sm xmlns="urn:xmpp:sm:3"\/>/);
  return c;
}

describe('XEP-0198 stream management (server)', { timeout: 30_000 }, () => {
  it('acks, hibernates on a lost connection, resumes with what arrived meanwhile', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true });
    try {
      await server.addUser('alice', 'pw');
      await server.addUser('bob', 'pw');
      const alice = await RawClient.connect(server.c2sPort);
      await alice.login('alice', 'pw', 'phone');
      alice.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
      const token = (await alice.expect(/<enabled xmlns="urn:xmpp:sm:3" id="([^"]+)" resume="true" max="\d+"\/>/))[1]!;
      alice.send('<presence/>');
      alice.send("<r xmlns='urn:xmpp:sm:3'/>");
      await alice.expect(/<a xmlns="urn:xmpp:sm:3" h="1"\/>/);
      const bob = await RawClient.connect(server.c2sPort);
      await bob.login('bob', 'pw', 'b');
      bob.send("<message to='alice@localhost/phone' type='chat'><body>one</body></message>");
      await alice.expect(/<body>one<\/body>/);
      alice.close(); // the connection dies without a goodbye
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(server.sm.sessions.full('alice@localhost/phone'), 'the session waits');
      bob.send("<message to='alice@localhost/phone' type='chat'><body>two</body></message>");
      await new Promise((r) => setTimeout(r, 100));

      const unknown = await authenticate(server.c2sPort, 'alice');
      unknown.send("<resume xmlns='urn:xmpp:sm:3' previd='nope' h='0'/>");
      await unknown.expect(/<failed xmlns="urn:xmpp:sm:3"><item-not-found/);
      unknown.close();

      const back = await authenticate(server.c2sPort, 'alice');
      // alice handled two stanzas before the cut: her own presence echo and 'one'.
      back.send(`<resume xmlns='urn:xmpp:sm:3' previd='${token}' h='2'/>`);
      await back.expect(/<resumed xmlns="urn:xmpp:sm:3" previd="[^"]+" h="1"\/>/);
      await back.expect(/<body>two<\/body>/);
      assert.doesNotMatch(back.received, /<body>one<\/body>/, 'acknowledged stanzas are not sent again');
      // The resumed stream carries the session: new messages arrive on it.
      bob.send("<message to='alice@localhost/phone' type='chat'><body>three</body></message>");
      await back.expect(/<body>three<\/body>/);
      // And what the resumed stream sends goes out stamped with the session's full JID.
      back.send("<message to='bob@localhost/b' type='chat'><body>four</body></message>");
      await bob.expect(/<message [^>]*from="alice@localhost\/phone"[^>]*><body>four<\/body>/);
      back.close();
      bob.close();
    } finally {
      await server.stop();
    }
  });

  it('refuses a resume with a bad h before anything moves: the live session keeps its connection', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true });
    try {
      await server.addUser('dave', 'pw');
      await server.addUser('erin', 'pw');
      const dave = await RawClient.connect(server.c2sPort);
      await dave.login('dave', 'pw', 'desk');
      dave.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
      const token = (await dave.expect(/<enabled xmlns="urn:xmpp:sm:3" id="([^"]+)"/))[1]!;
      const erin = await RawClient.connect(server.c2sPort);
      await erin.login('erin', 'pw', 'e');
      erin.send("<message to='dave@localhost/desk' type='chat'><body>before</body></message>");
      await dave.expect(/<body>before<\/body>/);

      // dave's session sent one stanza; a resume claiming 999 of them is refused (XEP-0198 §4, §5).
      const intruder = await authenticate(server.c2sPort, 'dave');
      intruder.send(`<resume xmlns='urn:xmpp:sm:3' previd='${token}' h='999'/>`);
      await intruder.expect(/<failed xmlns="urn:xmpp:sm:3" h="0"><undefined-condition xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/><handled-count-too-high xmlns="urn:xmpp:sm:3" h="999" send-count="1"\/><\/failed>/);
      // A non-number is refused the same way.
      intruder.send(`<resume xmlns='urn:xmpp:sm:3' previd='${token}' h='x'/>`);
      await intruder.expect(/h="x" send-count="1"/);

      // The live connection still carries the session, both ways.
      erin.send("<message to='dave@localhost/desk' type='chat'><body>after</body></message>");
      await dave.expect(/<body>after<\/body>/);
      dave.send("<message to='erin@localhost/e' type='chat'><body>reply</body></message>");
      await erin.expect(/<body>reply<\/body>/);
      assert.doesNotMatch(intruder.received, /<body>/, 'nothing for the session reached the refused stream');
      // And a correct resume still works afterwards: h=2 (before, after).
      dave.close();
      await new Promise((r) => setTimeout(r, 100));
      const back = await authenticate(server.c2sPort, 'dave');
      back.send(`<resume xmlns='urn:xmpp:sm:3' previd='${token}' h='2'/>`);
      await back.expect(/<resumed xmlns="urn:xmpp:sm:3"/);
      intruder.close();
      back.close();
      erin.close();
    } finally {
      await server.stop();
    }
  });

  it('ends the session when the client does not come back in time', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, timeouts: { idleSeconds: 600, loginSeconds: 60, resumeSeconds: 0.3 } });
    try {
      await server.addUser('carol', 'pw');
      const carol = await RawClient.connect(server.c2sPort);
      await carol.login('carol', 'pw', 'gone');
      carol.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
      await carol.expect(/<enabled/);
      carol.close();
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(server.sm.sessions.full('carol@localhost/gone'));
      await waitFor(() => server.sm.sessions.full('carol@localhost/gone') === undefined, 3000, 'the session to end');
    } finally {
      await server.stop();
    }
  });
});
