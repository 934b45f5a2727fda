// The router across processes: each component address is a NATS subject,
// envelopes travel in their XML wire form (envelope.ts). Components attached
// in this process are still reached by direct call, so a single-process
// deployment on NATS pays nothing for the envelopes that stay local.
//
// Nothing is lost silently (docs/protocol.md "Nothing lost in flight"): every
// envelope is published with a reply subject in this router's inbox, so the
// NATS server answers one nobody is subscribed to with a "no responders"
// status (it never otherwise answers, and receivers never reply); a PING
// after each turn's publishes confirms the rest reached the server. Whatever
// cannot be handed over (no subscriber, no connection, the connection lost
// before the confirmation) goes back to its sender's undeliverable handler.
//
// Liveness: each router publishes on `<prefix>.live` a hello for each
// component it attaches, a beat for each every heartbeat interval, and a
// goodbye on detach; liveness.ts turns silence into death.
//
// The connection is weather: it reconnects forever, with exponential
// back-off and jitter, and logs every change of state.

import { connect, createInbox, type KV, type Msg, type NatsConnection, type Subscription } from 'nats';
import { parseElement } from '@switchboard/xml';
import { KvTable, type KvTableOptions } from './shared-table.ts';
import { decodeEnvelope, encodeEnvelope, liveElement, readLive, type Envelope, type Live } from './envelope.ts';
import { DEFAULT_LIVENESS, LivenessTable, newEpoch, type LivenessOptions } from './liveness.ts';
import type { AttachOptions, ComponentAddress, EnvelopeHandler, LivenessListener, Route, Router, UndeliverableHandler, UndeliverableReason } from './router.ts';
import { log } from '../log-line.ts';
import { channels } from '../diagnostics.ts';
import { Lease, type LeaseOptions } from './lease.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface NatsRouterOptions extends Partial<LivenessOptions> {
  /** `prefix` separates clusters sharing one NATS server (and test runs from each other). */
  prefix?: string;
  /** Reconnect back-off: the first wait and the longest (default 250 ms to 2 s), each with up to half again of jitter. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/** One address: a direct call while its component is attached in this process, else its NATS subject. */
class NatsRoute implements Route {
  local: { handler: EnvelopeHandler; subscription: Subscription; undeliverable: UndeliverableHandler | undefined } | undefined;

  constructor(
    readonly to: ComponentAddress,
    readonly subject: string,
    private readonly router: NatsRouter,
  ) {}

  send(envelope: Envelope): void {
    if (this.local) this.local.handler(envelope);
    else this.router.publishEnvelope(this.subject, envelope);
  }
}

