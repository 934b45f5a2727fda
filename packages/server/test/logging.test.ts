// Issue #22: the log lines an operator acts on (login success and failure with
// mechanism, reason and address; stream errors; TLS failures), the fail2ban
// filter in docs matching the real failure line, and no password, SASL
// payload or message body in any line at info level.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { configureLogging } from '../src/log.ts';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers.ts';

const lines: string[] = [];
const events = (): Record<string, unknown>[] => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const find = (event: string): Record<string, unknown>[] => events().filter((e) => e.event === event);

const SECRET = 'correct-horse-battery-staple';
const WRONG = 'wrong-password-7f3a';
const BODY = 'the-body-nobody-may-log';

describe('operator logs', () => {
  let server: TestServer;

  before(async () => {
    configureLogging({ level: process.env.LOGTEST_LEVEL as 'info' ?? 'info', format: 'json', destination: { write: (s: string) => void lines.push(s) } });
    server = await startTestServer({ allowPlaintextOnLoopback: true });
    await server.addUser('alice', SECRET);
    await server.addUser('bob', SECRET);
  });
  after(async () => {
    await server.stop();
    configureLogging({ level: 'silent' });
  });

  it('logs a failed login with mechanism, condition and address, in a line the fail2ban filter matches', async () => {
    const c = await RawClient.connect(server.c2sPort);
    c.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
    await c.expect(/<\/stream:features>/);
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0alice\0${WRONG}`).toString('base64')}</auth>`);
    await c.expect(/<failure/);
    c.close();
    await waitFor(() => find('auth.failed').length === 1, 5000, 'auth.failed line');
    const [failed] = find('auth.failed');
    assert.equal(failed!.level, 'warn');
    assert.equal(failed!.mechanism, 'PLAIN');
    assert.equal(failed!.reason, 'not-authorized');
    assert.equal(failed!.account, 'alice@localhost');
    assert.match(String(failed!.msg), /^authentication failed from 127\.0\.0\.1 account=alice@localhost mechanism=PLAIN reason=not-authorized/);
    assert.match(String(failed!.remote), /127\.0\.0\.1$/);
    assert.equal(failed!.transport, 'tcp');
    assert.equal(typeof failed!.conn, 'string');

    // The filter shipped in docs, with fail2ban's <HOST> as it expands it.
    const filter = readFileSync(new URL('../../../docs/examples/fail2ban/switchboard.conf', import.meta.url), 'utf8');
    const failregex = /^failregex = (.*)$/m.exec(filter)![1]!;
    const re = new RegExp(failregex.replace('<HOST>', '(?:::f{4,6}:)?(?<host>[\\w\\-.^_]*\\w)'));
    const line = lines.find((l) => l.includes('"auth.failed"'))!;
    assert.equal(re.exec(line)?.groups?.host, '127.0.0.1');
    const date = /^datepattern = "time":"(.*)$/m.exec(filter)![1]!;
    assert.equal(date, '%%Y-%%m-%%dT%%H:%%M:%%S');
    assert.match(line, /"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  });

  it('logs a successful login, and a message body never reaches the log', async () => {
    const alice = await RawClient.connect(server.c2sPort);
    const bob = await RawClient.connect(server.c2sPort);
    await alice.login('alice', SECRET, 'a');
    await bob.login('bob', SECRET, 'b');
    alice.send(`<message to='bob@localhost/b' type='chat' id='m1'><body>${BODY}</body></message>`);
    await bob.expect(new RegExp(BODY));
    const ok = find('auth.succeeded').filter((e) => e.user === 'alice');
    assert.equal(ok.length, 1);
    assert.equal(ok[0]!.mechanism, 'PLAIN');
    assert.match(String(ok[0]!.remote), /127\.0\.0\.1$/);
    await waitFor(() => find('session.started').some((e) => e.jid === 'alice@localhost/a'), 5000, 'session.started');
    alice.close();
    bob.close();
  });

  it('logs a stream error with its condition and the connection it closed', async () => {
    const c = await RawClient.connect(server.c2sPort);
    c.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
    await c.expect(/<\/stream:features>/);
    c.send('<a></b>');
    await c.expect(/not-well-formed/);
    await waitFor(() => find('stream.error').length > 0, 5000, 'stream.error line');
    const [err] = find('stream.error');
    assert.equal(err!.condition, 'not-well-formed');
    assert.equal(err!.direction, 'in', 'the client sent bad XML');
    assert.equal(err!.level, 'warn');
    assert.match(String(err!.remote), /127\.0\.0\.1$/);
    c.close();
  });

  it('logs a failed TLS handshake with the address', async () => {
    const socket = connect({ host: '127.0.0.1', port: server.c2sPort });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => {});
    socket.write("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
    await waitFor(() => received.includes('</stream:features>'), 5000, 'features');
    socket.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await waitFor(() => received.includes('<proceed'), 5000, 'proceed');
    socket.write('this is not a TLS client hello\r\n\r\n');
    await waitFor(() => find('tls.failed').length > 0, 5000, 'tls.failed line');
    assert.match(String(find('tls.failed')[0]!.remote), /127\.0\.0\.1$/);
    socket.destroy();
    // XEP-0368 direct TLS fails before any stream exists, and is logged all the same.
    const direct = connect({ host: '127.0.0.1', port: server.c2sDirectTlsPort! });
    direct.on('error', () => {});
    direct.write('GET / HTTP/1.0\r\n\r\n');
    await waitFor(() => find('tls.failed').length > 1, 5000, 'second tls.failed line');
    assert.match(String(find('tls.failed')[1]!.remote), /127\.0\.0\.1$/);
    direct.destroy();
  });

  it('no line at info level holds a password, a SASL payload or a message body', () => {
    const all = lines.join('\n');
    for (const secret of [SECRET, WRONG, BODY, Buffer.from(`\0alice\0${WRONG}`).toString('base64'), Buffer.from(`\0alice\0${SECRET}`).toString('base64')]) {
      assert.ok(!all.includes(secret), `log holds ${secret}`);
    }
    assert.ok(lines.length >= 6, `expected the lines above, got ${lines.length}`);
  });
});
