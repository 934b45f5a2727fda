// What the cluster's shared login throttle costs a login attempt (issue
// #18, docs/hardening.md "In a cluster"): N admissions (two KV reads each,
// what every attempt pays) and N failures (two revision-checked writes each,
// what a wrong password pays), one at a time, against a nats-server of its
// own, beside the same on the process's own table.
//   node --import tsx bench/shared-throttle.ts [N=2000]

import { performance } from 'node:perf_hooks';
import { startNatsServer } from '@switchboard/testkit';
import { NatsRouter } from '../packages/server/src/router/nats.ts';
import { AuthThrottle, DEFAULT_AUTH_THROTTLE } from '../packages/server/src/auth/throttle.ts';
import { SharedAuthThrottle, type LoginThrottle } from '../packages/server/src/auth/shared-throttle.ts';

const N = Number(process.argv[2] ?? 2000);
const nats = await startNatsServer();
const router = await NatsRouter.connect(nats.url, { prefix: 'bench' });
const config = { ...DEFAULT_AUTH_THROTTLE, addressFreeFailures: 1e9, accountFreeFailures: 1e9 };
const table = await router.sharedTable('auth_failures', { ttlMs: config.forgetAfterMs, maxBytes: config.maxTracked * 2 * 256 });

async function measure(name: string, throttle: LoginThrottle): Promise<void> {
  let t = performance.now();
  for (let i = 0; i < N; i++) await throttle.admit(`10.0.${(i >> 8) & 255}.${i & 255}`, `user${i}@localhost`);
  const admit = (performance.now() - t) / N;
  t = performance.now();
  for (let i = 0; i < N; i++) await throttle.failed(`10.0.${(i >> 8) & 255}.${i & 255}`, `user${i}@localhost`);
  const failed = (performance.now() - t) / N;
  console.log(`${name.padEnd(28)} admit ${(admit * 1000).toFixed(0).padStart(6)} µs   failed ${(failed * 1000).toFixed(0).padStart(6)} µs   (${N} each, one at a time)`);
}

try {
  await measure('this process only', new AuthThrottle(config));
  await measure('shared (NATS KV, loopback)', new SharedAuthThrottle(new AuthThrottle(config), table));
} finally {
  await router.close();
  await nats.close();
}
