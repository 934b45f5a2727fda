import type { Envelope } from './envelope.ts';
import type { ComponentAddress, EnvelopeHandler, Route, Router } from './router.ts';

/** One address: its component's handler while one is attached. */
class LocalRoute implements Route {
  handler: EnvelopeHandler | undefined;

  constructor(
    readonly to: ComponentAddress,
    private readonly router: InProcessRouter,
  ) {}

  send(envelope: Envelope): void {
    if (this.handler) this.handler(envelope);
    else this.router.undeliverable++;
  }
}

/**
 * The default router: components in one process, envelopes handed over by
 * direct call with their parsed elements (no re-serialisation).
 */
export class InProcessRouter implements Router {
  /** Every address attached or routed to by a kept Route; an entry outlives its component, so kept routes see it come back. */
  private readonly routes = new Map<ComponentAddress, LocalRoute>();
  /** Envelopes addressed to no attached component (dropped, never bounced). */
  undeliverable = 0;

  async attach(address: ComponentAddress, handler: EnvelopeHandler): Promise<void> {
    const route = this.routeTo(address);
    if (route.handler) throw new Error(`component ${address} is already attached`);
    route.handler = handler;
  }

  async detach(address: ComponentAddress): Promise<void> {
    const route = this.routes.get(address);
    if (route) route.handler = undefined;
  }

  route(envelope: Envelope): void {
    const route = this.routes.get(envelope.to);
    if (route) route.send(envelope);
    else this.undeliverable++;
  }

  routeTo(to: ComponentAddress): LocalRoute {
    let route = this.routes.get(to);
    if (!route) {
      route = new LocalRoute(to, this);
      this.routes.set(to, route);
    }
    return route;
  }

  async close(): Promise<void> {
    for (const route of this.routes.values()) route.handler = undefined;
  }
}
