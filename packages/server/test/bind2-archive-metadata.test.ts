// XEP-0386 §3.2 with XEP-0313 §5: a Bind 2 <bound/> carries the archive's
// <metadata/> (its first and last message, by id and time) when the archive
// is on, so a client knows at once where to sync from; and the metadata get
// that urn:xmpp:mam:2#extended (advertised) requires. Raw streams, checked
// against what a MAM query of the same archive returns.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@switchboard/client';
import { secureRaw as secure, startTestServer, type SecureRaw, type TestServer } from './helpers.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function bind2(server: TestServer, user: string, tag: string): Promise<{ c: SecureRaw; success: string }> {
  const c = await secure(server.c2sPort);
  await c.expect(/<\/stream:features>/);
  c.socket.write(
    `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>${b64(`\0${user}\0${user}-pw`)}</initial-response>` +
      `<user-agent id='6f1d2c3b-4a5e-4f60-8172-9a8b7c6d5e4f'/><bind xmlns='urn:xmpp:bind:0'><tag>${tag}</tag></bind></authenticate>`,
  );
  const success = (await c.expect(/<success xmlns="urn:xmpp:sasl:2">[\s\S]*?<\/success>/))[0];
  return { c, success };
}

describe('Bind 2 <bound/> with the archive metadata (XEP-0386 §3.2, XEP-0313 §5)', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ sasl2: true, archive: true });
    await server.addUser('alice', 'alice-pw');
    await server.addUser('bob', 'bob-pw');
  });
  after(async () => server?.stop());

  it('an empty archive: an empty <metadata/> in <bound/>, and the same from a metadata get', async () => {
    const { c, success } = await bind2(server, 'alice', 'first');
    assert.match(success, /<bound xmlns="urn:xmpp:bind:0"><metadata xmlns="urn:xmpp:mam:2"\/><\/bound>/, success);
    c.socket.write(`<iq type='get' id='md'><metadata xmlns='urn:xmpp:mam:2'/></iq>`);
    await c.expect(/<iq[^>]*id="md"[^>]*><metadata xmlns="urn:xmpp:mam:2"\/><\/iq>/);
    c.socket.destroy();
  });

  it('after three messages: start and end are the first and last of the archive as a MAM query reads it', async () => {
    const sender = await bind2(server, 'alice', 'sender');
    for (const n of [1, 2, 3]) sender.c.socket.write(`<message to='bob@localhost' type='chat' id='m${n}'><body>message ${n}</body></message>`);
    // The query reads what was queued before it (the archive writes behind).
    sender.c.socket.write(`<iq type='set' id='q'><query xmlns='urn:xmpp:mam:2' queryid='all'/></iq>`);
    await sender.c.expect(/<iq[^>]*id="q"[\s\S]*?<\/iq>/);
    const ids = [...sender.c.received.matchAll(/<result xmlns="urn:xmpp:mam:2" queryid="all" id="([^"]+)">[\s\S]*?<delay xmlns="urn:xmpp:delay" stamp="([^"]+)"/g)].map((m) => ({ id: m[1]!, stamp: m[2]! }));
    assert.equal(ids.length, 3, sender.c.received);
    sender.c.socket.destroy();

    const { c, success } = await bind2(server, 'alice', 'reader');
    const bound = /<bound xmlns="urn:xmpp:bind:0">([\s\S]*?)<\/bound>/.exec(success)?.[1] ?? '';
    const metadata = `<metadata xmlns="urn:xmpp:mam:2"><start id="${ids[0]!.id}" timestamp="${ids[0]!.stamp}"/><end id="${ids[2]!.id}" timestamp="${ids[2]!.stamp}"/></metadata>`;
    assert.equal(bound, metadata);
    c.socket.write(`<iq type='get' id='md2'><metadata xmlns='urn:xmpp:mam:2'/></iq>`);
    const answer = (await c.expect(/<iq[^>]*id="md2"[\s\S]*?<\/iq>/))[0];
    assert.ok(answer.includes(metadata), answer);
    // Another user's archive is not described to us.
    c.socket.write(`<iq type='get' id='md3' to='bob@localhost'><metadata xmlns='urn:xmpp:mam:2'/></iq>`);
    await c.expect(/<iq[^>]*id="md3"[^>]*type="error"[\s\S]*?<forbidden|<iq[^>]*type="error"[^>]*id="md3"[\s\S]*?<forbidden/);
    c.socket.destroy();
  });

  it('our client hands the metadata to the app with `online`, and its archive() reads on from the end it names', async () => {
    const client = new Client({ domain: 'localhost', username: 'alice', password: 'alice-pw', resource: 'app', transport: { kind: 'tcp', host: '127.0.0.1', port: server.c2sPort } });
    try {
      const online = new Promise<{ jid: string; archive?: { start?: { id: string }; end?: { id: string; timestamp: Date } } }>((resolve) => client.once('online', resolve));
      await client.connect();
      const { archive } = await online;
      assert.ok(archive?.start && archive.end, 'the archive holds the three messages of the test before');
      const all: string[] = [];
      for await (const m of client.archive()) all.push(m.id);
      assert.deepEqual([archive.start.id, archive.end.id], [all[0], all.at(-1)]);
      const newer: string[] = [];
      for await (const m of client.archive({ afterId: archive.end.id })) newer.push(m.id);
      assert.deepEqual(newer, [], 'nothing after the end');
    } finally {
      await client.disconnect();
    }
  });

  it('without the archive, Bind 2 answers as before: no <metadata/> in <bound/>', async () => {
    const off = await startTestServer({ sasl2: true });
    try {
      await off.addUser('carol', 'carol-pw');
      const { c, success } = await bind2(off, 'carol', 'x');
      assert.match(success, /<bound xmlns="urn:xmpp:bind:0"\/>/, success);
      c.socket.destroy();
    } finally {
      await off.stop();
    }
  });
});
