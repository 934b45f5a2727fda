// RFC 7395 transport: the browser's WebSocket, or the `ws` package in Node
// (Node 20 has no global WebSocket), which the platform hands in. No Node
// built-in and no ws is imported here.

import type { WebSocketClass } from './platform.ts';
import { tlsVersionHex } from '@switchboard/protocol';
import type { ClientTransport, OwnTlsVersion, TransportEvents, WebSocketOptions } from './transport.ts';

interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

type SocketFactory = (url: string, protocol: string) => SocketLike;

async function socketFactory(options: WebSocketOptions, nodeWebSocket: (() => Promise<WebSocketClass>) | undefined): Promise<SocketFactory> {
  const global = (globalThis as { WebSocket?: new (url: string, protocol: string) => SocketLike }).WebSocket;
  if (global && (!options.wsOptions || !nodeWebSocket)) return (url, protocol) => new global(url, protocol);
  if (!nodeWebSocket) throw new Error('no WebSocket on this platform');
  const WebSocket = await nodeWebSocket();
  return (url, protocol) => new WebSocket(url, protocol, options.wsOptions) as SocketLike;
}

/** The reason a WebSocket did not open, keeping the cause's code (connectError() reads it). */
function openError(url: string, ev: unknown): Error {
  const cause = (ev as { error?: unknown } | undefined)?.error;
  if (!(cause instanceof Error)) return new Error(`WebSocket connection to ${url} failed`);
  const err = new Error(`WebSocket connection to ${url} failed: ${cause.message}`, { cause });
  (err as Error & { code?: unknown }).code = (cause as Error & { code?: unknown }).code;
  return err;
}

export class WebSocketTransport implements ClientTransport {
  readonly framing = 'websocket';
  readonly canStartTls = false;
  private socket: SocketLike | undefined;
  private events: TransportEvents | undefined;

  constructor(
    private readonly options: WebSocketOptions,
    private readonly nodeWebSocket?: () => Promise<WebSocketClass>,
  ) {}

  get secure(): boolean {
    return this.options.url.startsWith('wss:');
  }

  setEvents(events: TransportEvents): void {
    this.events = events;
  }

  async connect(): Promise<void> {
    const make = await socketFactory(this.options, this.nodeWebSocket);
    const socket = make(this.options.url, 'xmpp');
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      // The `ws` package hands the cause (a certificate that does not verify has Node's code, as over TCP);
      // a browser says nothing more than that it failed.
      socket.onerror = (ev) => reject(openError(this.options.url, ev));
      socket.onclose = () => reject(new Error(`WebSocket connection to ${this.options.url} closed`));
    });
    socket.onmessage = (ev) => this.events?.data(typeof ev.data === 'string' ? ev.data : String(ev.data));
    socket.onerror = () => {};
    socket.onclose = () => {
      if (socket === this.socket) this.events?.close();
    };
  }

  send(text: string): void {
    if (this.socket && this.socket.readyState === 1) this.socket.send(text);
  }

  async startTls(): Promise<void> {
    throw new Error('STARTTLS does not exist over WebSocket; use wss://');
  }

  channelBinding(): Uint8Array | undefined {
    return undefined;
  }

  tlsVersion(): OwnTlsVersion {
    if (!this.secure) return 'none';
    // A browser shows nothing of the TLS under a WebSocket: then we cannot tell, and XEP-0515 is not checked.
    // In Node the `ws` package keeps its TLS socket in a private field; read it when it is there.
    const tls = (this.socket as { _socket?: { getProtocol?: () => string | null } } | undefined)?._socket;
    return typeof tls?.getProtocol === 'function' ? tlsVersionHex(tls.getProtocol()) : undefined;
  }

  close(): void {
    this.socket?.close(1000);
  }
}
