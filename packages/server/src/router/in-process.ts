import type { Envelope } from './envelope.ts';
import { LivenessTable, newEpoch } from './liveness.ts';
import type { AttachOptions, ComponentAddress, EnvelopeHandler, LivenessListener, Route, Router, UndeliverableHandler } from './router.ts';

/** One address: its component's handler while one is attached. */
class LocalRoute implements Route {
  handler: EnvelopeHandler | undefined;
  undeliverable: UndeliverableHandler | undefined;

  constructor(
    readonly to: ComponentAddress,
    private readonly router: InProcessRouter,
  ) {}

  send(envelope: Envelope): void {
    if (this.handler) this.handler(envelope);
    else this.router.cannotDeliver(envelope);
  }
}

/**
 * The default router: components in one process, envelopes handed over by
 * direct call with their parsed elements (no re-serialisation). Liveness has
 * the same semantics as across processes: attach announces a new epoch,
 * detach says goodbye; a component cannot vanish without its process.
 */
export class InProcessRouter implements Router {
  /** Every address attached or routed to by a kept Route; an entry outlives its component, so kept routes see it come back. */
  private readonly routes = new Map<ComponentAddress, LocalRoute>();
  private readonly liveness = new LivenessTable(Number.POSITIVE_INFINITY);
  /** Envelopes addressed to no attached component, each handed back to its sender. */
  undeliverable = 0;

  async attach(address: ComponentAddress, handler: EnvelopeHandler, options: AttachOptions = {}): Promise<void> {
    const route = this.routeTo(address);
    if (route.handler) throw new Error(`component ${address} is already attached`);
    route.handler = handler;
    route.undeliverable = options.undeliverable;
    this.liveness.seen(address, newEpoch(), true);
  }

  async detach(address: ComponentAddress): Promise<void> {
    const route = this.routes.get(address);
    if (!route?.handler) return;
    route.handler = undefined;
    const epoch = this.liveness.epochOf(address);
    if (epoch !== undefined) this.liveness.gone(address, epoch, 'goodbye');
  }

  route(envelope: Envelope): void {
    const route = this.routes.get(envelope.to);
    if (route) route.send(envelope);
    else this.cannotDeliver(envelope);
  }

  /** Hands an envelope back to its sender's undeliverable handler (the router never drops one silently). */
  cannotDeliver(envelope: Envelope): void {
    this.undeliverable++;
    this.routes.get(envelope.from)?.undeliverable?.(envelope, 'no-component');
  }

  routeTo(to: ComponentAddress): LocalRoute {
    let route = this.routes.get(to);
    if (!route) {
      route = new LocalRoute(to, this);
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

  async close(): Promise<void> {
    for (const [address, route] of this.routes) if (route.handler) await this.detach(address);
  }
}
