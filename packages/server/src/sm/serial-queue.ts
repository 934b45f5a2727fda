// Per-session ordering for async handlers (Prosody's runner): a task starts
// only when the one before it has finished. A synchronous task on an idle
// queue runs at once, so the common path costs no promise.

export class SerialQueue {
  private tail: Promise<void> | undefined;

  run(task: () => void | Promise<void>): void {
    if (this.tail === undefined) {
      let result;
      try {
        result = task();
      } catch (err) {
        // A synchronous fault is logged as an async one is: it must not escape into the router's callback.
        console.error('switchboard: session task failed', err);
        return;
      }
      if (result instanceof Promise) this.track(result);
      return;
    }
    this.track(this.tail.then(task));
  }

  private track(promise: Promise<void>): void {
    const tail = promise.catch((err: unknown) => {
      console.error('switchboard: session task failed', err);
    }).then(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    this.tail = tail;
  }
}
