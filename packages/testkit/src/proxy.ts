// A TCP relay between a client and a server, so a test can cut the
// connection under both ends at once, as a network failure or a server that
// kills the socket would, whatever the server is.

import { connect, createServer, type Server, type Socket } from 'node:net';

export interface CuttableProxy {
  port: number;
  /** Destroys every relayed connection now. */
  cutAll(): void;
  /** Stops relaying in both directions, dropping what arrives, with every socket left open: a network path that died silently. */
  freeze(): void;
  /** Refuses new connections (each is reset at once) and cuts the open ones, until told to accept again: a server that is down. */
  refuse(): void;
  /** Relays again, new connections and old (undoes freeze and refuse). */
  accept(): void;
  readonly connections: number;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<CuttableProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => frozen || client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const cutAll = (): void => {
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
    frozen = false;
  };
  return {
    port: (server.address() as { port: number }).port,
    cutAll,
    freeze() {
      frozen = true;
    },
    refuse() {
      refusing = true;
      cutAll();
    },
    accept() {
      refusing = false;
      frozen = false;
    },
    get connections() {
      return pairs.size;
    },
    close() {
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
