// The per-session action queue (XEP-0166 requires actions to be handled in
// the order they were sent): one task at a time, in arrival order, each may
// be async. Closing the queue hands every waiting task to its `cancel`, so a
// remote action queued behind a session-terminate still gets an answer.

export interface Task {
  run(): Promise<void>;
  cancel(): void;
}

export class ActionQueue {
  private readonly tasks: Task[] = [];
  private running = false;
  private closed = false;

  get size(): number {
    return this.tasks.length + (this.running ? 1 : 0);
  }

  push(task: Task): void {
    if (this.closed) {
      task.cancel();
      return;
    }
    this.tasks.push(task);
    if (!this.running) void this.drain();
  }

  close(): void {
    this.closed = true;
    for (const task of this.tasks.splice(0)) task.cancel();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let task = this.tasks.shift(); task; task = this.tasks.shift()) {
        try {
          await task.run();
        } catch (err) {
          // Tasks report their own failures; reaching here is a bug in one of them.
          console.error('switchboard jingle: queued action threw', err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
