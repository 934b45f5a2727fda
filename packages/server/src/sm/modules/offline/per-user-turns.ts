// One user's offline-storage calls, one after the other. A store runs while
// the message's recipient may be logging in: without an order, the take at
// the user's initial presence could run before a store that began earlier
// finished (PostgreSQL answers in any order), and the message would wait in
// storage for the next login (seen under load: a c2s stopped mid-burst, its
// user back within the second). Users do not wait for each other.

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
