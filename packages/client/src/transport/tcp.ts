// TCP transport for Node: STARTTLS or direct TLS (XEP-0368), with SRV
// lookup when only the domain is known (RFC 6120 §3.2.1).

import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { promises as dns } from 'node:dns';
import { tlsVersionHex } from '@switchboard/protocol';
import type { ClientTransport, OwnTlsVersion, TcpOptions, TransportEvents } from './transport.ts';

interface Target {
  host: string;
  port: number;
  direct: boolean;
}

/** XEP-0368: _xmpps-client (direct TLS) and _xmpp-client (STARTTLS) records, by priority then weight. */
export async function resolveTargets(domain: string, options: TcpOptions): Promise<Target[]> {
  if (options.host) return [{ host: options.host, port: options.port ?? (options.tls === 'direct' ? 5223 : 5222), direct: options.tls === 'direct' }];
  const resolver = new dns.Resolver();
  if (options.dnsServers) resolver.setServers(options.dnsServers);
  const lookups = await Promise.all([
    resolver.resolveSrv(`_xmpps-client._tcp.${domain}`).then((r) => r.map((s) => ({ ...s, direct: true })), () => []),
    resolver.resolveSrv(`_xmpp-client._tcp.${domain}`).then((r) => r.map((s) => ({ ...s, direct: false })), () => []),
  ]);
  // RFC 2782: a target of "." means the service is decidedly not there. Weight orders
  // records of one priority (heaviest first) rather than drawing among them.
  const records = lookups.flat().filter((r) => r.name !== '.' && r.name !== '');
  records.sort((a, b) => a.priority - b.priority || b.weight - a.weight || Number(b.direct) - Number(a.direct));
  const targets = records.map((r) => ({ host: r.name, port: r.port, direct: r.direct }));
  // No SRV records: the domain itself on the default port.
  return targets.length > 0 ? targets : [{ host: domain, port: 5222, direct: false }];
}

export class TcpTransport implements ClientTransport {
  readonly framing = 'stream';
  private socket: Socket | undefined;
  private tls: TLSSocket | undefined;
  private events: TransportEvents | undefined;

  constructor(
    private readonly domain: string,
    private readonly options: TcpOptions,
  ) {}

  get secure(): boolean {
    return this.tls !== undefined;
  }

  get canStartTls(): boolean {
    return this.tls === undefined;
  }

  setEvents(events: TransportEvents): void {
    this.events = events;
  }

  async connect(): Promise<void> {
    const targets = await resolveTargets(this.domain, this.options);
    let last: Error | undefined;
    for (const target of targets) {
      try {
        this.socket = await this.open(target);
        this.listen(this.socket);
        return;
      } catch (err) {
        last = err as Error;
      }
    }
    throw last ?? new Error('no address to connect to');
  }

  private open(target: Target): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = target.direct
        ? tlsConnect({ host: target.host, port: target.port, servername: this.domain, ALPNProtocols: ['xmpp-client'], ...this.options.tlsOptions })
        : netConnect({ host: target.host, port: target.port });
      const ready = target.direct ? 'secureConnect' : 'connect';
      socket.once(ready, () => {
        socket.removeListener('error', reject);
        if (target.direct) this.tls = socket as TLSSocket;
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  private listen(socket: Socket): void {
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (text: string) => this.events?.data(text));
    socket.on('error', (err) => socket.destroy(err));
    socket.on('close', () => {
      if (socket === this.socket) this.events?.close();
    });
  }

  send(text: string): void {
    this.socket?.write(text);
  }

  async startTls(): Promise<void> {
    const plain = this.socket!;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tlsConnect({ socket: plain, servername: this.domain, ...this.options.tlsOptions });
    this.socket = secure;
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.tls = secure;
    this.listen(secure);
  }

  channelBinding(): Uint8Array | undefined {
    if (!this.tls || this.tls.getProtocol() !== 'TLSv1.3') return undefined;
    return this.tls.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
  }

  tlsVersion(): OwnTlsVersion {
    return this.tls ? tlsVersionHex(this.tls.getProtocol()) : 'none';
  }

  close(): void {
    this.socket?.end();
    const socket = this.socket;
    setTimeout(() => socket?.destroy(), 2000).unref?.();
  }
}
