// The admin socket of a cluster (issue #22, docs/operations.md "A cluster"):
// real processes, two c2s and two sm processes owning one shard each, over the
// test's own nats-server and a PostgreSQL schema of its own, each process with
// its own admin socket. Whichever socket is asked, the operation reaches the
// shard that holds the user over the router: sessions held through c2s B end
// when c2s A's socket (or the other sm's) is asked, with the stream error the
// operation names; lists and counts span both shards; a shard that does not
// answer (its process stopped with SIGSTOP) is named, not waited on.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type NatsServer } from '@switchboard/testkit';
import { RawClient, waitFor } from './helpers.ts';
import { addUsers, kill, startRole, usersByShard, type ClusterOptions, type RoleProcess } from './cluster-kit.ts';
import { runCli } from './serve-process.ts';
import { ShardMap } from '../src/router/shards.ts';

const PG = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const shards = new ShardMap(2);
const q = (re: RegExp): RegExp => new RegExp(re.source.replace(/'/g, `['"]`));

describe('admin commands in a cluster: two c2s, two sm shards over NATS', { timeout: 150_000 }, () => {
  let nats: NatsServer;
  let dir: string;
  let o: ClusterOptions;
  const sms: RoleProcess[] = [];
  let c2sA: RoleProcess;
  let c2sB: RoleProcess;
  const clients: RawClient[] = [];
  const [zero, one] = usersByShard(shards, 'a');
  const socket = (name: string): string => join(dir, `${name}.sock`);
  /** The admin CLI against one process's socket. */
  const cli = (name: string, args: string[], input?: string) => runCli([...args, '--admin-socket', socket(name)], input);

  /** The sm process that serves shard k (by its log), and the other one. */
  const ownerOf = (k: number): RoleProcess | undefined =>
    sms.find((p) => {
      const serving = p.log.lastIndexOf(`serving ${shards.address(k)} `);
      return serving >= 0 && serving > p.log.lastIndexOf(`lease ${shards.address(k).replace(/\//g, '_')} released`);
    });

  before(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'sb-cadmin-'));
    const schema = `sbca${randomBytes(4).toString('hex')}`;
    o = { dir, natsUrl: nats.url, prefix: `sbca${randomBytes(4).toString('hex')}`, config: {
        shards: 2,
        storage: { kind: 'postgres', url: PG, schema },
        // A stopped sm stays the owner of its shard for the whole test (no standby takes it over), and an admin answer gets 2 s.
        timeouts: { heartbeatSeconds: 0.5, deadAfterSeconds: 30, adminSeconds: 2 },
      },
    };
    addUsers(o, [...zero!, ...one!]);
    sms.push(await startRole(o, 'sm', undefined, ['--admin-socket', socket('sm0')]));
    sms.push(await startRole(o, 'sm', undefined, ['--admin-socket', socket('sm1')]));
    await waitFor(() => ownerOf(0) !== undefined && ownerOf(1) !== undefined && ownerOf(0) !== ownerOf(1), 10_000, 'one shard each');
    [c2sA, c2sB] = await Promise.all([startRole(o, 'c2s', undefined, ['--admin-socket', socket('c2sA')]), startRole(o, 'c2s', undefined, ['--admin-socket', socket('c2sB')])]);
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const p of [...sms, c2sA, c2sB]) if (p) await kill(p, 'SIGKILL');
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function online(port: number, user: string, password: string, resource: string): Promise<RawClient> {
    const c = await RawClient.connect(port);
    clients.push(c);
    assert.equal(await c.login(user, password, resource), `${user}@localhost/${resource}`);
    c.send('<presence/>');
    return c;
  }

  /** The sm process that does not serve the shard of `user`. */
  const otherSm = (user: string): string => (ownerOf(shards.indexOf(`${user}@localhost`)) === sms[0] ? 'sm1' : 'sm0');

  it("sessions list and stats asked of c2s A show the sessions of both shards, held through c2s B", async () => {
    await online(c2sB.port!, zero![0]!, 'pw', 'r0');
    await online(c2sB.port!, one![0]!, 'pw', 'r1');
    const list = await cli('c2sA', ['sessions', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${zero![0]}@localhost/r0\\tavailable\\tpriority 0\\tc2s/`, 'm'));
    assert.match(list.stdout, new RegExp(`^${one![0]}@localhost/r1\\tavailable\\tpriority 0\\tc2s/`, 'm'));
    assert.equal(list.stdout.trim().split('\n').length, 2);

    const stats = await cli('sm0', ['stats']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^sessions\t2$/m);
    assert.match(stats.stdout, /^onlineUsers\t2$/m);
    assert.match(stats.stdout, /^accounts\t4$/m);
    assert.match(stats.stdout, /^component\tsm\/shard-0\tsessions=1 onlineUsers=1$/m);
    assert.match(stats.stdout, /^component\tsm\/shard-1\tsessions=1 onlineUsers=1$/m);
    // Every process of the cluster, each with its own figures: both c2s (B holds the two connections) and both sms.
    const processes = [...stats.stdout.matchAll(/^component\tadmin\/\S+\trole=(\w+) pid=(\d+) .*$/gm)];
    assert.deepEqual(processes.map((m) => m[1]).sort(), ['c2s', 'c2s', 'sm', 'sm']);
    assert.deepEqual(processes.map((m) => Number(m[2])).sort(), [c2sA.child.pid, c2sB.child.pid, sms[0]!.child.pid, sms[1]!.child.pid].sort());
    assert.match(stats.stdout, new RegExp(`^component\\tadmin/\\S+\\trole=c2s pid=${c2sB.child.pid} .*c2sConnections=2 shards=$`, 'm'));
  });

  it('session kick asked of the sm that does not hold the user ends the session on the other (policy-violation)', async () => {
    const user = one![0]!;
    const held = clients[1]!;
    const kick = await cli(otherSm(user), ['session', 'kick', `${user}@localhost/r1`]);
    assert.equal(kick.code, 0, kick.stderr);
    assert.equal(kick.stdout, `ended ${user}@localhost/r1\n`);
    await held.expect(q(/<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/));
    await held.waitClosed();
    const again = await cli('c2sA', ['session', 'kick', `${user}@localhost/r1`]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`no session for ${user}@localhost/r1`));
    // The shard that did it says who asked: another process's admin socket, over the router.
    assert.match(ownerOf(1)!.log, /"event":"admin\.session\.kicked".*"via":"router","from":"admin\//);
  });

  it('user passwd asked of c2s A ends the session held through c2s B with <reset/>', async () => {
    const user = one![1]!;
    const held = await online(c2sB.port!, user, 'pw', 'phone');
    const r = await cli('c2sA', ['user', 'passwd', `${user}@localhost`, '--password-stdin'], 'new-pw\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `password changed for ${user}@localhost (1 live session ended)\n`);
    await held.expect(q(/<reset xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/));
    await held.waitClosed();
    const old = await RawClient.connect(c2sA.port!);
    clients.push(old);
    await assert.rejects(old.login(user, 'pw', 'x'));
  });

  it('user remove asked of c2s A ends the session held through c2s B with <not-authorized/>, and the account is gone', async () => {
    const user = one![1]!;
    const held = await online(c2sB.port!, user, 'new-pw', 'desk');
    const r = await cli('c2sA', ['user', 'remove', `${user}@localhost`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `removed ${user}@localhost (1 live session ended)\n`);
    await held.expect(q(/<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>The account was removed<\/text>/));
    await held.waitClosed();
    const users = await cli('sm0', ['user', 'list']);
    assert.equal(users.code, 0, users.stderr);
    assert.deepEqual(users.stdout.trim().split('\n').sort(), [zero![0], zero![1], one![0]].map((u) => `${u}@localhost`).sort());
    const gone = await RawClient.connect(c2sA.port!);
    clients.push(gone);
    await assert.rejects(gone.login(user, 'new-pw', 'x'));
    const twice = await cli('c2sB', ['user', 'remove', `${user}@localhost`]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, new RegExp(`no such account: ${user}@localhost`));
  });

  it('user add asked of c2s B stores the account and its shard sets it up; it logs in through c2s A', async () => {
    const r = await cli('c2sB', ['user', 'add', 'newcomer@localhost', '--password-stdin'], 'newcomer-pw\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'added newcomer@localhost\n');
    const owner = ownerOf(shards.indexOf('newcomer@localhost'))!;
    assert.doesNotMatch(owner.log + c2sB.log, /admin\.user\.setup/, 'the shard answered user.created');
    const c = await online(c2sA.port!, 'newcomer', 'newcomer-pw', 'first');
    c.close();
  });

  it('a shard whose process does not answer is named after the bound; the other shard still answers', async () => {
    await online(c2sA.port!, one![0]!, 'pw', 'again');
    const stopped = ownerOf(0)!;
    stopped.child.kill('SIGSTOP');
    try {
      const list = await cli('c2sA', ['sessions', 'list']);
      assert.equal(list.code, 1);
      assert.match(list.stderr, /^no answer from sm\/shard-0: no answer within 2000 ms$/m);
      assert.match(list.stdout, new RegExp(`^${one![0]}@localhost/again\\t`, 'm'));
      assert.doesNotMatch(list.stdout, new RegExp(zero![0]!));
    } finally {
      stopped.child.kill('SIGCONT');
    }
  });
});
