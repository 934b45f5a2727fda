// Idle detection for many sockets without a timer per socket (RFC 6120
// §4.6: a peer that sends nothing for the idle period is gone). A socket
// timeout in Node is re-armed on every read and every write, which is a
// timer-list insert per stanza both ways, and counts our own whitespace
// keepalives as life. Here one interval per idle period sweeps every member
// four times per period; a member notes the sweep count when data arrives,
// and is idle once five sweeps have passed since: between 1 and 1.25 idle
// periods of silence.

const SWEEPS_PER_PERIOD = 4;

export interface IdleMember {
  /** The sweep count when the member last received data. */
  heardInRound: number;
  idle(): void;
}

export class IdleSweep {
  private readonly members = new Set<IdleMember>();
  private timer: NodeJS.Timeout | undefined;
  /** Sweeps so far. */
  round = 0;

  constructor(private readonly idleMs: number) {}

  add(member: IdleMember): void {
    member.heardInRound = this.round;
    this.members.add(member);
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), Math.max(1, this.idleMs / SWEEPS_PER_PERIOD));
    this.timer.unref();
  }

  remove(member: IdleMember): void {
    this.members.delete(member);
    this.stopIfEmpty();
  }

  private sweep(): void {
    this.round++;
    for (const member of this.members) {
      if (this.round - member.heardInRound > SWEEPS_PER_PERIOD) {
        this.members.delete(member);
        member.idle();
      }
    }
    this.stopIfEmpty();
  }

  private stopIfEmpty(): void {
    if (this.members.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

const sweeps = new Map<number, IdleSweep>();

/** The sweep for one idle period, shared by every connection with that period; none for a period that is not positive. */
export function idleSweep(idleMs: number): IdleSweep | undefined {
  if (!(idleMs > 0 && Number.isFinite(idleMs))) return undefined;
  let sweep = sweeps.get(idleMs);
  if (!sweep) sweeps.set(idleMs, (sweep = new IdleSweep(idleMs)));
  return sweep;
}
