// One SerialQueue per session (Prosody's runner): the session's stanzas and
// its ending run in the order they came. Held weakly, so a queue goes away
// with its session.

import { SerialQueue } from './serial-queue.ts';
import type { SmSession } from './session.ts';

export class SessionQueues {
  private readonly queues = new WeakMap<SmSession, SerialQueue>();

  of(session: SmSession): SerialQueue {
    let queue = this.queues.get(session);
    if (!queue) this.queues.set(session, (queue = new SerialQueue()));
    return queue;
  }
}
