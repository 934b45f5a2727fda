// The CLI's side of the admin socket (protocol.ts): connect, send typed
// requests, read the answers. `connectAdmin` tells apart "no server runs"
// (no socket file, or a dead one a killed server left) from a server that
// answers, so the CLI can say which path it took.

import { connect, type Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import type { ServerConfig } from '../config.ts';
import { ADMIN_PROTOCOL_VERSION, type AdminOp, type AdminReply, type AdminRequest, type AdminResults } from './protocol.ts';

/** Where the socket is: `adminSocket` under the data directory unless absolute; undefined when disabled (''). */
export function adminSocketPath(config: Pick<ServerConfig, 'adminSocket' | 'dataDir'>): string | undefined {
  if (config.adminSocket === '') return undefined;
  return isAbsolute(config.adminSocket) ? config.adminSocket : join(config.dataDir, config.adminSocket);
}

type Body<Op extends AdminOp> = Omit<Extract<AdminRequest, { op: Op }>, 'id' | 'op'>;

export class AdminClient {
  private nextId = 0;
  private buffered = '';
  private readonly waiting = new Map<number, (reply: AdminReply) => void>();
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const reply = JSON.parse(this.buffered.slice(0, nl)) as AdminReply;
        this.buffered = this.buffered.slice(nl + 1);
        this.waiting.get(reply.id)?.(reply);
        this.waiting.delete(reply.id);
      }
    });
    const gone = (err?: Error): void => {
      this.closedError = err ?? new Error('the server closed the admin socket');
      for (const resolve of this.waiting.values()) resolve({ id: 0, ok: false, error: { code: 'failed', message: this.closedError.message } });
      this.waiting.clear();
    };
    socket.on('error', gone);
    socket.on('close', () => gone());
  }

  /**
   * Connects and checks the protocol version. undefined: no server answers there (no file, or a
   * stale one: ENOENT, ECONNREFUSED). Other failures (EACCES: the socket is another user's) throw.
   */
  static async connect(path: string, timeoutMs = 5000): Promise<AdminClient | undefined> {
    // A server never listens on a path this long (socket-server.ts refuses it); libuv would truncate it to another file.
    if (Buffer.byteLength(path) > 107) return undefined;
    const socket = connect(path);
    const connected = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`admin socket ${path}: no answer within ${timeoutMs} ms`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(false);
        else reject(new Error(`admin socket ${path}: ${err.code === 'EACCES' ? 'permission denied (run as the user the server runs as)' : err.message}`));
      });
    });
    if (!connected) {
      socket.destroy();
      return undefined;
    }
    const client = new AdminClient(socket, path);
    const hello = await client.request('hello', {});
    if (!hello.ok || hello.result.protocol !== ADMIN_PROTOCOL_VERSION) {
      client.close();
      throw new Error(`admin socket ${path}: the server speaks another admin protocol (${hello.ok ? hello.result.protocol : hello.error.message}); use the switchboard of the same version`);
    }
    return client;
  }

  request<Op extends AdminOp>(op: Op, body: Body<Op>): Promise<AdminReply<Op>> {
    if (this.closedError) return Promise.resolve({ id: 0, ok: false, error: { code: 'failed', message: this.closedError.message } });
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve as (reply: AdminReply) => void);
      this.socket.write(JSON.stringify({ id, op, ...body }) + '\n');
    });
  }

  close(): void {
    this.socket.end();
  }
}

export type { AdminResults };
