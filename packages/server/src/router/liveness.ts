// Who is alive on the router (docs/protocol.md "Liveness"). Every component
// is known by its address and the epoch it announced when it was attached;
// a new epoch at a known address means the component restarted. The table
// is fed by the router: in one process by attach and detach, across
// processes by the `live` messages each NATS router publishes for its own
// components (hello, a beat every heartbeat interval, goodbye). A remote
// component not heard from for `deadAfterMs` while this process was
// connected is reported dead: the time is bounded, and an outage of our own
// connection is not mistaken for everyone's death.

import { randomBytes } from 'node:crypto';
import type { ComponentAddress, LivenessEvent, LivenessListener } from './router.ts';
import { channels } from '../diagnostics.ts';
import { log } from '../log-line.ts';

export interface LivenessOptions {
  /** How often each process announces its components (default 1000 ms). */
  heartbeatMs: number;
  /** A remote component silent this long is dead (default 3000 ms; with the sweep, known within ≤ 5 s). */
  deadAfterMs: number;
}

export const DEFAULT_LIVENESS: LivenessOptions = { heartbeatMs: 1000, deadAfterMs: 3000 };

/** A component's epoch: unique per attach, ordered roughly by time for people reading logs. */
export function newEpoch(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

interface Peer {
  epoch: string;
  lastSeen: number;
  /** Attached in this process: alive until detached, never timed out. */
  local: boolean;
}

export class LivenessTable {
  private readonly peers = new Map<ComponentAddress, Peer>();
  private readonly listeners = new Set<LivenessListener>();
  private connectedSince: number;
  private connected = true;
  private reconnectedAt = 0;
  private graceUntil = 0;

  constructor(
    private readonly deadAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.connectedSince = now();
  }

  /** A component announced itself (hello or beat). A new epoch at a known address is a restart. */
  seen(address: ComponentAddress, epoch: string, local = false): void {
    const peer = this.peers.get(address);
    if (peer && peer.epoch === epoch) {
      peer.lastSeen = this.now();
      return;
    }
    if (peer) this.emit({ state: 'down', address, epoch: peer.epoch, why: 'restarted' });
    this.peers.set(address, { epoch, lastSeen: this.now(), local });
    this.emit({ state: 'up', address, epoch });
  }

  /** The component at `address` with `epoch` is gone; a goodbye for an older epoch changes nothing. */
  gone(address: ComponentAddress, epoch: string, why: 'goodbye' | 'timeout'): void {
    const peer = this.peers.get(address);
    if (!peer || peer.epoch !== epoch) return;
    this.peers.delete(address);
    this.emit({ state: 'down', address, epoch, why });
  }

  /** Reports the remote components silent past the bound. */
  sweep(): void {
    if (!this.connected) return;
    const now = this.now();
    const since = now - this.deadAfterMs;
    for (const [address, peer] of [...this.peers]) {
      if (!peer.local && Math.max(peer.lastSeen, this.connectedSince) < since) this.gone(address, peer.epoch, 'timeout');
    }
  }

  /**
   * Our own connection went down or came back: silence while disconnected says nothing about the others. After an
   * outage the others come back one by one, each at its own next reconnect attempt: `graceMs` (the longest
   * reconnect wait) is added to the clock, so a process that found the server up to that much later than we did
   * is not taken for dead (docs/protocol.md "Liveness").
   */
  setConnected(connected: boolean, graceMs = 0): void {
    if (connected && !this.connected) {
      this.reconnectedAt = this.now();
      this.graceUntil = this.reconnectedAt + graceMs;
      this.connectedSince = this.graceUntil;
    }
    this.connected = connected;
  }

  /**
   * A remote component we knew before our own outage and have not heard from since we came back, while the grace
   * after our reconnect lasts: it is most likely still reconnecting, so "nobody subscribed" says nothing yet.
   */
  reconnecting(address: ComponentAddress): boolean {
    const peer = this.peers.get(address);
    return this.connected && peer !== undefined && !peer.local && peer.lastSeen < this.reconnectedAt && this.now() < this.graceUntil;
  }

  epochOf(address: ComponentAddress): string | undefined {
    return this.peers.get(address)?.epoch;
  }

  /** The components attached in this process, for the heartbeat. */
  locals(): [ComponentAddress, string][] {
    return [...this.peers].filter(([, p]) => p.local).map(([a, p]) => [a, p.epoch]);
  }

  watch(listener: LivenessListener): () => void {
    this.listeners.add(listener);
    for (const [address, peer] of this.peers) this.call(listener, { state: 'up', address, epoch: peer.epoch });
    return () => this.listeners.delete(listener);
  }

  private emit(event: LivenessEvent): void {
    if (channels.componentState.hasSubscribers) {
      const kind = event.address.startsWith('c2s/') ? 'c2s' : event.address.startsWith('sm') ? 'sm' : 'service';
      channels.componentState.publish({ kind, name: event.address, state: event.state, detail: event.state === 'down' ? `${event.why}, epoch ${event.epoch}` : `epoch ${event.epoch}` });
    }
    for (const listener of [...this.listeners]) this.call(listener, event);
  }

  private call(listener: LivenessListener, event: LivenessEvent): void {
    try {
      listener(event);
    } catch (err) {
      // One listener's fault must not keep the others from learning of a death.
      log('error', 'liveness listener failed', err);
    }
  }
}
