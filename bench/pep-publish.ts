// PEP publish cost against the size of the node (issue #18): one user
// publishes items of ITEM_KB KiB to one node with max_items=max, and the
// publish round trip is timed as the node grows. Before items were read by
// id each publish re-read and re-parsed the whole node, so the time grew
// with the node; now it should stay flat.
//   node --import tsx bench/pep-publish.ts [ITEMS=400] [ITEM_KB=50]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../packages/server/src/server.ts';
import { RawClient } from '../packages/server/test/helpers.ts';

const ITEMS = Number(process.argv[2] ?? 400);
const ITEM_KB = Number(process.argv[3] ?? 50);

const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-pep-'));
const server = await startServer({
  domain: 'localhost', bindAddress: '127.0.0.1', c2sPort: 0, c2sDirectTlsPort: -1, wsPort: -1, dataDir,
  allowPlaintextOnLoopback: true, logAuthFailures: false,
  quotas: { pepMaxItems: 1000, pepItemBytes: 1024 * 1024 },
  limits: { maxStanzaSize: 1024 * 1024, bytesPerSecond: 1e9, burstBytes: 1e9 },
} as Parameters<typeof startServer>[0]);
try {
  await server.addUser('alice', 'pw');
  const c = await RawClient.connect(server.c2sPort);
  await c.login('alice', 'pw', 'bench');
  const payload = 'x'.repeat(ITEM_KB * 1024);
  const options = "<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#max_items'><value>max</value></field></x></publish-options>";
  const times: number[] = [];
  for (let i = 0; i < ITEMS; i++) {
    c.received = '';
    const started = performance.now();
    c.send(`<iq type='set' id='p${i}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:bench'><item id='i${i}'><data xmlns='urn:bench'>${payload}</data></item></publish>${options}</pubsub></iq>`);
    await c.expect(new RegExp(`id="p${i}"`), 60_000);
    times.push(performance.now() - started);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`| items in node | publish median (ms), ${ITEM_KB} KiB items |`);
  console.log('|---:|---:|');
  for (let at = 50; at <= ITEMS; at *= 2) console.log(`| ${at} | ${median(times.slice(Math.max(0, at - 10), at)).toFixed(1)} |`);
  c.send(`<iq type='get' id='all'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:bench' max_items='5'/></pubsub></iq>`);
  const started = performance.now();
  await c.expect(/id="all"/, 60_000);
  console.log(`last 5 items read in ${(performance.now() - started).toFixed(1)} ms`);
  c.close();
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
