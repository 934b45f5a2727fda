// The component manager: a listener for XEP-0114 connections (on loopback
// by default), one router address per connected component domain, and the
// `component online/offline` controls that tell the sm where to route.

import { createServer, type Server } from 'node:net';
import type { Element } from '@switchboard/xml';
import { componentAddress, componentControl, type Envelope } from '../router/envelope.ts';
import type { Router } from '../router/router.ts';
import { ShardMap } from '../router/shards.ts';
import { NS_COMPONENT } from '@switchboard/protocol';
import { TcpTransport } from '../c2s/tcp-transport.ts';
import { channels } from '../diagnostics.ts';
import { ComponentStream, type ComponentConfig, type ComponentStreamHost } from './component-stream.ts';

export class Components implements ComponentStreamHost {
  private readonly byDomain = new Map<string, ComponentStream>();
  private server: Server | undefined;

  constructor(
    private readonly router: Router,
    private readonly configs: readonly ComponentConfig[],
    /** The sm shards: a stanza goes to the shard of its recipient, an announcement to every shard. */
    private readonly shards: ShardMap = new ShardMap(1),
  ) {}

  private announce(domain: string, action: 'online' | 'offline'): void {
    for (const to of this.shards.addresses()) this.router.route({ to, from: componentAddress(domain), payload: componentControl(action, domain) });
  }

  async listen(host: string, port: number): Promise<number> {
    const server = createServer((socket) => new ComponentStream(new TcpTransport(socket, undefined, 0, NS_COMPONENT), this));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => resolve());
    });
    return (server.address() as { port: number }).port;
  }

  config(domain: string): ComponentConfig | undefined {
    return this.configs.find((c) => c.domain === domain);
  }

  online(stream: ComponentStream): boolean {
    const domain = stream.domain!;
    if (this.byDomain.has(domain)) return false;
    this.byDomain.set(domain, stream);
    void this.router.attach(componentAddress(domain), (envelope: Envelope) => stream.deliver(envelope.payload));
    this.announce(domain, 'online');
    channels.componentState.publish({ kind: 'component', name: domain, state: 'up' });
    return true;
  }

  fromComponent(stream: ComponentStream, stanza: Element): void {
    this.router.route({ to: this.shards.addressOf(stanza.attrs.to ?? ''), from: componentAddress(stream.domain!), payload: stanza });
  }

  offline(stream: ComponentStream): void {
    const domain = stream.domain!;
    if (this.byDomain.get(domain) !== stream) return;
    this.byDomain.delete(domain);
    void this.router.detach(componentAddress(domain));
    this.announce(domain, 'offline');
    channels.componentState.publish({ kind: 'component', name: domain, state: 'down' });
  }

  async close(): Promise<void> {
    for (const stream of [...this.byDomain.values()]) stream.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
