// Issue #18: account enumeration. A SCRAM challenge for a user who does not
// exist must look like one for a user who does (RFC 5802 §9): the configured
// iteration count, a salt of the same size, and the same salt every time,
// across connections and across restarts, as a real account's is.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

/** The server-first message's salt and count; `downgradeHash` is XEP-0474's h= (the same for every name). */
async function serverFirst(port: number, user: string, mechanism = 'SCRAM-SHA-256', seen?: { downgradeHash?: string }): Promise<{ salt: string; iterations: number }> {
  const c = await RawClient.connect(port);
  try {
    c.send(HEADER);
    await c.expect(/<\/stream:features>/);
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='${mechanism}'>${Buffer.from(`n,,n=${user},r=rOprNGfwEbeRWgbNEkqO`).toString('base64')}</auth>`);
    const challenge = Buffer.from((await c.expect(/<challenge[^>]*>([^<]+)<\/challenge>/))[1]!, 'base64').toString();
    const m = /^r=[^,]+,s=([^,]+),i=(\d+)(?:,h=([^,]+))?$/.exec(challenge);
    assert.ok(m, challenge);
    if (seen) seen.downgradeHash = m[3];
    return { salt: m[1]!, iterations: Number(m[2]) };
  } finally {
    c.close();
  }
}

describe('unknown users get SCRAM parameters indistinguishable from real ones', { timeout: 60_000 }, () => {
  it('the configured iteration count, and a salt that is stable across connections, mechanisms and restarts', async () => {
    let server = await startTestServer({ allowPlaintextOnLoopback: true, scramIterations: 10_000 });
    const dataDir = server.dataDir;
    try {
      await server.addUser('alice', 'alice-pw');
      const realSeen: { downgradeHash?: string } = {};
      const ghostSeen: { downgradeHash?: string } = {};
      const real = await serverFirst(server.c2sPort, 'alice', 'SCRAM-SHA-256', realSeen);
      const ghost = await serverFirst(server.c2sPort, 'ghost', 'SCRAM-SHA-256', ghostSeen);
      assert.equal(ghostSeen.downgradeHash, realSeen.downgradeHash, 'the same XEP-0474 h= for a real and an unknown name');
      assert.equal(real.iterations, 10_000);
      assert.equal(ghost.iterations, 10_000, 'same count as a real account');
      assert.equal(Buffer.from(ghost.salt, 'base64').length, Buffer.from(real.salt, 'base64').length, 'same salt size');
      assert.deepEqual(await serverFirst(server.c2sPort, 'ghost'), ghost, 'same salt on the next connection');
      assert.deepEqual(await serverFirst(server.c2sPort, 'ghost', 'SCRAM-SHA-1'), ghost, 'one salt for both hashes, as for real accounts');
      assert.notEqual((await serverFirst(server.c2sPort, 'ghost2')).salt, ghost.salt, 'each name its own salt');

      await server.stopKeepingData();
      server = await startTestServer({ allowPlaintextOnLoopback: true, scramIterations: 10_000, dataDir });
      assert.deepEqual(await serverFirst(server.c2sPort, 'alice'), real, 'the real salt survives a restart');
      assert.deepEqual(await serverFirst(server.c2sPort, 'ghost'), ghost, 'and so does the fake one');
    } finally {
      await server.stop();
    }
  });
});
