// The jabberd2 split for real: the sm and the c2s in two separate processes
// joined only by NATS (the real nats-server on 127.0.0.1:4222), sharing one
// store. Clients log in through the c2s process and talk through the sm
// process; killing a client's socket reaches the sm across processes.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient } from './helpers.ts';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const NATS = process.env.SWITCHBOARD_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

function startRole(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = out.match(ready);
      if (match) resolve({ child, match });
    });
    child.once('exit', (code) => reject(new Error(`serve ${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

describe('cluster: sm and c2s in separate processes over NATS', () => {
  let dir: string;
  let sm: ChildProcess;
  let c2s: ChildProcess;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-cluster-'));
    const common = ['--data-dir', dir, '--nats', NATS, '--nats-prefix', `sbtest${randomBytes(4).toString('hex')}`];
    for (const user of ['alice', 'bob']) {
      assert.equal(spawnSync(process.execPath, ['--import', 'tsx', CLI, 'user', 'add', `${user}@localhost`, 'pw', '--data-dir', dir]).status, 0);
    }
    ({ child: sm } = await startRole([...common, '--role', 'sm'], /sm for localhost/));
    const started = await startRole([...common, '--role', 'c2s', '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1', '--allow-plaintext-on-loopback'], /c2s 127\.0\.0\.1:(\d+)/);
    c2s = started.child;
    port = Number(started.match[1]);
  });

  after(async () => {
    for (const child of [c2s, sm]) {
      if (!child) continue;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in through the c2s process and routes through the sm process', async () => {
    assert.notEqual(sm.pid, c2s.pid);
    const alice = await RawClient.connect(port);
    const bob = await RawClient.connect(port);
    assert.equal(await alice.login('alice', 'pw', 'a'), 'alice@localhost/a');
    assert.equal(await bob.login('bob', 'pw', 'b'), 'bob@localhost/b');
    bob.send('<presence/>');
    alice.send("<message to='bob@localhost' type='chat' from='forged@localhost/x'><body>across processes</body></message>");
    const m = await bob.expect(/<message[^>]*from="([^"]+)"[^>]*>.*?<body>across processes<\/body>/);
    assert.equal(m[1], 'alice@localhost/a');
    // An iq to an unknown namespace: the sm answers service-unavailable across the router.
    alice.send("<iq type='get' id='x1' to='localhost'><query xmlns='urn:example:none'/></iq>");
    await alice.expect(/id="x1"[^>]*type="error".*?<service-unavailable/);
    alice.close();
    bob.close();
  });

  it('a second bind of the same full JID replaces the first across processes (conflict)', async () => {
    const first = await RawClient.connect(port);
    await first.login('alice', 'pw', 'same');
    const second = await RawClient.connect(port);
    await second.login('alice', 'pw', 'same');
    await first.expect(/<conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await first.waitClosed();
    // The sm now routes to the second session.
    const bob = await RawClient.connect(port);
    await bob.login('bob', 'pw', 'pinger');
    bob.send("<message to='alice@localhost/same' type='chat'><body>to the new one</body></message>");
    await second.expect(/<body>to the new one<\/body>/);
    second.close();
    bob.close();
  });

  it('a closed socket ends the session in the sm process at once', async () => {
    const carol = await RawClient.connect(port);
    await carol.login('alice', 'pw', 'gone');
    carol.close();
    // Once the sm has ended it, a message to that full JID falls back to the bare JID: nobody is
    // available, so it is stored offline and handed over at alice's next initial presence.
    const bob = await RawClient.connect(port);
    await bob.login('bob', 'pw', 'probe');
    await new Promise((r) => setTimeout(r, 200));
    bob.send("<message to='alice@localhost/gone' type='chat' id='g1'><body>anyone?</body></message>");
    await new Promise((r) => setTimeout(r, 200));
    const back = await RawClient.connect(port);
    await back.login('alice', 'pw', 'back');
    back.send('<presence/>');
    await back.expect(/<message[^>]*id="g1"[^>]*>.*?<body>anyone\?<\/body>.*?<delay xmlns="urn:xmpp:delay"/);
    assert.equal(bob.received.includes('type="error"'), false);
    bob.close();
    back.close();
  });
});
