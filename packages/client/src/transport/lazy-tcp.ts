// Loads the Node TCP transport only when it is used, so that a browser
// bundle (WebSocket only) never pulls in node:net or node:tls.

import type { Framing } from '@switchboard/xml';
import type { ClientTransport, OwnTlsVersion, TcpOptions, TransportEvents } from './transport.ts';

export class LazyTcpTransport implements ClientTransport {
  readonly framing: Framing = 'stream';
  private inner: ClientTransport | undefined;
  private events: TransportEvents | undefined;

  constructor(
    private readonly domain: string,
    private readonly options: TcpOptions,
  ) {}

  get secure(): boolean {
    return this.inner?.secure ?? false;
  }

  get canStartTls(): boolean {
    return this.inner?.canStartTls ?? true;
  }

  setEvents(events: TransportEvents): void {
    this.events = events;
    this.inner?.setEvents(events);
  }

  async connect(): Promise<void> {
    const { TcpTransport } = await import('./tcp.ts');
    this.inner = new TcpTransport(this.domain, this.options);
    if (this.events) this.inner.setEvents(this.events);
    await this.inner.connect();
  }

  send(text: string): void {
    this.inner?.send(text);
  }

  startTls(): Promise<void> {
    return this.inner!.startTls();
  }

  channelBinding(): Uint8Array | undefined {
    return this.inner?.channelBinding();
  }

  tlsVersion(): OwnTlsVersion {
    return this.inner?.tlsVersion?.();
  }

  close(): void {
    this.inner?.close();
  }
}
