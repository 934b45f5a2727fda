// One user's storage calls, one after the other, where the order matters:
// offline storage (a store that began before the take at the user's initial
// presence must be in that take; PostgreSQL answers in any order) and PEP (a
// node record is read, changed and written back). Users do not wait for each
// other; a failed call does not stop the ones after it.

export class PerUserTurns {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `task` once every task queued for `username` before it has settled. */
  run<T>(username: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(username);
    const result = before ? before.then(task) : task();
    const tail = result.catch(() => undefined);
    this.tails.set(username, tail);
    // The map holds only users with a call in flight.
    void tail.then(() => {
      if (this.tails.get(username) === tail) this.tails.delete(username);
    });
    return result;
  }
}
