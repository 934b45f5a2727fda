// The router across processes: each component address is a NATS subject,
// envelopes travel in their XML wire form (envelope.ts). Components attached
// in this process are still reached by direct call, so a single-process
// deployment on NATS pays nothing for the envelopes that stay local.

import { connect, type NatsConnection, type Subscription } from 'nats';
import { parseElement } from '@switchboard/xml';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.ts';
import type { ComponentAddress, EnvelopeHandler, Route, Router } from './router.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function publish(nc: NatsConnection, subject: string, envelope: Envelope): void {
  nc.publish(subject, encoder.encode(encodeEnvelope(envelope).toString()));
}

/** One address: a direct call while its component is attached in this process, else its NATS subject. */
class NatsRoute implements Route {
  local: { handler: EnvelopeHandler; subscription: Subscription } | undefined;

  constructor(
    readonly to: ComponentAddress,
    private readonly subject: string,
    private readonly nc: NatsConnection,
  ) {}

  send(envelope: Envelope): void {
    if (this.local) this.local.handler(envelope);
    else publish(this.nc, this.subject, envelope);
  }
}

export class NatsRouter implements Router {
  /** Every address attached or routed to; an entry outlives its component, so kept routes see it come back. */
  private readonly routes = new Map<ComponentAddress, NatsRoute>();
  /** Wire messages that did not decode as an envelope (dropped, never bounced). */
  malformed = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {}

  /** `prefix` separates clusters sharing one NATS server (and test runs from each other). */
  static async connect(url: string, prefix = 'switchboard'): Promise<NatsRouter> {
    const nc = await connect({ servers: url, name: `switchboard-${process.pid}` });
    return new NatsRouter(nc, prefix);
  }

  private subject(address: ComponentAddress): string {
    return `${this.prefix}.route.${address.replace(/[^A-Za-z0-9_-]/g, '.')}`;
  }

  async attach(address: ComponentAddress, handler: EnvelopeHandler): Promise<void> {
    const route = this.routeTo(address);
    if (route.local) throw new Error(`component ${address} is already attached`);
    const subscription = this.nc.subscribe(this.subject(address), {
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
    route.local = { handler, subscription };
    // Make sure the subscription is known to the server before anyone routes to it.
    await this.nc.flush();
  }

  async detach(address: ComponentAddress): Promise<void> {
    const route = this.routes.get(address);
    if (!route?.local) return;
    route.local.subscription.unsubscribe();
    route.local = undefined;
  }

  route(envelope: Envelope): void {
    const route = this.routes.get(envelope.to);
    if (route) route.send(envelope);
    else publish(this.nc, this.subject(envelope.to), envelope);
  }

  routeTo(to: ComponentAddress): NatsRoute {
    let route = this.routes.get(to);
    if (!route) {
      route = new NatsRoute(to, this.subject(to), this.nc);
      this.routes.set(to, route);
    }
    return route;
  }

  /** Waits until everything published so far has reached the NATS server. */
  flush(): Promise<void> {
    return this.nc.flush();
  }

  async close(): Promise<void> {
    for (const address of [...this.routes.keys()]) await this.detach(address);
    await this.nc.drain();
  }
}
