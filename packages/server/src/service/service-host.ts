// Runs services as components on the router (docs/protocol.md "Services").
// Each service is attached at `component/<domain>`, the address XEP-0114
// components use, and announces itself to the sm with the `component`
// control, so the sm routes its domain exactly as it routes an external
// component's: the sm holds no service code. The host works the same on the
// in-process router and on NATS; in a cluster it runs in the sm's process or
// in one of its own (`--role muc`).

import type { Element } from '@switchboard/xml';
import { replyWithError, stanzaError } from '@switchboard/protocol';
import { componentAddress, componentControl, fanOutPayload, readControl, type Envelope } from '../router/envelope.ts';
import type { ComponentAddress, Router } from '../router/router.ts';
import { ShardMap } from '../router/shards.ts';
import type { Service } from './service.ts';

export class ServiceHost {
  private readonly running: Service[] = [];

  constructor(
    private readonly router: Router,
    /** The sm shards: a stanza goes to the shard of its recipient, an announcement to every shard. */
    private readonly shards: ShardMap = new ShardMap(1),
  ) {}

  private announce(from: string, action: 'online' | 'offline', domain: string): void {
    for (const to of this.shards.addresses()) this.router.route({ to, from, payload: componentControl(action, domain) });
  }

  get services(): readonly Service[] {
    return this.running;
  }

  /** Starts the service, attaches its domain and tells the sm it is online. */
  async add(service: Service): Promise<void> {
    const address = componentAddress(service.domain);
    const send = (stanza: Element): void => this.router.route({ to: this.shards.addressOf(stanza.attrs.to ?? ''), from: address, payload: stanza });
    const fanOut = (stanza: Element, recipients: readonly string[]): void => {
      if (recipients.length === 0) return;
      if (recipients.length === 1) return send(stanza.withAttrs({ to: recipients[0] }));
      // One envelope per sm shard, with the recipients it owns.
      const byShard = new Map<ComponentAddress, { jid: string }[]>();
      for (const jid of recipients) {
        const to = this.shards.addressOf(jid);
        let targets = byShard.get(to);
        if (!targets) byShard.set(to, (targets = []));
        targets.push({ jid });
      }
      for (const [to, targets] of byShard) this.router.route({ to, from: address, payload: fanOutPayload(stanza, targets) });
    };
    await service.start({ domain: service.domain, send, fanOut });
    await this.router.attach(address, (envelope) => this.receive(service, envelope, send));
    this.running.push(service);
    this.announce(address, 'online', service.domain);
  }

  private receive(service: Service, envelope: Envelope, send: (stanza: Element) => void): void {
    // Controls (a failed announcement coming back) are the host's, not the service's.
    if (readControl(envelope.payload)) return;
    const stanza = envelope.payload;
    const fail = (err: unknown): void => {
      console.error(`switchboard: ${service.kind} ${service.domain} failed on a stanza`, err);
      // Nothing is lost: the sender learns the service could not handle it.
      const reply = replyWithError(stanza, stanzaError('internal-server-error'));
      if (reply) send(reply);
    };
    try {
      const done = service.receive(stanza);
      if (done) done.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  /** Stops every service (each says goodbye to its users first), then tells the sm they are offline. */
  async stop(): Promise<void> {
    for (const service of this.running.splice(0).reverse()) {
      const address = componentAddress(service.domain);
      await service.stop().catch((err: unknown) => console.error(`switchboard: stopping ${service.kind} ${service.domain}`, err));
      this.announce(address, 'offline', service.domain);
      await this.router.detach(address);
    }
  }
}
