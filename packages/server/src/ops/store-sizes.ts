// The sizes of what the store holds for users, for the operator's gauges
// (#22: "offline queue and archive sizes"): messages waiting offline, and
// messages in the archive. Cheap by construction, since a scrape comes every
// few seconds and a table can hold millions of rows:
//
// - the archive's total is the sum of the per-user counts the store keeps
//   (archive_counts, one row per user), never a scan of the messages;
// - the offline total is a count stopped at `cap` rows (1,000,000): the gauge
//   reads `cap` past that, and one query never costs more;
// - both are read at most once per `maxAgeMs` (60 s) whatever the scrape
//   rate, and a scrape waits for a read at most `waitMs` (1 s): it reports the
//   last values it has instead (none yet: the gauge has no sample).

import type { Storage } from '../storage/ports.ts';
import { moduleLogger } from '../log.ts';

export interface StoreSizes {
  offlineMessages: number;
  archiveMessages: number;
}

export interface StoreSizeSource {
  /** The latest sizes, read again first if they are older than `maxAgeMs`; undefined until one read succeeded. */
  read(): Promise<StoreSizes | undefined>;
}

export interface StoreSizeOptions {
  maxAgeMs?: number;
  waitMs?: number;
  cap?: number;
}

export const OFFLINE_COUNT_CAP = 1_000_000;

export function storeSizes(storage: Pick<Storage, 'offline' | 'archive'>, options: StoreSizeOptions = {}): StoreSizeSource {
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const waitMs = options.waitMs ?? 1000;
  const cap = options.cap ?? OFFLINE_COUNT_CAP;
  let last: StoreSizes | undefined;
  let readAt = -Infinity;
  let reading: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    reading ??= Promise.all([storage.offline.total(cap), storage.archive.total()])
      .then(([offlineMessages, archiveMessages]) => {
        last = { offlineMessages, archiveMessages };
        readAt = Date.now();
      })
      .catch((err: unknown) => {
        // A store that is down keeps the last sizes; its outage has its own metric (switchboard_backend_up).
        moduleLogger('metrics').warn({ event: 'metrics.store-sizes.failed', err }, 'store sizes not read');
        readAt = Date.now();
      })
      .finally(() => (reading = undefined));
    return reading;
  };
  return {
    async read() {
      if (Date.now() - readAt >= maxAgeMs) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([refresh(), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
        clearTimeout(timer);
      }
      return last;
    },
  };
}
