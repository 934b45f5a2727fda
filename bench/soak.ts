// Soak (issue #18), run by hand: the compiled server in its own process under
// churn and attack at once, for SOAK_MINUTES (default 60), printing every
// 30 s the server's RSS, the round trip of a ping from a well-behaved client
// (which includes the server's event-loop lag) and the message tally.
//
//   SOAK_MINUTES=60 node --import tsx bench/soak.ts
//
// Well-behaved: USERS clients of our library (XEP-0198 on), each sending a
// chat message to another every second; one in ten has its connection cut
// every 20 s and resumes (or logs in again). Every message sent must arrive:
// the tally at the end says how many did not. Login churn: a fresh login and
// logout every 100 ms. Attackers, each in a loop: unfinished stanzas before
// authentication (the #18 amplification), a logged-in client that stops
// reading and asks for its own 30 KB vCard, a stanza flood, invalid UTF-8, and
// <resume/> with a wrong h against a live session.

import { connect, type Socket } from 'node:net';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, message, xml } from '@switchboard/client';
import { startBenchServer } from './e2e.ts';
import { startProxy } from '../packages/testkit/src/proxy.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 60);
const USERS = Number(process.env.SOAK_USERS ?? 40);
const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
const PLAIN = (user: string): string => `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0pass`).toString('base64')}</auth>`;

const configFile = join(mkdtempSync(join(tmpdir(), 'switchboard-soak-')), 'config.json');
writeFileSync(configFile, JSON.stringify({ limits: { maxOutputBytes: 2 * 1024 * 1024 } }));
// user1..userUSERS are the well-behaved; the next ones log in and out; the last ones attack.
const server = await startBenchServer(USERS + 20, 0, { args: ['--config', configFile] });
const port = server.port;
const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) / 1024;

const tally = { sent: 0, received: 0, resumed: 0, relogins: 0, logins: 0, attacks: 0, attackErrors: new Map<string, number>() };
const expected = new Set<string>();
let running = true;

// A quarter of the users go through a relay that is cut every 20 s: they resume (XEP-0198).
const relay = await startProxy(port);
function makeClient(n: number): Client {
  const via = n % 4 === 0 ? relay.port : port;
  return new Client({
    domain: 'localhost',
    username: `user${n}`,
    password: 'pass',
    resource: 'soak',
    transport: { kind: 'tcp', host: '127.0.0.1', port: via, tlsOptions: { rejectUnauthorized: false } },
    retry: { delayMs: 300, maxDelayMs: 2000 },
  });
}

// Well-behaved users.
const clients: Client[] = [];
for (let i = 1; i <= USERS; i++) {
  const c = makeClient(i);
  c.on('stanza', (el) => {
    const body = el.name === 'message' ? el.getChildText('body') : undefined;
    if (body && expected.delete(body)) tally.received++;
  });
  c.on('resumed', () => tally.resumed++);
  c.on('online', () => tally.relogins++);
  c.on('error', () => {});
  await c.connect();
  clients.push(c);
}
tally.relogins = 0;
let seq = 0;
const chat = setInterval(() => {
  for (let i = 0; i < clients.length; i++) {
    const to = (i + 1 + Math.floor(Math.random() * (clients.length - 1))) % clients.length;
    const body = `s${seq++}`;
    expected.add(body);
    tally.sent++;
    clients[i]!.send(message({ to: `user${to + 1}@localhost/soak`, type: 'chat', body }));
  }
}, 1000);
const cuts = setInterval(() => relay.cutAll(), 20_000);

// Pings for latency.
const pings: number[] = [];
const pinger = setInterval(async () => {
  const t = performance.now();
  try {
    await clients[0]!.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    pings.push(performance.now() - t);
  } catch {
    /* cut meanwhile */
  }
}, 250);

/** A raw connection that runs `script` and is closed after `ms`; returns what the server sent. */
function raw(script: (s: Socket, seen: () => string) => Promise<void>, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => {});
    const done = (): void => {
      s.destroy();
      resolve(got);
    };
    s.on('close', done);
    setTimeout(done, ms).unref();
    s.on('connect', () => void script(s, () => got).catch(() => {}));
  });
}

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(seen: () => string, re: RegExp, ms = 5000): Promise<void> {
  for (let t = 0; t < ms && !re.test(seen()); t += 20) await wait(20);
}
async function rawLogin(s: Socket, seen: () => string, user: string): Promise<void> {
  s.write(HEADER);
  await until(seen, /<\/stream:features>/);
  s.write(PLAIN(user));
  await until(seen, /<success/);
  s.write(HEADER);
  await until(seen, /<\/stream:features>[\s\S]*<\/stream:features>/);
  s.write(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r${Math.random()}</resource></bind></iq>`);
  await until(seen, /<\/jid>/);
}

function countError(got: string): void {
  tally.attacks++;
  const m = /<stream:error><([a-z-]+)/.exec(got);
  const k = m ? m[1]! : 'held until we closed it';
  tally.attackErrors.set(k, (tally.attackErrors.get(k) ?? 0) + 1);
}

async function loop(fn: () => Promise<void>, pauseMs: number): Promise<void> {
  while (running) {
    await fn();
    await wait(pauseMs);
  }
}

