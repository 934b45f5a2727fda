// Who may open a stream (issue #18; RFC 6120 §13.12). Until it authenticates,
// a connection costs the server without anyone answering for it, so their
// number is bounded per address and in all, each holds at most the pre-auth
// stanza limit (stream.ts), and has less time than a logged-in one. And a
// server near its memory budget sheds new connections while it still serves
// the ones it has, rather than reach the heap limit and drop everyone.

import { getHeapStatistics } from 'node:v8';
import type { StreamError } from '@switchboard/protocol';
import { streamError } from '@switchboard/protocol';

export interface GateLimits {
  /** Unauthenticated connections from one address. */
  preAuthPerAddress: number;
  /** Unauthenticated connections in all. */
  preAuthTotal: number;
  /** Loopback peers are not counted per address (local tools, benchmarks). */
  preAuthExemptLoopback: boolean;
  /** Heap and external memory, in bytes, past which new connections are refused; 0: 80 % of V8's heap limit. */
  memoryBudgetBytes: number;
}

export class ConnectionGate {
  private readonly perAddress = new Map<string, number>();
  private total = 0;
  private readonly budget: number;

  constructor(private readonly limits: GateLimits) {
    this.budget = limits.memoryBudgetBytes > 0 ? limits.memoryBudgetBytes : Math.floor(getHeapStatistics().heap_size_limit * 0.8);
  }

  /** A new connection from `address` (counted as unauthenticated), or the stream error that refuses it. */
  admit(address: string, loopback: boolean): StreamError | undefined {
    const heap = getHeapStatistics();
    // §4.9.3.17: the server lacks the resources to serve another stream.
    if (heap.used_heap_size + heap.external_memory > this.budget) return streamError('resource-constraint', 'the server is at its memory budget');
    if (this.total >= this.limits.preAuthTotal) return streamError('resource-constraint', 'too many connections logging in');
    const counted = !(loopback && this.limits.preAuthExemptLoopback);
    if (counted && (this.perAddress.get(address) ?? 0) >= this.limits.preAuthPerAddress) {
      return streamError('policy-violation', 'too many unauthenticated connections from your address');
    }
    this.total++;
    if (counted) this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    return undefined;
  }

  /** An admitted connection authenticated, or went away before it did. */
  leave(address: string, loopback: boolean): void {
    this.total--;
    if (loopback && this.limits.preAuthExemptLoopback) return;
    const n = (this.perAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, n);
  }

  get unauthenticated(): number {
    return this.total;
  }
}
