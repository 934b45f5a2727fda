import type { Envelope } from './envelope.ts';
import type { ComponentAddress, EnvelopeHandler, Router } from './router.ts';

/**
 * The default router: components in one process, envelopes handed over by
 * direct call with their parsed elements (no re-serialisation).
 */
export class InProcessRouter implements Router {
  private readonly routes = new Map<ComponentAddress, EnvelopeHandler>();
  /** Envelopes addressed to no attached component (dropped, never bounced). */
  undeliverable = 0;

  async attach(address: ComponentAddress, handler: EnvelopeHandler): Promise<void> {
    if (this.routes.has(address)) throw new Error(`component ${address} is already attached`);
    this.routes.set(address, handler);
  }

  async detach(address: ComponentAddress): Promise<void> {
    this.routes.delete(address);
  }

  route(envelope: Envelope): void {
    const handler = this.routes.get(envelope.to);
    if (handler) handler(envelope);
    else this.undeliverable++;
  }

  async close(): Promise<void> {
    this.routes.clear();
  }
}
