// The admin socket (issue #22) as an operator meets it: `switchboard serve`
// in its own process, the `switchboard` CLI beside it, real clients logged
// in. Removal and a password change end the live sessions with the stream
// errors docs/operations.md names; the socket is 0600, goes away on
// shutdown, one left by a killed server is replaced, and a second process on
// the same data directory takes it over when the first is gone.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient } from './helpers.ts';
import { runCli, startServe, type ServeProcess } from './serve-process.ts';

const q = (re: RegExp): RegExp => new RegExp(re.source.replace(/'/g, `['"]`));

describe('the admin socket', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-admin-'));
  const d = ['--data-dir', dir];
  const socket = join(dir, 'admin.sock');
  let serve: ServeProcess;
  const clients: RawClient[] = [];
  const login = async (user: string, password: string, resource: string): Promise<RawClient> => {
    const c = await RawClient.connect(serve.c2sPort);
    clients.push(c);
    assert.equal(await c.login(user, password, resource), `${user}@localhost/${resource}`);
    return c;
  };

  before(async () => {
    serve = await startServe([...d, '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1', '--allow-plaintext-on-loopback']);
  });
  after(async () => {
    for (const c of clients) c.close();
    await serve.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a socket only the server user may open (0600)', () => {
    const st = statSync(socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
  });

  it('user add (password on stdin) reaches the running server, which says so', async () => {
    const r = await runCli(['user', 'add', 'carol@localhost', '--password-stdin', ...d], 'carol-pw-1\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'added carol@localhost\n');
    assert.match(r.stderr, /through the running server \(admin socket .*admin\.sock\)/);
    assert.doesNotMatch(r.stderr, /warning/);
    await login('carol', 'carol-pw-1', 'one').then((c) => c.close());
    assert.match(serve.output(), /"event":"admin\.user\.added","target":"carol@localhost","via":"socket"/);
    assert.doesNotMatch(serve.output(), /carol-pw-1/, 'no password in the log');
  });

  it('sessions list, stats and session kick (policy-violation)', async () => {
    const phone = await login('carol', 'carol-pw-1', 'phone');
    const desk = await login('carol', 'carol-pw-1', 'desk');
    const list = await runCli(['sessions', 'list', ...d]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^carol@localhost\/desk\t/m);
    assert.match(list.stdout, /^carol@localhost\/phone\t/m);
    const stats = await runCli(['stats', ...d]);
    assert.match(stats.stdout, /^sessions\t2$/m);
    assert.match(stats.stdout, /^accounts\t1$/m);
    assert.match(stats.stdout, /^c2sConnections\t2$/m);

    const kick = await runCli(['session', 'kick', 'carol@localhost/phone', ...d]);
    assert.equal(kick.code, 0, kick.stderr);
    assert.equal(kick.stdout, 'ended carol@localhost/phone\n');
    // RFC 6120 §4.9.3.14: an administrator's decision is local policy.
    await phone.expect(q(/<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/));
    await phone.waitClosed();
    assert.equal(desk.closed, false, 'the other resource stays');
    const again = await runCli(['session', 'kick', 'carol@localhost/phone', ...d]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no session for carol@localhost\/phone/);
    desk.close();
  });

  it('user passwd ends every live session with <reset/>; the new password logs in, the old one not', async () => {
    const a = await login('carol', 'carol-pw-1', 'a');
    const b = await login('carol', 'carol-pw-1', 'b');
    const r = await runCli(['user', 'passwd', 'carol@localhost', '--password-stdin', ...d], 'carol-pw-2\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'password changed for carol@localhost (2 live sessions ended)\n');
    for (const c of [a, b]) {
      // RFC 6120 §4.9.3.16: the credentials of the stream were revoked; log in again.
      await c.expect(q(/<reset xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>The password was changed; log in again<\/text>/));
      await c.waitClosed();
    }
    const old = await RawClient.connect(serve.c2sPort);
    clients.push(old);
    await assert.rejects(old.login('carol', 'carol-pw-1', 'x'));
    await login('carol', 'carol-pw-2', 'x').then((c) => c.close());
  });

  it('user remove ends the live session with <not-authorized/> and the account is gone', async () => {
    const live = await login('carol', 'carol-pw-2', 'chat');
    const r = await runCli(['user', 'remove', 'carol@localhost', ...d]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'removed carol@localhost (1 live session ended)\n');
    await live.expect(q(/<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>The account was removed<\/text>/));
    await live.waitClosed();
    assert.equal((await runCli(['user', 'list', ...d])).stdout, '');
    const gone = await runCli(['user', 'remove', 'carol@localhost', ...d]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no such account: carol@localhost/);
  });

  it('refuses bad requests on the socket itself with a typed error', async () => {
    const { connect } = await import('node:net');
    const s = connect(socket);
    let got = '';
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.write('{"id":7,"op":"user.frobnicate"}\nnot json\n{"id":8,"op":"user.add","jid":"x y@localhost","password":"p"}\n');
    const { waitFor } = await import('./helpers.ts');
    await waitFor(() => got.split('\n').length > 3, 5000, `three answers: ${got}`);
    s.destroy();
    const [a, b, c] = got.trim().split('\n').map((l) => JSON.parse(l) as { id: number; ok: boolean; error: { code: string } });
    assert.deepEqual([a!.id, a!.ok, a!.error.code], [7, false, 'unknown-op']);
    assert.deepEqual([b!.ok, b!.error.code], [false, 'bad-json']);
    assert.deepEqual([c!.id, c!.ok, c!.error.code], [8, false, 'bad-jid']);
  });

  it('a second server on the same data directory (a standby on one host) waits, and takes the socket over when the first is killed', async () => {
    const second = await startServe([...d, '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1', '--allow-plaintext-on-loopback'], { socket: false });
    try {
      await second.waitForLog(/"event":"admin\.socket\.busy"/);
      const before = await runCli(['stats', ...d]);
      assert.match(before.stdout, new RegExp(`^pid\t${serve.child.pid}$`, 'm'), 'the first keeps its socket');
      await serve.stop('SIGKILL');
      await second.waitForLog(/"event":"admin\.socket\.started"/, 10_000);
      assert.match(second.output(), /"event":"admin\.socket\.stale"/);
      const after = await runCli(['stats', ...d]);
      assert.match(after.stdout, new RegExp(`^pid\t${second.child.pid}$`, 'm'));
    } finally {
      serve = second;
    }
  });

  it('the socket is removed on shutdown; with no server the CLI edits the store and says so', async () => {
    assert.equal(await serve.stop('SIGTERM'), 0);
    assert.equal(existsSync(socket), false);
    const offline = await runCli(['user', 'add', 'dave@localhost', '--password-stdin', ...d], 'dave-pw\n');
    assert.equal(offline.code, 0);
    assert.match(offline.stderr, /in the store directly \(no server answers on .*admin\.sock\)/);
    const stats = await runCli(['stats', ...d]);
    assert.equal(stats.code, 1);
    assert.match(stats.stderr, /no server answers on/);
  });

  it('refuses a socket path longer than a Unix socket takes, instead of listening on a truncated one', async () => {
    const long = await runCli(['serve', ...d, '--admin-socket', join(dir, 'x'.repeat(120) + '.sock'), '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1']);
    assert.equal(long.code, 1);
    assert.match(long.stderr, /admin socket path .* is \d+ bytes; Unix sockets take at most 107: set adminSocket to a shorter absolute path/);
  });

  it('a socket left by a killed server is found dead and replaced', async () => {
    serve = await startServe([...d, '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1', '--allow-plaintext-on-loopback']);
    await serve.stop('SIGKILL');
    assert.ok(existsSync(socket), 'kill -9 leaves the socket file');
    const list = await runCli(['user', 'list', ...d]);
    assert.equal(list.stdout, 'dave@localhost\n');
    assert.match(list.stderr, /in the store directly/);
    serve = await startServe([...d, '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1', '--allow-plaintext-on-loopback']);
    assert.match(serve.output(), /"event":"admin\.socket\.stale"/);
    const live = await login('dave', 'dave-pw', 'r');
    const r = await runCli(['user', 'remove', 'dave@localhost', ...d]);
    assert.equal(r.stdout, 'removed dave@localhost (1 live session ended)\n');
    await live.waitClosed();
  });
});
