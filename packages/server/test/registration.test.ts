// Issue #3: XEP-0077 in-band registration, off by default, mapped onto the
// internal protocol's sm:sessions create and delete.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, waitFor } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

describe('XEP-0077 in-band registration', { timeout: 30_000 }, () => {
  it('is off by default: no feature, and a registration attempt gets service-unavailable', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true });
    try {
      const c = await RawClient.connect(server.c2sPort);
      c.send(HEADER);
      const features = (await c.expect(/<stream:features>.*<\/stream:features>/))[0];
      assert.doesNotMatch(features, /iq-register/);
      c.send("<iq type='set' id='r1'><query xmlns='jabber:iq:register'><username>eve</username><password>pw</password></query></iq>");
      await c.expect(/id="r1"[^>]*type="error".*?<service-unavailable/);
      assert.equal(await server.storage.accounts.accountExists('eve', 'localhost'), false);
      c.close();
    } finally {
      await server.stop();
    }
  });

  it('when enabled: register, log in, change the password, remove the account (which ends every session)', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, registration: true });
    try {
      await server.addUser('taken', 'pw');
      const c = await RawClient.connect(server.c2sPort);
      c.send(HEADER);
      const features = (await c.expect(/<stream:features>.*<\/stream:features>/))[0];
      assert.match(features, /<register xmlns="http:\/\/jabber.org\/features\/iq-register"\/>/);
      c.send("<iq type='get' id='g'><query xmlns='jabber:iq:register'/></iq>");
      await c.expect(/id="g".*?<username\/><password\/>/);
      c.send("<iq type='set' id='dup'><query xmlns='jabber:iq:register'><username>taken</username><password>x</password></query></iq>");
      await c.expect(/id="dup"[^>]*type="error".*?<conflict/);
      c.send("<iq type='set' id='miss'><query xmlns='jabber:iq:register'><username>nopass</username></query></iq>");
      await c.expect(/id="miss"[^>]*type="error".*?<not-acceptable/);
      c.send("<iq type='set' id='ok'><query xmlns='jabber:iq:register'><username>Newbie</username><password>first</password></query></iq>");
      await c.expect(/<iq type="result" id="ok"/);
      assert.equal(await server.storage.accounts.accountExists('newbie', 'localhost'), true);
      c.close();

      const a = await RawClient.connect(server.c2sPort);
      assert.equal(await a.login('newbie', 'first', 'one'), 'newbie@localhost/one');
      // Another session, logged in with the old password (a stolen one, say): the change ends it, not the changer's.
      const old = await RawClient.connect(server.c2sPort);
      assert.equal(await old.login('newbie', 'first', 'old'), 'newbie@localhost/old');
      a.send("<iq type='set' id='pw'><query xmlns='jabber:iq:register'><username>newbie</username><password>second</password></query></iq>");
      await a.expect(/<iq type="result" id="pw"/);
      await old.expect(/<reset xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      await old.waitClosed();
      a.send("<iq type='get' id='still'><ping xmlns='urn:xmpp:ping'/></iq>");
      await a.expect(/id="still"/);
      assert.doesNotMatch(a.received, /<stream:error>/);
      const stale = await RawClient.connect(server.c2sPort);
      await assert.rejects(stale.login('newbie', 'first', 'stale'), 'the old password no longer works');
      stale.close();
      const b = await RawClient.connect(server.c2sPort);
      assert.equal(await b.login('newbie', 'second', 'two'), 'newbie@localhost/two', 'the new password works');
      await server.storage.userData.set('newbie', 'localhost', 'vcard', '', '<vCard xmlns="vcard-temp"/>');

      a.send("<iq type='set' id='rm'><query xmlns='jabber:iq:register'><remove/></query></iq>");
      await a.expect(/<iq type="result" id="rm"/);
      // Both sessions end through the sm's removal path: the c2s closes them with not-authorized.
      await a.expect(/<not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      await b.expect(/<not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      await waitFor(async () => !(await server.storage.accounts.accountExists('newbie', 'localhost')));
      assert.equal(await server.storage.userData.get('newbie', 'localhost', 'vcard', ''), undefined, 'its data went with it');
      await a.waitClosed();
      await b.waitClosed();
    } finally {
      await server.stop();
    }
  });
});
