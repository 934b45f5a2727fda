// The benchmark suites `npm run bench` knows, by name.
import type { BenchRow } from './row.ts';
import { runMicroBenchmarks } from './micro.ts';
import { chatPairs, idleSessions, loginStorm } from './e2e.ts';

export const SUITES: Record<string, () => Promise<BenchRow[]>> = {
  micro: runMicroBenchmarks,
  login: () => loginStorm({ count: 2000, mechanism: 'SCRAM-SHA-256', workers: 1 }),
  chat: () => chatPairs({ pairs: 100, seconds: 10, window: 10, workers: 1 }),
  idle: () => idleSessions({ sessions: 5000, workers: 2 }),
};
