// NATS stopped 60 s (#17), with real processes in the fault suite's topology
// (cluster-kit.ts): two c2s, two sm shards and a standby, PostgreSQL.
// Numbered bursts run both ways between a user on each c2s and each shard,
// before, through and after the outage. Each message is counted: delivered
// once, stored offline, or answered with an error to its sender; none lost,
// none duplicated. Every process stays up, or (an sm fenced by its lease,
// exit 75) is restarted by the test as its supervisor would. It prints how
// long after NATS returned service came back and which streams were reset,
// with which stream error, and why (the processes' log lines).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, waitFor } from './helpers.ts';
import { account, chatsBothWays, clusterShards, errorIds, ids, startFullCluster, usersByShard, type FullCluster } from './cluster-kit.ts';

const OUTAGE_MS = Number(process.env.SWITCHBOARD_NATS_OUTAGE_MS ?? 60_000);
/** How soon after NATS returns fresh logins must chat both ways again. */
const RECOVERY_BOUND_MS = 15_000;
/** After NATS returns, how long an owner cut off past its lease may still serve beside its successor (the known defect below). */
const HANDOVER_MS = 8000;

const streamError = (text: string): string | undefined => text.match(/<stream:error><([a-z-]+)/)?.[1];

// alice and carol on shard 0, bob and dave on shard 1.
const [[aliceName, carolName], [bobName, daveName]] = usersByShard(clusterShards, 'o') as [[string, string], [string, string]];

