// The admin socket: a Unix socket the running server listens on, for the
// `switchboard` CLI (admin/socket-client.ts). Access control is the file's
// mode, 0600: only the server's own user (and root) can connect. The socket
// is made under a umask of 0177, so it never exists with wider permissions,
// even for a moment. A socket file left by a killed server is found dead (no
// one accepts on it) and replaced. A live one belongs to another process on
// this data directory (a standby sm on the same host, README "A cluster"):
// this one serves on and tries again every two seconds, so it takes the
// socket over when that process is gone. Removed on close.

import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { moduleLogger } from '../log.ts';
import type { AdminResult } from './operations.ts';
import type { AdminEndpoint } from './endpoint.ts';
import { ADMIN_PROTOCOL_VERSION, adminRequestSchema, MAX_REQUEST_BYTES, type AdminReply, type AdminRequest, type ProcessStats, type ReloadReport } from './protocol.ts';

export interface AdminSocketOptions {
  path: string;
  /** This process's operations, or the cluster's through the router (admin/cluster.ts). */
  operations: AdminEndpoint;
  /** Re-reads the configuration and applies what it can (ops/reload.ts). */
  reload(): Promise<ReloadReport>;
  /** What only the process knows (version, role, its c2s connections). */
  processStats(): ProcessStats;
  version: string;
}

export interface AdminSocket {
  readonly path: string;
  close(): Promise<void>;
}

/** The socket cannot be made: its path is unusable (too long, or a file that is not a socket). */
export class AdminSocketError extends Error {
  readonly code = 'SB_ERR_ADMIN_SOCKET';
}

/** A live process answers on the socket already. */
class Busy extends Error {}

const RETRY_MS = 2000;

/** Whether something accepts connections on the socket file. */
function alive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

async function removeStale(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new AdminSocketError(`admin socket ${path} exists and is not a socket; remove it or set adminSocket`);
  if (await alive(path)) throw new Busy();
  unlinkSync(path);
  moduleLogger('admin').warn({ event: 'admin.socket.stale', path }, `admin socket ${path} was left by a server that did not stop cleanly; replaced`);
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // The bind happens inside listen(), synchronously: the umask covers the socket file's creation.
    const before = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(before);
    }
  });
}

/** sockaddr_un holds 108 bytes with the NUL; libuv silently truncates a longer path and listens on another file. */
export const MAX_SOCKET_PATH_BYTES = 107;

export async function startAdminSocket(options: AdminSocketOptions): Promise<AdminSocket> {
  const bytes = Buffer.byteLength(options.path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new AdminSocketError(
      `admin socket path ${options.path} is ${bytes} bytes; Unix sockets take at most ${MAX_SOCKET_PATH_BYTES}: set adminSocket to a shorter absolute path (e.g. /run/switchboard/admin.sock), or '' to turn it off`,
    );
  }
  const clients = new Set<Socket>();
  const server = createServer((socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    serveConnection(socket, options);
  });
  const log = moduleLogger('admin');
  let listening = false;
  const take = async (): Promise<boolean> => {
    try {
      await removeStale(options.path);
    } catch (err) {
      if (err instanceof Busy) return false;
      throw err;
    }
    await listen(server, options.path);
    chmodSync(options.path, 0o600);
    listening = true;
    log.info({ event: 'admin.socket.started', path: options.path }, `switchboard: admin socket ${options.path}`);
    return true;
  };
  let retry: NodeJS.Timeout | undefined;
  if (!(await take())) {
    log.warn({ event: 'admin.socket.busy', path: options.path }, `admin socket ${options.path} is held by another switchboard process on this data directory; this one takes it over when that one is gone`);
    retry = setInterval(() => {
      take().then(
        (ok) => ok && clearInterval(retry),
        (err: unknown) => log.error({ event: 'admin.socket.failed', err }, `admin socket ${options.path}: ${(err as Error).message}`),
      );
    }, RETRY_MS);
    retry.unref();
  }
  return {
    path: options.path,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(retry);
        for (const c of clients) c.destroy();
        if (!listening) return resolve();
        // net.Server unlinks its Unix socket on close.
        server.close(() => resolve());
      }),
  };
}

function serveConnection(socket: Socket, options: AdminSocketOptions): void {
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  let buffered = '';
  // One request at a time per connection, answered in order.
  let chain = Promise.resolve();
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.length > MAX_REQUEST_BYTES && !buffered.includes('\n')) {
      socket.end(JSON.stringify({ id: 0, ok: false, error: { code: 'too-long', message: `a request line may hold at most ${MAX_REQUEST_BYTES} bytes` } }) + '\n');
      buffered = '';
      return;
    }
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim() === '') continue;
      chain = chain.then(async () => {
        const reply = await answer(line, options);
        if (!socket.destroyed) socket.write(JSON.stringify(reply) + '\n');
      });
    }
  });
}

async function answer(line: string, options: AdminSocketOptions): Promise<AdminReply> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { id: 0, ok: false, error: { code: 'bad-json', message: 'each request is one JSON object on one line' } };
  }
  const id = typeof (json as { id?: unknown })?.id === 'number' ? (json as { id: number }).id : 0;
  const parsed = adminRequestSchema.safeParse(json);
  if (!parsed.success) {
    const op = (json as { op?: unknown })?.op;
    return { id, ok: false, error: { code: 'unknown-op', message: `not a request this server knows: ${typeof op === 'string' ? op : JSON.stringify(json).slice(0, 80)} (protocol ${ADMIN_PROTOCOL_VERSION})` } };
  }
  try {
    return await perform(parsed.data, options);
  } catch (err) {
    moduleLogger('admin').error({ event: 'admin.failed', op: parsed.data.op, err }, `admin: ${parsed.data.op} failed`);
    return { id, ok: false, error: { code: 'failed', message: (err as Error).message } };
  }
}

const reply = <T>(id: number, r: AdminResult<T>): AdminReply => (r.ok ? { id, ok: true, result: r.value } : { id, ok: false, error: { code: r.code, message: r.message } }) as AdminReply;

async function perform(req: AdminRequest, options: AdminSocketOptions): Promise<AdminReply> {
  const ops = options.operations;
  const actor = { via: 'socket' } as const;
  const ok = (result: unknown): AdminReply => ({ id: req.id, ok: true, result }) as AdminReply;
  switch (req.op) {
    case 'hello':
      return ok({ protocol: ADMIN_PROTOCOL_VERSION, version: options.version, domain: ops.domain, pid: process.pid });
    case 'user.add':
      return reply(req.id, await ops.addUser(req.jid, req.password, actor));
    case 'user.remove':
      return reply(req.id, await ops.removeUser(req.jid, actor));
    case 'user.passwd':
      return reply(req.id, await ops.changePassword(req.jid, req.password, actor));
    case 'user.list':
      return reply(req.id, await ops.listUsers(req.domain));
    case 'sessions.list':
      return ok(await ops.listSessions());
    case 'session.kick':
      return reply(req.id, await ops.kick(req.jid, actor));
    case 'stats':
      return ok({ ...(await ops.stats()), ...options.processStats() });
    case 'reload':
      return ok(await options.reload());
  }
}