const A = USERS + 11; // attacker accounts: userA..userA+9
const loops = [
  // Login churn.
  loop(async () => {
    const n = USERS + 1 + Math.floor(Math.random() * 10);
    await raw(async (s, seen) => {
      await rawLogin(s, seen, `user${n}`);
      s.write("<presence/><iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>");
      await until(seen, /id="r"/);
      tally.logins++;
      s.end('</stream:stream>');
    }, 5000);
  }, 100),
  // Unfinished stanzas before authentication, 10 at a time.
  loop(async () => {
    const got = await Promise.all(Array.from({ length: 10 }, () => raw(async (s) => {
      s.write(HEADER + '<message>' + '<a/>'.repeat(8000));
    }, 3000)));
    for (const g of got) countError(g);
  }, 200),
  // A logged-in client that stops reading and asks for its own 30 KB vCard.
  loop(async () => {
    const got = await raw(async (s, seen) => {
      await rawLogin(s, seen, `user${A}`);
      s.write(`<iq type='set' id='v'><vCard xmlns='vcard-temp'><DESC>${'x'.repeat(30_000)}</DESC></vCard></iq>`);
      await until(seen, /id="v"/);
      s.pause();
      s.write(Array.from({ length: 300 }, (_, i) => `<iq type='get' id='g${i}'><vCard xmlns='vcard-temp'/></iq>`).join(''));
      await wait(3000);
      s.resume();
    }, 8000);
    countError(got);
  }, 1000),
  // A stanza flood.
  loop(async () => {
    const got = await raw(async (s, seen) => {
      await rawLogin(s, seen, `user${A + 1}`);
      for (let i = 0; i < 20; i++) s.write(Array.from({ length: 500 }, () => "<message to='nobody@localhost' type='chat'><body>x</body></message>").join(''));
    }, 4000);
    countError(got);
  }, 1000),
  // Invalid UTF-8 after login.
  loop(async () => {
    const got = await raw(async (s, seen) => {
      await rawLogin(s, seen, `user${A + 2}`);
      s.write(Buffer.from([0x3c, 0x6d, 0x3e, 0xc0, 0xaf]));
    }, 3000);
    countError(got);
  }, 500),
  // <resume/> with a wrong h: a live session of the same user with SM enabled, then the bad resume.
  loop(async () => {
    let token = '';
    const live = raw(async (s, seen) => {
      await rawLogin(s, seen, `user${A + 3}`);
      s.write("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
      await until(seen, /<enabled/);
      token = /id="([^"]+)"/.exec(seen().slice(seen().indexOf('<enabled')))?.[1] ?? '';
    }, 10_000);
    await wait(2000);
    const got = await raw(async (s, seen) => {
      s.write(HEADER);
      await until(seen, /<\/stream:features>/);
      s.write(PLAIN(`user${A + 3}`));
      await until(seen, /<success/);
      s.write(HEADER);
      await until(seen, /<\/stream:features>[\s\S]*<\/stream:features>/);
      s.write(`<resume xmlns='urn:xmpp:sm:3' previd='${token}' h='99999'/>`);
      await until(seen, /<failed|<resumed/);
    }, 8000);
    tally.attacks++;
    const k = /<failed[^>]*><([a-z-]+)/.exec(got)?.[1] ?? 'no failed';
    tally.attackErrors.set(`resume: ${k}`, (tally.attackErrors.get(`resume: ${k}`) ?? 0) + 1);
    await live;
  }, 500),
];

const started = Date.now();
const rss0 = rss();
console.log(`soak: ${MINUTES} min, ${USERS} well-behaved users; server pid ${server.pid}, RSS at start ${rss0.toFixed(0)} MB`);
console.log('| min | RSS MB | ping p50 ms | ping p99 ms | ping max ms | sent | received | in flight | resumed | re-logins | churn logins | attacks |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const report = (): void => {
  const p = [...pings].sort((a, b) => a - b);
  pings.length = 0;
  const q = (f: number): string => (p.length ? p[Math.min(p.length - 1, Math.floor(f * p.length))]!.toFixed(1) : '-');
  console.log(`| ${((Date.now() - started) / 60000).toFixed(1)} | ${rss().toFixed(0)} | ${q(0.5)} | ${q(0.99)} | ${p.length ? p[p.length - 1]!.toFixed(1) : '-'} | ${tally.sent} | ${tally.received} | ${expected.size} | ${tally.resumed} | ${tally.relogins} | ${tally.logins} | ${tally.attacks} |`);
};
const reporter = setInterval(report, 30_000);
await wait(MINUTES * 60_000);
running = false;
clearInterval(chat);
clearInterval(cuts);
// Let what is in flight arrive.
await wait(10_000);
clearInterval(pinger);
clearInterval(reporter);
report();
console.log(`attack outcomes: ${[...tally.attackErrors].map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`messages not delivered: ${expected.size} of ${tally.sent}`);
await Promise.race([Promise.all(loops), wait(15_000)]);
await Promise.all(clients.map((c) => c.disconnect()));
await relay.close();
await server.stop();
process.exit(0);
