// Two or more builds of Switchboard measured at the same time: each serves
// its own users on the same pinned core, each gets the same open-loop chat
// load (bench/load/worker.ts `paced`, one worker per build on the other
// core), and each build's CPU per delivered message is read over the same
// seconds. Whatever the machine does meanwhile (another tenant, a busy
// neighbour core), it does to every build alike, so the ratio of two builds
// is far steadier than two runs one after the other. The builds are started
// again for each rotation, each time in another order, because the one
// started first costs a few per cent more than the same build after it.
//
//   node --import tsx bench/ab.ts [--sm] [--users N] [--interval MS] [--count N] [--rounds N] [--rotations N] LABEL=PATH[,NODE_FLAG…] …
//   node --import tsx bench/ab.ts base=/tmp/base/dist/switchboard.mjs new=dist/switchboard.mjs
//
// PATH is a built dist/switchboard.mjs (`node scripts/build.mjs` in a
// worktree of the other commit). LABEL=ejabberd instead runs Debian's
// ejabberd as the shared tsung yardstick starts it, so that it is measured
// side by side with Switchboard in the same seconds:
//
//   node --import tsx bench/ab.ts --users 1000 switchboard=dist/switchboard.mjs ejabberd=ejabberd
//
// The first build is the baseline of the
// ratios. Defaults: 500 users per build, one message per user per second
// (so the core serves 1,000 msgs/s in all with two builds), 20 messages per
// user per round, 2 rounds per rotation, as many rotations as builds.

import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { Workers, percentile, startBenchServer, startEjabberdBench, type BenchServer } from './e2e.ts';
import type { WorkerReply } from './load/worker.ts';

/** A Switchboard build (`cli`, with Node flags), or ejabberd as the shared yardstick runs it (`cli` undefined). */
interface Build {
  label: string;
  cli: string | undefined;
  nodeFlags: string[];
}

function start(build: Build): Promise<BenchServer> {
  if (build.cli === undefined) return startEjabberdBench(users);
  return startBenchServer(users, 0, { cli: build.cli, nodeFlags: build.nodeFlags });
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args.splice(at, 2)[1]) : fallback;
}

const args = process.argv.slice(2);
const users = option(args, '--users', 500);
const intervalMs = option(args, '--interval', 1000);
const count = option(args, '--count', 20);
const rounds = option(args, '--rounds', 2);
const rotationsAsked = option(args, '--rotations', 0);
// --sm: every client enables XEP-0198 with resumption and answers the server's <r/> (the per-stanza queue and copy).
const smAt = args.indexOf('--sm');
const sm = smAt >= 0;
if (sm) args.splice(smAt, 1);
const builds: Build[] = args.map((arg) => {
  const at = arg.indexOf('=');
  const label = arg.slice(0, at);
  const spec = arg.slice(at + 1);
  if (at <= 0 || !spec) throw new Error(`expected LABEL=PATH[,NODE_FLAG…] or LABEL=ejabberd, got ${arg}`);
  if (spec === 'ejabberd') return { label, cli: undefined, nodeFlags: [] };
  const [cli, ...nodeFlags] = spec.split(',');
  return { label, cli: resolve(cli!), nodeFlags };
});
if (builds.length < 2) {
  console.error('usage: bench/ab.ts [--sm] [--users N] [--interval MS] [--count N] [--rounds N] [--rotations N] LABEL=PATH[,NODE_FLAG…]|LABEL=ejabberd …');
  process.exit(2);
}

/** CPU seconds the process has run, all threads, from the scheduler's nanosecond counters (/proc/…/stat counts 10 ms ticks). */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  return ns / 1e9;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Every build starts first once, unless told otherwise. */
const rotations = rotationsAsked || builds.length;
const names = Array.from({ length: users }, (_, i) => `user${i + 1}`);
const perMessage: number[][] = builds.map(() => []);
console.log(`| rotation | round | ${builds.map((b) => `${b.label} µs/msg`).join(' | ')} | ${builds.slice(1).map((b) => `${b.label}/${builds[0]!.label}`).join(' | ')} | p99 ms (${builds.map((b) => b.label).join(', ')}) | delivered |`);
console.log(`|---|---|${builds.map(() => '---|').join('')}${builds.slice(1).map(() => '---|').join('')}---|---|`);
let round = 0;
// The server started first, with the first worker, has been seen to cost a few per cent more than
// an identical build started after it; each rotation starts the builds in another order.
for (let rotation = 0; rotation < rotations; rotation++) {
  const order = builds.map((_, i) => (i + rotation) % builds.length);
  const servers: BenchServer[] = [];
  const workers = new Workers(builds.length);
  try {
    for (const b of order) servers.push(await start(builds[b]!));
    await workers.all((slot) => ({
      cmd: 'login', host: '127.0.0.1', port: servers[slot]!.port, domain: 'localhost', password: 'pass', mechanism: 'PLAIN', concurrency: 20, keep: true, users: names, sm,
    }));
    await workers.all(() => ({ cmd: 'presence' }));
    for (let r = 0; r < rounds; r++) {
      round++;
      const cpu0 = servers.map((s) => cpuSeconds(s.pid));
      const t0 = performance.now();
      const replies = (await workers.all(() => ({ cmd: 'paced', domain: 'localhost', intervalMs, count, bodySize: 64 }))) as Extract<WorkerReply, { cmd: 'paced' }>[];
      const seconds = (performance.now() - t0) / 1000;
      // Back in build order.
      const us: number[] = [];
      const p99: string[] = [];
      const delivered: string[] = [];
      order.forEach((b, slot) => {
        us[b] = ((cpuSeconds(servers[slot]!.pid) - cpu0[slot]!) * 1e6) / Math.max(1, replies[slot]!.delivered);
        // Send-to-receive, as the build's own worker stamped and read it.
        p99[b] = percentile(replies[slot]!.latenciesMs.sort((x, y) => x - y), 99).toFixed(2);
        delivered[b] = `${replies[slot]!.delivered}/${replies[slot]!.sent}`;
      });
      us.forEach((v, b) => perMessage[b]!.push(v));
      console.log(`| ${rotation + 1} | ${round} | ${us.map((v) => v.toFixed(1)).join(' | ')} | ${us.slice(1).map((v) => (v / us[0]!).toFixed(3)).join(' | ')} | ${p99.join(', ')} | ${delivered.join(', ')} in ${seconds.toFixed(1)} s |`);
    }
  } finally {
    await workers.all(() => ({ cmd: 'close' })).catch(() => undefined);
    workers.stop();
    for (const s of servers) await s.stop();
  }
}
console.log('');
for (let i = 1; i < builds.length; i++) {
  const ratios = perMessage[i]!.map((v, k) => v / perMessage[0]![k]!);
  console.log(`${builds[i]!.label} / ${builds[0]!.label}: median ${median(ratios).toFixed(3)} over ${ratios.length} rounds (range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}); medians ${median(perMessage[i]!).toFixed(1)} vs ${median(perMessage[0]!).toFixed(1)} µs/msg`);
}
process.exit(0);
