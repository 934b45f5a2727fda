// Issue #21: third-party clients read our archive: slixmpp's XEP-0313 plugin
// (/usr/bin/python3, RSM pages forwards and in reverse, a `with` filter) and
// StanzaJS (searchHistory paged by RSM over WebSocket, preferences).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as Stanza from 'stanza';
import type { ArchiveEntry } from '../src/storage/archive.ts';
import { startTestServer, type TestServer } from './helpers.ts';

const T0 = Date.UTC(2026, 2, 1);
const CONTACTS = ['ann@example.net/a', 'ben@example.net/b'];
const entries: ArchiveEntry[] = Array.from({ length: 120 }, (_, i) => ({
  username: 'reader',
  host: 'localhost',
  id: `r${String(i).padStart(3, '0')}`,
  timestamp: new Date(T0 + i * 60_000),
  with: CONTACTS[i % 2]!,
  stanza: `<message xmlns="jabber:client" from="${CONTACTS[i % 2]}" to="reader@localhost" type="chat"><body>line ${i}</body></message>`,
  body: `line ${i}`,
}));

interface SlixLine {
  id?: string;
  from?: string;
  body?: string;
  stamp?: string;
  done?: number;
  error?: string;
}

/** Runs slixmpp_mam.py to its end and returns its lines. */
function slixmppArchive(port: number, page: number, direction: 'forward' | 'reverse', withJid?: string): Promise<SlixLine[]> {
  const script = fileURLToPath(new URL('./peers/slixmpp_mam.py', import.meta.url));
  const child = spawn('/usr/bin/python3', [script, 'reader@localhost/slix', 'pw', '127.0.0.1', String(port), String(page), direction, ...(withJid ? [withJid] : [])]);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`slixmpp did not finish: ${err.slice(-500)}`));
    }, 30_000);
    child.on('exit', () => {
      clearTimeout(timer);
      const lines = out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as SlixLine);
      if (!lines.some((l) => l.done !== undefined)) return reject(new Error(`slixmpp ended without a result: ${JSON.stringify(lines.slice(-2))} ${err.slice(-500)}`));
      resolve(lines);
    });
  });
}

describe('XEP-0313 with third-party clients', { timeout: 90_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ archive: true });
    await server.addUser('reader', 'pw');
    await server.storage.archive.append(entries);
  });
  after(() => server.stop());

  it('slixmpp (xep_0313) walks the archive in RSM pages, forwards, in reverse and with a contact', async () => {
    const forward = await slixmppArchive(server.c2sPort, 25, 'forward');
    assert.equal(forward.find((l) => l.error)?.error, undefined);
    const got = forward.filter((l) => l.id);
    assert.deepEqual(got.map((l) => l.id), entries.map((e) => e.id));
    assert.equal(got[7]!.body, 'line 7');
    assert.equal(got[7]!.from, CONTACTS[1]);
    assert.equal(new Date(got[7]!.stamp!).getTime(), T0 + 7 * 60_000, 'the XEP-0203 stamp of the result');
    assert.equal(forward.at(-1)!.done, 120);

    const reverse = await slixmppArchive(server.c2sPort, 25, 'reverse');
    const back = reverse.filter((l) => l.id).map((l) => l.id!);
    assert.equal(back.length, 120);
    assert.deepEqual([...back].sort(), entries.map((e) => e.id), 'every message once');
    assert.ok(back.slice(0, 25).every((id) => id >= 'r095'), 'the newest page comes first');

    const ann = await slixmppArchive(server.c2sPort, 10, 'forward', 'ann@example.net');
    assert.deepEqual(ann.filter((l) => l.id).map((l) => l.id), entries.filter((_, i) => i % 2 === 0).map((e) => e.id));
  });

  it('StanzaJS pages with searchHistory, and reads and sets preferences', async () => {
    const agent = Stanza.createClient({ jid: 'reader@localhost', password: 'pw', resource: 'stanzajs', transports: { websocket: `wss://localhost:${server.wsPort}/xmpp-websocket`, bosh: false } });
    agent.sasl.disable('SCRAM-SHA-256-PLUS');
    agent.sasl.disable('SCRAM-SHA-1-PLUS');
    const started = new Promise((resolve) => agent.once('session:started', resolve));
    agent.connect();
    await started;
    try {
      const ids: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const fin = await agent.searchHistory({ paging: { max: 50, ...(after ? { after } : {}) } });
        for (const r of fin.results ?? []) ids.push(r.id);
        assert.equal(fin.paging?.count, 120);
        if (fin.complete) break;
        after = fin.paging!.last;
      }
      assert.deepEqual(ids, entries.map((e) => e.id));
      const first = await agent.searchHistory({ with: 'ben@example.net', paging: { max: 3 } });
      assert.deepEqual(first.results!.map((r) => r.item.message!.body), ['line 1', 'line 3', 'line 5']);
      assert.equal(first.results![0]!.item.delay!.timestamp!.getTime(), T0 + 60_000);
      const lastPage = await agent.searchHistory({ paging: { max: 2, before: '' } });
      assert.deepEqual(lastPage.results!.map((r) => r.id), ['r118', 'r119']);

      assert.equal((await agent.getHistoryPreferences()).default, 'always');
      await agent.setHistoryPreferences({ default: 'roster', never: ['ben@example.net'] });
      const prefs = await agent.getHistoryPreferences();
      assert.equal(prefs.default, 'roster');
      assert.deepEqual(prefs.never?.map(String), ['ben@example.net']);
    } finally {
      await agent.disconnect();
    }
  });
});
