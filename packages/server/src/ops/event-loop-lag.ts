// Event-loop delay for the admin `stats` command (the web console's live
// numbers), apart from prom-client's, which resets its histogram at every
// scrape and runs only with the HTTP listener. Sampling starts at the first
// reading (perf_hooks.monitorEventLoopDelay, 20 ms resolution, as
// prom-client's) and is read in windows of five seconds: a reading gives the
// last whole window, so any number of readers see the same figure and none
// resets another's.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const WINDOW_MS = 5000;

export interface EventLoopLag {
  /** 99th percentile and maximum delay in the window, in milliseconds. */
  p99Ms: number;
  maxMs: number;
  /** How long the window it describes lasted. */
  windowMs: number;
}

let histogram: IntervalHistogram | undefined;
let windowStart = 0;
let last: EventLoopLag | undefined;

const read = (h: IntervalHistogram, windowMs: number): EventLoopLag => ({
  // An empty histogram (no sample yet) reports NaN percentiles and a huge minimum.
  p99Ms: h.count > 0 ? h.percentile(99) / 1e6 : 0,
  maxMs: h.count > 0 ? h.max / 1e6 : 0,
  windowMs,
});

export function eventLoopLag(now = Date.now()): EventLoopLag {
  if (!histogram) {
    histogram = monitorEventLoopDelay({ resolution: 20 });
    histogram.enable();
    windowStart = now;
  }
  const open = now - windowStart;
  if (open >= WINDOW_MS) {
    last = read(histogram, open);
    histogram.reset();
    windowStart = now;
  }
  return last ?? read(histogram, open);
}
