// Per-user data kept in memory while the user's sessions hold it (the
// roster, the block list). Each session retains it before it is bound and
// releases it after its last stanza, so a user with a session always has it
// here, binds racing each other share one load, and every session of a user
// sees the one object that changes update.

interface Entry<T> {
  readonly loading: Promise<T>;
  /** Set once loaded (or replaced). */
  value: T | undefined;
  holders: number;
}

export interface HeldHooks<T> {
  /** A user's data came into memory. */
  loaded?(value: T): void;
  /** The last session let a user's data go. */
  dropped?(value: T): void;
}

export class HeldByUser<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly read: (username: string) => Promise<T>,
    private readonly hooks: HeldHooks<T> = {},
  ) {}

  /** The user's data: from memory while a session holds it, else read afresh. */
  get(username: string): T | Promise<T> {
    const entry = this.entries.get(username);
    if (!entry) return this.read(username);
    return entry.value ?? entry.loading;
  }

  /** The data in memory, if a session holds it and it has loaded. */
  peek(username: string): T | undefined {
    return this.entries.get(username)?.value;
  }

  /** One more session holds the user's data (at bind); each retain is paired with one release. */
  async retain(username: string): Promise<T> {
    let entry = this.entries.get(username);
    if (!entry) {
      const created: Entry<T> = { loading: this.read(username), value: undefined, holders: 0 };
      this.entries.set(username, created);
      created.loading.then(
        (value) => {
          if (created.value !== undefined || this.entries.get(username) !== created) return;
          created.value = value;
          this.hooks.loaded?.(value);
        },
        () => {},
      );
      entry = created;
    }
    entry.holders++;
    try {
      await entry.loading;
    } catch (err) {
      this.releaseEntry(username, entry);
      throw err;
    }
    return entry.value ?? entry.loading;
  }

  /** One session fewer holds the data (once it has ended); the last one lets it go. */
  release(username: string): void {
    const entry = this.entries.get(username);
    if (entry) this.releaseEntry(username, entry);
  }

  private releaseEntry(username: string, entry: Entry<T>): void {
    if (this.entries.get(username) !== entry || --entry.holders > 0) return;
    this.entries.delete(username);
    if (entry.value !== undefined) this.hooks.dropped?.(entry.value);
  }

  /** Puts `value` in place of what sessions hold (an account removed with its data); nothing when none does. */
  replace(username: string, value: T): void {
    const entry = this.entries.get(username);
    if (entry) entry.value = value;
  }
}