describe(`cluster: NATS stopped ${OUTAGE_MS / 1000} s under bursts both ways (2 c2s, 2 sm shards + standby, PostgreSQL)`, { timeout: OUTAGE_MS + 120_000 }, () => {
  let cluster: FullCluster;
  const restarts: string[] = [];
  const c2sA = { get port() { return cluster.c2s[0].port; } };
  const c2sB = { get port() { return cluster.c2s[1].port; } };

  before(async () => {
    cluster = await startFullCluster('outage', [aliceName, bobName, carolName, daveName]);
  });

  after(async () => {
    await cluster?.close();
  });

  /** The test as supervisor: an sm fenced by its lease exits 75 and is started again; any other exit is a failure. */
  async function supervise(): Promise<void> {
    restarts.push(...(await cluster.supervise()));
    for (const p of cluster.c2s) assert.equal(p.child.exitCode, null, `c2s died: ${p.log.slice(-2000)}`);
  }

  async function online(port: number, user: string, resource: string): Promise<RawClient> {
    const c = await RawClient.connect(port);
    await c.login(user, 'pw', resource);
    c.send('<presence/>');
    return c;
  }

  /** Logs `user` in again and collects what offline storage kept for it. */
  async function offlineOf(port: number, user: string, prefix: string): Promise<number[]> {
    const c = await online(port, user, `back${Date.now()}`);
    await new Promise((r) => setTimeout(r, 1500));
    const got = ids(c.received, prefix);
    c.close();
    return got;
  }

  /** A login that gives up as soon as the bind is refused (no sm reachable yet), instead of at the 5 s expect. */
  async function login(c: RawClient, user: string): Promise<string> {
    const refused = waitFor(() => /id="bind1"[^>]*type="error"|type="error"[^>]*id="bind1"/.test(c.received), 6000, 'bind refused').then(() => {
      throw new Error('bind refused');
    });
    refused.catch(() => undefined);
    return Promise.race([c.login(user, 'pw', `r${Date.now()}`), refused]);
  }

  /** Fresh logins on both c2s, a message each way. */
  const serves = (): Promise<boolean> => chatsBothWays(c2sA.port!, carolName, c2sB.port!, daveName, { timeoutMs: 1500, login });

  it('every message delivered once, stored offline or answered with an error; every process up (or restarted); service back within the bound', async () => {
    const alice = await online(c2sA.port!, aliceName, 'a');
    const bob = await online(c2sB.port!, bobName, 'b');
    await new Promise((r) => setTimeout(r, 300));
    const processes = (): { log: string }[] => [...cluster.sms, ...cluster.c2s];
    const logFrom = processes().map((p) => p.log.length);

    let sentA = 0;
    let sentB = 0;
    // When each message was written (index = its number), to tell the handover's window after NATS returned.
    const sentAtA: number[] = [];
    const sentAtB: number[] = [];
    let pings = 0;
    let stopped = 0;
    let returned = 0;
    const resets: string[] = [];
    const reconnected = new Map<string, number>();
    const open = (c: RawClient): boolean => !c.closed && !/<\/stream:stream>|<stream:error>/.test(c.received);
    let running = true;
    // Bursts to the bare JID every 100 ms each way, and a ping every second, as long as each stream is open (a client
    // whose stream was closed would reconnect; it writes nothing more there).
    const burst = (async () => {
      for (let tick = 1; running; tick++) {
        if (open(alice)) {
          alice.send(`<message to='${bobName}@localhost' type='chat' id='a${++sentA}'><body>${sentA}</body></message>`);
          sentAtA[sentA] = Date.now();
        }
        if (open(bob)) {
          bob.send(`<message to='${aliceName}@localhost' type='chat' id='b${++sentB}'><body>${sentB}</body></message>`);
          sentAtB[sentB] = Date.now();
        }
        if (tick % 10 === 0 && open(alice)) alice.send(`<iq type='get' id='p${++pings}' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
        for (const [name, c] of [['alice (c2s A)', alice], ['bob (c2s B)', bob]] as const) {
          if (!open(c) && !resets.some((r) => r.startsWith(name))) {
            const at = returned > 0 ? `${Date.now() - returned} ms after NATS returned` : `${Date.now() - stopped} ms into the outage`;
            resets.push(`${name}: <${streamError(c.received) ?? 'closed without stream error'}/> ${at}`);
          }
        }
        if (returned > 0) {
          for (const [name, p] of [...cluster.sms.map((p, i) => [`sm ${i}`, p] as const), ['c2s A', cluster.c2s[0]] as const, ['c2s B', cluster.c2s[1]] as const]) {
            if (!reconnected.has(name) && p.log.lastIndexOf('"event":"backend.connected"') > p.log.lastIndexOf('"event":"backend.disconnected"')) reconnected.set(name, Date.now() - returned);
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await new Promise((r) => setTimeout(r, 2000));
    await cluster.nats.stop();
    stopped = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await supervise();
    await cluster.nats.start();
    returned = Date.now();
    let serviceMs = -1;
    await waitFor(async () => {
      await supervise();
      if (await serves()) serviceMs = Date.now() - returned;
      return serviceMs >= 0;
    }, RECOVERY_BOUND_MS + 10_000, 'chat both ways after NATS returned');
    // The bursts run on a little past recovery, then everything in flight settles.
    await new Promise((r) => setTimeout(r, 3000));
    running = false;
    await burst;
    await new Promise((r) => setTimeout(r, 1500));
    await supervise();

    const toBob = { delivered: ids(bob.received, 'a'), stored: await offlineOf(c2sB.port!, bobName, 'a'), errors: errorIds(alice.received, 'a') };
    const toAlice = { delivered: ids(alice.received, 'b'), stored: await offlineOf(c2sA.port!, aliceName, 'b'), errors: errorIds(bob.received, 'b') };
    const a = account(sentA, [toBob.delivered, toBob.stored, toBob.errors]);
    const b = account(sentB, [toAlice.delivered, toAlice.stored, toAlice.errors]);
    const answered = [...alice.received.matchAll(/<iq[^>]*id="p(\d+)"/g)].length;
    const why = processes()
      .map((p, i) => p.log.slice(logFrom[i] ?? 0))
      .join('\n')
      .split('\n')
      .filter((l) => /component\.down|is gone|lease[^"]*(lost|acquired|standby)|session\.ended/.test(l))
      .map((l) => {
        try {
          const j = JSON.parse(l) as { msg?: string; detail?: string; reason?: string; jid?: string };
          return `${j.msg ?? ''}${j.detail ? ` (${j.detail})` : ''}${j.jid ? ` ${j.jid} ${j.reason ?? ''}` : ''}`;
        } catch {
          return l.slice(0, 160);
        }
      });
    console.log(`NATS down ${OUTAGE_MS / 1000} s: service (fresh logins, chat both ways) ${serviceMs} ms after NATS returned`);
    console.log(`  reconnected to NATS after it returned (±100 ms): ${[...reconnected].map(([n, ms]) => `${n} ${ms} ms`).join(', ')}`);
    console.log(`  alice→bob: sent ${sentA}, delivered ${toBob.delivered.length}, offline ${toBob.stored.length}, errors ${toBob.errors.length}, lost ${a.lost.join(',') || 'none'}, duplicated ${a.duplicated.join(',') || 'none'}`);
    console.log(`  bob→alice: sent ${sentB}, delivered ${toAlice.delivered.length}, offline ${toAlice.stored.length}, errors ${toAlice.errors.length}, lost ${b.lost.join(',') || 'none'}, duplicated ${b.duplicated.join(',') || 'none'}`);
    console.log(`  pings: sent ${pings}, answered ${answered}`);
    console.log(`  streams reset: ${resets.length === 0 ? 'none' : resets.join('; ')}`);
    console.log(`  restarts by the supervisor: ${restarts.length === 0 ? 'none' : restarts.join('; ')}`);
    console.log(`  why (process logs since the burst began):\n    ${why.join('\n    ') || 'nothing logged'}`);

    // Known defect (#17, docs/protocol.md "Shards"): when the standby takes a shard whose owner was cut off past its
    // lease, both serve it until the old owner's next renewal fences it, so a message written in the seconds after
    // NATS returned can be served twice (CI: six, delivered by one and stored offline by the other). Any other
    // duplicate fails.
    const inHandover = (at: number[]) => (id: number): boolean => (at[id] ?? 0) >= returned && (at[id] ?? 0) <= returned + HANDOVER_MS;
    const doubled = [...a.duplicated.filter(inHandover(sentAtA)).map((i) => `a${i}`), ...b.duplicated.filter(inHandover(sentAtB)).map((i) => `b${i}`)];
    if (doubled.length > 0) console.log(`  KNOWN DEFECT, served twice in the handover after NATS returned: ${doubled.join(',')}`);
    assert.deepEqual(a.duplicated.filter((i) => !inHandover(sentAtA)(i)), []);
    assert.deepEqual(b.duplicated.filter((i) => !inHandover(sentAtB)(i)), []);
    assert.deepEqual(a.lost, [], `alice→bob lost ${a.lost.join(',')}`);
    assert.deepEqual(b.lost, [], `bob→alice lost ${b.lost.join(',')}`);
    assert.ok(serviceMs <= RECOVERY_BOUND_MS, `service came back ${serviceMs} ms after NATS returned`);
    // Every iq written on an open stream was answered (a result, or an error while NATS was down).
    if (open(alice)) assert.equal(answered, pings);
    alice.close();
    bob.close();
  });
});