export class NatsRouter implements Router {
  /** Every address attached or routed to; an entry outlives its component, so kept routes see it come back. */
  private readonly routes = new Map<ComponentAddress, NatsRoute>();
  /** Wire messages that did not decode as an envelope (dropped, never bounced). */
  malformed = 0;
  /** Envelopes handed back to their senders (see UndeliverableReason). */
  undeliverable = 0;
  private readonly liveness: LivenessTable;
  private readonly liveSubject: string;
  private readonly inbox = createInbox();
  /** Published envelopes not yet confirmed, by the sequence number in their reply subject. */
  private readonly inFlight = new Map<number, Envelope>();
  private sequence = 0;
  private flushScheduled = false;
  private connected = true;
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly options: LivenessOptions,
    /** The longest wait between two reconnect attempts (with jitter): how much later than us another process may find the server back. */
    private readonly reconnectGraceMs = 0,
  ) {
    this.liveness = new LivenessTable(options.deadAfterMs);
    this.liveSubject = `${prefix}.live`;
  }

  static async connect(url: string, options: NatsRouterOptions | string = {}): Promise<NatsRouter> {
    const o: NatsRouterOptions = typeof options === 'string' ? { prefix: options } : options;
    const min = o.reconnectMinMs ?? 250;
    const max = o.reconnectMaxMs ?? 2000;
    let attempt = 0;
    const nc = await connect({
      servers: url,
      name: `switchboard-${process.pid}`,
      // Outages are weather: never give up, and wait for a server that is not up yet.
      maxReconnectAttempts: -1,
      waitOnFirstConnect: true,
      reconnectTimeWait: min,
      reconnectDelayHandler: () => {
        const base = Math.min(max, min * 2 ** Math.min(attempt++, 16));
        return base + Math.random() * base * 0.5;
      },
      pingInterval: 2000,
      maxPingOut: 2,
    });
    const router = new NatsRouter(nc, o.prefix ?? 'switchboard', { ...DEFAULT_LIVENESS, ...definedOnly(o) }, max * 1.5);
    router.start(() => (attempt = 0));
    return router;
  }

  private start(resetBackoff: () => void): void {
    this.nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => (err ? undefined : this.onNoResponders(msg)) });
    this.nc.subscribe(this.liveSubject, { callback: (err, msg) => (err ? undefined : this.onLive(msg)) });
    let reconnectingSaid = false;
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === 'reconnect') reconnectingSaid = false;
        if (status.type === 'disconnect') {
          this.connected = false;
          this.liveness.setConnected(false);
          channels.backendState.publish({ backend: 'nats', state: 'disconnected', detail: String(status.data) });
        } else if (status.type === 'reconnect') {
          this.connected = true;
          this.liveness.setConnected(true, this.reconnectGraceMs);
          resetBackoff();
          channels.backendState.publish({ backend: 'nats', state: 'connected', detail: `reconnected to ${String(status.data)}` });
          this.beat('beat');
          this.publishLive({ state: 'query' });
        } else if (status.type === 'reconnecting') {
          // Once per outage, not once per attempt.
          if (!reconnectingSaid) channels.backendState.publish({ backend: 'nats', state: 'reconnecting' });
          reconnectingSaid = true;
        } else if (status.type === 'error' || status.type === 'ldm') {
          log('warn', `nats: ${status.type} ${String(status.data)}`, undefined, `nats.${status.type}`);
        }
      }
    })();
    void this.nc.closed().then((err) => {
      if (!this.closing) channels.backendState.publish({ backend: 'nats', state: 'failed', detail: `connection closed${err ? `: ${err.message}` : ''}` });
    });
    const heartbeat = setInterval(() => this.beat('beat'), this.options.heartbeatMs);
    const sweep = setInterval(() => this.liveness.sweep(), Math.min(500, this.options.heartbeatMs));
    heartbeat.unref();
    sweep.unref();
    this.timers.push(heartbeat, sweep);
    this.publishLive({ state: 'query' });
  }

  private subject(address: ComponentAddress): string {
    return `${this.prefix}.route.${address.replace(/[^A-Za-z0-9_-]/g, '.')}`;
  }

  async attach(address: ComponentAddress, handler: EnvelopeHandler, options: AttachOptions = {}): Promise<void> {
    const route = this.routeTo(address);
    if (route.local) throw new Error(`component ${address} is already attached`);
    const subscription = this.nc.subscribe(route.subject, {
      callback: (err, msg) => {
        if (err) return;
        const parsed = parseElement(decoder.decode(msg.data));
        const envelope = 'condition' in parsed ? undefined : decodeEnvelope(parsed);
        if (!envelope) {
          this.malformed++;
          return;
        }
        handler(envelope);
      },
    });
    route.local = { handler, subscription, undeliverable: options.undeliverable };
    const epoch = newEpoch();
    this.liveness.seen(address, epoch, true);
    // Make sure the subscription is known to the server before anyone routes to it, then say hello.
    await this.nc.flush().catch(() => undefined);
    this.publishLive({ state: 'hello', address, epoch });
  }

  async detach(address: ComponentAddress): Promise<void> {
    const route = this.routes.get(address);
    if (!route?.local) return;
    // Drained, not unsubscribed: an envelope the NATS server sent before it saw the UNSUB still reaches the
    // handler (which hands back what it cannot take), instead of being dropped by this client unseen.
    const local = route.local;
    await local.subscription.drain().catch(() => undefined);
    if (route.local === local) route.local = undefined;
    const epoch = this.liveness.epochOf(address);
    if (epoch === undefined) return;
    this.liveness.gone(address, epoch, 'goodbye');
    this.publishLive({ state: 'goodbye', address, epoch });
    await this.nc.flush().catch(() => undefined);
  }

  route(envelope: Envelope): void {
    const route = this.routes.get(envelope.to);
    if (route) route.send(envelope);
    else this.publishEnvelope(this.subject(envelope.to), envelope);
  }

  routeTo(to: ComponentAddress): NatsRoute {
    let route = this.routes.get(to);
    if (!route) {
      route = new NatsRoute(to, this.subject(to), this);
      this.routes.set(to, route);
    }
    return route;
  }

  watch(listener: LivenessListener): () => void {
    return this.liveness.watch(listener);
  }

  epochOf(address: ComponentAddress): string | undefined {
    return this.liveness.epochOf(address);
  }

  /** Publishes an envelope to another process, or hands it back to its sender when it cannot. */
  publishEnvelope(subject: string, envelope: Envelope): void {
    if (!this.connected || this.nc.isClosed()) return this.cannotDeliver(envelope, 'disconnected');
    const id = ++this.sequence;
    try {
      this.nc.publish(subject, encoder.encode(encodeEnvelope(envelope).toString()), { reply: `${this.inbox}.${id}` });
    } catch {
      return this.cannotDeliver(envelope, 'disconnected');
    }
    this.inFlight.set(id, envelope);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.confirm());
    }
  }

  /** One PING for every envelope published in this turn: its PONG comes after any "no responders" for them. */
  private confirm(): void {
    this.flushScheduled = false;
    const last = this.sequence;
    this.nc.flush().then(
      () => this.settle(last, undefined),
      () => this.settle(last, 'unconfirmed'),
    );
  }

  private settle(last: number, failure: UndeliverableReason | undefined): void {
    for (const [id, envelope] of this.inFlight) {
      if (id > last) break;
      this.inFlight.delete(id);
      if (failure) this.cannotDeliver(envelope, failure);
    }
  }

  private onNoResponders(msg: Msg): void {
    if (msg.headers?.code !== 503) return;
    const id = Number(msg.subject.slice(this.inbox.length + 1));
    const envelope = this.inFlight.get(id);
    if (!envelope) return;
    this.inFlight.delete(id);
    if (this.liveness.reconnecting(envelope.to)) {
      // Just after an outage the receiver is most likely still reconnecting (its subscriptions come back with it):
      // nobody took this envelope, so it is published again shortly, until it is heard from or the grace ends.
      const retry = setTimeout(() => this.publishEnvelope(this.subject(envelope.to), envelope), 100);
      retry.unref();
      return;
    }
    this.cannotDeliver(envelope, 'no-component');
  }

  private cannotDeliver(envelope: Envelope, reason: UndeliverableReason): void {
    this.undeliverable++;
    const sender = this.routes.get(envelope.from)?.local;
    if (sender?.undeliverable) sender.undeliverable(envelope, reason);
    else log('warn', `router: envelope from ${envelope.from} to ${envelope.to} undeliverable (${reason}) and its sender has no handler`);
  }

  private onLive(msg: Msg): void {
    const parsed = parseElement(decoder.decode(msg.data));
    const live = 'condition' in parsed ? undefined : readLive(parsed);
    if (!live) return;
    if (live.state === 'query') return this.beat('beat');
    const address = live.address!;
    if (this.routes.get(address)?.local) {
      // Our own announcement coming back, or another process claiming an address attached here.
      if (this.liveness.epochOf(address) !== live.epoch) log('warn', `router: another process announces ${address} (epoch ${live.epoch}), attached here too`);
      return;
    }
    if (live.state === 'goodbye') this.liveness.gone(address, live.epoch!, 'goodbye');
    else this.liveness.seen(address, live.epoch!);
  }

  private beat(state: 'beat' | 'hello'): void {
    for (const [address, epoch] of this.liveness.locals()) this.publishLive({ state, address, epoch });
  }

  private publishLive(live: Live): void {
    if (!this.connected || this.nc.isClosed()) return;
    try {
      this.nc.publish(this.liveSubject, encoder.encode(liveElement(live).toString()));
    } catch {
      // The connection went away between the check and the publish; the next beat says it again.
    }
  }

  /** The KV bucket of this prefix's leases (lease.ts), for several leases and the members of a shard group (shard-claims.ts). */
  leaseBucket(ttlMs: number): Promise<KV> {
    return Lease.bucket(this.nc, this.prefix, ttlMs);
  }

  /** A table every process on this prefix shares, its entries forgotten past a TTL (shared-table.ts). */
  sharedTable(name: string, options: KvTableOptions): Promise<KvTable> {
    return KvTable.open(this.nc, this.prefix, name, options);
  }

  /** Exclusive ownership of `address` among the processes on this prefix (lease.ts). */
  lease(address: ComponentAddress, options: LeaseOptions): Promise<Lease> {
    return Lease.open(this.nc, this.prefix, address, options);
  }

  /** Waits until everything published so far has reached the NATS server. */
  flush(): Promise<void> {
    return this.nc.flush();
  }

  /** Drops the connection with no goodbye, as a process killed with SIGKILL would (for fault tests). */
  async abandon(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    await this.nc.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    for (const address of [...this.routes.keys()]) await this.detach(address);
    await this.nc.drain().catch(() => undefined);
  }
}

function definedOnly(o: NatsRouterOptions): Partial<LivenessOptions> {
  const out: Partial<LivenessOptions> = {};
  if (o.heartbeatMs !== undefined) out.heartbeatMs = o.heartbeatMs;
  if (o.deadAfterMs !== undefined) out.deadAfterMs = o.deadAfterMs;
  return out;
}
