// Where the server's heap allocations per message come from: the same paced
// chat load as bench/ab.ts against one build, with V8's sampling heap
// profiler running in the server (bench/alloc-hook.mjs) for one round.
// Prints bytes allocated per delivered message, by allocating function and
// its caller. V8 names the function whose frame is on the stack, so code
// inlined into another is counted there; --no-inlining runs the server with
// --no-turbo-inlining to see each function's own share (its totals then
// include what escape analysis would have removed).
//
//   node --import tsx bench/alloc.ts [--users N] [--count N] [--no-inlining] [CLI]

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Workers, startBenchServer } from './e2e.ts';
import type { WorkerReply } from './load/worker.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children: ProfileNode[];
}
interface SamplingProfile {
  head: ProfileNode;
  samples: { size: number; nodeId: number }[];
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args.splice(at, 2)[1]) : fallback;
};
const users = option('--users', 1000);
const count = option('--count', 20);
const noInlining = args.includes('--no-inlining');
const cli = resolve(args.find((a) => !a.startsWith('--')) ?? 'dist/switchboard.mjs');

const dir = mkdtempSync(join(tmpdir(), 'switchboard-alloc-'));
process.env.SWITCHBOARD_ALLOC_PROFILE = join(dir, 'profile.json');
const hook = new URL('./alloc-hook.mjs', import.meta.url).pathname;
const server = await startBenchServer(users, 0, { cli, nodeFlags: ['--import', hook, ...(noInlining ? ['--no-turbo-inlining'] : [])] });
const workers = new Workers(1);
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let delivered = 0;
try {
  const names = Array.from({ length: users }, (_, i) => `user${i + 1}`);
  await workers.ask(0, { cmd: 'login', host: '127.0.0.1', port: server.port, domain: 'localhost', password: 'pass', mechanism: 'PLAIN', concurrency: 20, keep: true, users: names });
  await workers.ask(0, { cmd: 'presence' });
  // A short round first, so that the profile sees optimised code.
  await workers.ask(0, { cmd: 'paced', domain: 'localhost', intervalMs: 1000, count: 5, bodySize: 64 });
  process.kill(server.pid, 'SIGUSR2');
  await pause(300);
  const reply = (await workers.ask(0, { cmd: 'paced', domain: 'localhost', intervalMs: 1000, count, bodySize: 64 })) as Extract<WorkerReply, { cmd: 'paced' }>;
  delivered = reply.delivered;
  process.kill(server.pid, 'SIGUSR2');
  await pause(500);
} finally {
  await workers.ask(0, { cmd: 'close' }).catch(() => undefined);
  workers.stop();
  await server.stop();
}

const profile = JSON.parse(readFileSync(process.env.SWITCHBOARD_ALLOC_PROFILE, 'utf8')) as SamplingProfile;
rmSync(dir, { recursive: true, force: true });
const where = (node: ProfileNode | undefined): string => (node ? `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber + 1}` : '');
const nodes = new Map<number, { node: ProfileNode; parent: ProfileNode | undefined }>();
const index = (node: ProfileNode, parent: ProfileNode | undefined): void => {
  nodes.set(node.id, { node, parent });
  for (const child of node.children) index(child, node);
};
index(profile.head, undefined);
const bytes = new Map<string, number>();
let total = 0;
for (const sample of profile.samples) {
  const { node, parent } = nodes.get(sample.nodeId)!;
  const key = `${where(node)} ← ${where(parent)}`;
  bytes.set(key, (bytes.get(key) ?? 0) + sample.size);
  total += sample.size;
}
console.log(`${(total / delivered).toFixed(0)} bytes allocated per delivered message (${delivered} messages, ${users} users, ${noInlining ? 'no inlining' : 'inlining as usual'})\n`);
console.log('| B/msg | function ← caller |\n|---|---|');
for (const [key, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`| ${(size / delivered).toFixed(0)} | ${key} |`);
process.exit(0);
