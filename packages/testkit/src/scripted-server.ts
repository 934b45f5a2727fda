// A server that follows a script, on a real socket: the test reads what
// the client sent and writes what a server (well-behaved or not) would
// answer, in the manner of Prosody's scansion conversations. For the cases a
// real server will not produce on demand: a stream error at the first
// header, missing features, silence, a SCRAM server that does not know the
// password.

import { createServer, type Server, type Socket } from 'node:net';

export interface ScriptedConnection {
  /** Everything the client sent on this connection so far. */
  readonly received: string;
  /** Resolves with the text up to and including the next match after the last one read; rejects after `ms`. */
  read(pattern: RegExp, ms?: number): Promise<string>;
  write(text: string): void;
  /** Closes our side cleanly (FIN). */
  end(): void;
  readonly closed: Promise<void>;
}

export interface ScriptedServer {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  readonly connections: readonly ScriptedConnection[];
  /** Scripts that threw (the client did not send what they read for); the test should assert this is empty. */
  readonly failures: readonly Error[];
  close(): Promise<void>;
}

export async function startScriptedServer(script: (conn: ScriptedConnection, index: number) => Promise<void> | void): Promise<ScriptedServer> {
  const sockets = new Set<Socket>();
  const connections: ScriptedConnection[] = [];
  const failures: Error[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setEncoding('utf8');
    let received = '';
    let cursor = 0;
    let wake: (() => void) | undefined;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: string) => {
      received += chunk;
      wake?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      wake?.();
    });
    const conn: ScriptedConnection = {
      get received() {
        return received;
      },
      async read(pattern, ms = 3000) {
        const re = new RegExp(pattern.source, pattern.flags.replace('g', '') + 'g');
        const deadline = Date.now() + ms;
        for (;;) {
          re.lastIndex = cursor;
          const m = re.exec(received);
          if (m) {
            const text = received.slice(cursor, m.index + m[0].length);
            cursor = m.index + m[0].length;
            return text;
          }
          if (socket.destroyed) throw new Error(`the client closed the connection before sending ${pattern}; it sent: ${received.slice(cursor)}`);
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`the client did not send ${pattern} in ${ms} ms; it sent: ${received.slice(cursor)}`);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, left);
            wake = () => {
              clearTimeout(timer);
              wake = undefined;
              resolve();
            };
          });
        }
      },
      write(text) {
        if (!socket.destroyed) socket.write(text);
      },
      end() {
        socket.end();
      },
      closed,
    };
    const index = connections.length;
    connections.push(conn);
    Promise.resolve()
      .then(() => script(conn, index))
      .catch((err: unknown) => {
        failures.push(err instanceof Error ? err : new Error(String(err)));
        socket.destroy();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    get accepted() {
      return connections.length;
    },
    connections,
    failures,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
