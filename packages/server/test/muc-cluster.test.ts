// Issue #20: the MUC service in a process of its own (`--role muc`), the sm in
// another and two c2s processes, joined only by NATS: users on different
// c2s processes talk in one room, and once the MUC process is killed a stanza
// for a room is answered with an error, not lost.

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
const MUC = 'http://jabber.org/protocol/muc';

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

describe('cluster: the MUC in its own process', { timeout: 90_000 }, () => {
  let dir: string;
  const children: ChildProcess[] = [];
  let muc: ChildProcess;
  const ports: number[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-muc-cluster-'));
    const common = ['--data-dir', dir, '--nats', NATS, '--nats-prefix', `sbmuc${randomBytes(4).toString('hex')}`, '--services', 'own-process'];
    for (const user of ['alice', 'bob', 'carol']) {
      assert.equal(spawnSync(process.execPath, ['--import', 'tsx', CLI, 'user', 'add', `${user}@localhost`, 'pw', '--data-dir', dir]).status, 0);
    }
    children.push((await startRole([...common, '--role', 'sm'], /sm for localhost/)).child);
    muc = (await startRole([...common, '--role', 'muc'], /services conference\.localhost/)).child;
    children.push(muc);
    for (let i = 0; i < 2; i++) {
      const started = await startRole([...common, '--role', 'c2s', '--c2s-port', '0', '--c2s-tls-port', '-1', '--ws-port', '-1', '--allow-plaintext-on-loopback'], /c2s 127\.0\.0\.1:(\d+)/);
      children.push(started.child);
      ports.push(Number(started.match[1]));
    }
  });

  after(async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('users on two c2s processes talk in one room served by a third process; a dead MUC is answered for', async () => {
    assert.equal(new Set(children.map((c) => c.pid)).size, 4);
    const alice = await RawClient.connect(ports[0]!);
    const bob = await RawClient.connect(ports[1]!);
    await alice.login('alice', 'pw', 'a');
    await bob.login('bob', 'pw', 'b');
    alice.send('<presence/>');
    bob.send('<presence/>');
    alice.send(`<presence to='team@conference.localhost/Alice'><x xmlns='${MUC}'/></presence>`);
    await alice.expect(/<status code="201"\/>/);
    alice.send(`<iq type='set' id='cfg' to='team@conference.localhost'><query xmlns='${MUC}#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
    await alice.expect(/<iq(?=[^>]*id="cfg")[^>]*type="result"/);
    bob.send(`<presence to='team@conference.localhost/Bob'><x xmlns='${MUC}'/></presence>`);
    await bob.expect(/<status code="110"\/>/);
    await alice.expect(/<presence from="team@conference.localhost\/Bob"/);
    // Carol on Bob's c2s: that c2s gets one fan-out envelope over NATS for both (docs/protocol.md "Fan-out").
    const carol = await RawClient.connect(ports[1]!);
    await carol.login('carol', 'pw', 'c');
    carol.send('<presence/>');
    carol.send(`<presence to='team@conference.localhost/Carol'><x xmlns='${MUC}'/></presence>`);
    await carol.expect(/<status code="110"\/>/);
    await bob.expect(/<presence from="team@conference.localhost\/Carol"/);
    alice.send(`<message to='team@conference.localhost' type='groupchat' id='g1'><body>across three processes</body></message>`);
    await bob.expect(/<message to="bob@localhost\/b"[^>]*from="team@conference.localhost\/Alice"[^>]*>.*?<body>across three processes<\/body>/);
    await carol.expect(/<message to="carol@localhost\/c"[^>]*from="team@conference.localhost\/Alice"[^>]*>.*?<body>across three processes<\/body>/);
    await alice.expect(/<body>across three processes<\/body>/);
    bob.send(`<message to='team@conference.localhost' type='groupchat' id='g2'><body>and back</body></message>`);
    await alice.expect(/<message[^>]*from="team@conference.localhost\/Bob"[^>]*>.*?<body>and back<\/body>/);

    muc.kill('SIGKILL');
    await new Promise((r) => muc.once('exit', r));
    alice.received = '';
    alice.send(`<message to='team@conference.localhost' type='groupchat' id='g3'><body>anyone?</body></message>`);
    // Gone without a goodbye: remote-server-timeout (a standby would take over; XEP-0410 reads it as "try again").
    await alice.expect(/id="g3"[^>]*type="error".*?<remote-server-timeout/, 10_000);
    alice.close();
    bob.close();
    carol.close();
  });
});
