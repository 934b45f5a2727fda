// The router across processes: each component address is a NATS subject,
// envelopes travel in their XML wire form (envelope.ts). Components attached
// in this process are still reached by direct call, so a single-process
// deployment on NATS pays nothing for the envelopes that stay local.

import { connect, type NatsConnection, type Subscription } from 'nats';
import { parseElement } from '@switchboard/xml';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.ts';
import type { ComponentAddress, EnvelopeHandler, Router } from './router.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class NatsRouter implements Router {
  private readonly local = new Map<ComponentAddress, { handler: EnvelopeHandler; subscription: Subscription }>();
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
    if (this.local.has(address)) throw new Error(`component ${address} is already attached`);
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
    this.local.set(address, { handler, subscription });
    // Make sure the subscription is known to the server before anyone routes to it.
    await this.nc.flush();
  }

  async detach(address: ComponentAddress): Promise<void> {
    const entry = this.local.get(address);
    if (!entry) return;
    this.local.delete(address);
    entry.subscription.unsubscribe();
  }

  route(envelope: Envelope): void {
    const local = this.local.get(envelope.to);
    if (local) {
      local.handler(envelope);
      return;
    }
    this.nc.publish(this.subject(envelope.to), encoder.encode(encodeEnvelope(envelope).toString()));
  }

  /** Waits until everything published so far has reached the NATS server. */
  flush(): Promise<void> {
    return this.nc.flush();
  }

  async close(): Promise<void> {
    for (const address of [...this.local.keys()]) await this.detach(address);
    await this.nc.drain();
  }
}
