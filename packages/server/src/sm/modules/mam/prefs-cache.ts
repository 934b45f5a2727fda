// The archiving preferences of recently seen users, so that the message path
// reads them from memory. Bounded: past `limit` users the least recently
// used one is forgotten and read again from storage when needed.

import type { ArchivePrefs, MessageArchive } from '../../../storage/archive.ts';

export class PrefsCache {
  private readonly cache = new Map<string, ArchivePrefs>();
  private readonly loading = new Map<string, Promise<ArchivePrefs>>();

  constructor(
    private readonly archive: MessageArchive,
    private readonly host: string,
    private readonly defaults: ArchivePrefs,
    private readonly limit = 10_000,
  ) {}

  /** The user's preferences: synchronous when cached. */
  get(username: string): ArchivePrefs | Promise<ArchivePrefs> {
    const hit = this.cache.get(username);
    if (hit) {
      // Map order is insertion order: moving the entry to the end makes it the most recently used.
      this.cache.delete(username);
      this.cache.set(username, hit);
      return hit;
    }
    let pending = this.loading.get(username);
    if (!pending) {
      pending = this.archive.getPrefs(username, this.host).then(
        (stored) => {
          this.loading.delete(username);
          const prefs = stored ?? this.defaults;
          this.remember(username, prefs);
          return prefs;
        },
        (err: unknown) => {
          this.loading.delete(username);
          throw err;
        },
      );
      this.loading.set(username, pending);
    }
    return pending;
  }

  async set(username: string, prefs: ArchivePrefs): Promise<void> {
    await this.archive.setPrefs(username, this.host, prefs);
    this.remember(username, prefs);
  }

  forget(username: string): void {
    this.cache.delete(username);
  }

  private remember(username: string, prefs: ArchivePrefs): void {
    this.cache.delete(username);
    this.cache.set(username, prefs);
    if (this.cache.size > this.limit) this.cache.delete(this.cache.keys().next().value!);
  }
}
