// A load-generator worker process: owns a share of the client connections
// and runs the scenario steps the coordinator (bench/e2e.ts) asks for.

import { performance } from 'node:perf_hooks';
import { RawClient, type Mechanism } from './raw-client.ts';
import { drive } from '../floor/driver.ts';

export type WorkerCommand =
  | { cmd: 'login'; host: string; port: number; tls?: boolean; domain: string; users: string[]; password: string; mechanism: Mechanism; concurrency: number; keep: boolean; resource?: string; carbons?: boolean; sm?: boolean }
  | { cmd: 'presence' }
  | { cmd: 'chat'; pairs: [number, number][]; domain: string; durationMs: number; window: number; bodySize: number }
  | { cmd: 'paced'; domain: string; intervalMs: number; count: number; bodySize: number }
  | { cmd: 'floor'; port: number; users: number; intervalMs: number; count: number }
  | { cmd: 'broadcast'; expected: number; timeoutMs: number }
  | { cmd: 'send'; to: string[]; count: number }
  | { cmd: 'drain'; expected: number; timeoutMs: number }
  | { cmd: 'count'; marker: string; expected: number; timeoutMs: number }
  | { cmd: 'close' };

export type WorkerReply =
  | { cmd: 'login'; ok: number; failed: number; ms: number[] }
  | { cmd: 'presence'; ok: number }
  | { cmd: 'chat'; sent: number; delivered: number; latenciesMs: number[] }
  | { cmd: 'paced'; sent: number; delivered: number; latenciesMs: number[] }
  | { cmd: 'floor'; sent: number; delivered: number; latenciesMs: number[] }
  | { cmd: 'broadcast'; received: number; complete: number; lastMs: number }
  | { cmd: 'send'; sent: number }
  | { cmd: 'drain'; received: number; complete: number; lastMs: number }
  | { cmd: 'count'; received: number; lastMs: number }
  | { cmd: 'close' };

const clients: { client: RawClient; username: string }[] = [];

async function login(c: Extract<WorkerCommand, { cmd: 'login' }>): Promise<WorkerReply> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const ms: number[] = [];
  const runOne = async (): Promise<void> => {
    while (next < c.users.length) {
      const username = c.users[next++]!;
      const start = performance.now();
      try {
        const client = await RawClient.connect(c.host, c.port, c.tls);
        await client.login(c.domain, username, c.password, c.resource ?? 'bench', c.mechanism);
        if (c.carbons) await client.enableCarbons();
        if (c.sm) await client.enableResumption();
        ms.push(performance.now() - start);
        ok++;
        if (c.keep) clients.push({ client, username });
        else client.destroy();
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: c.concurrency }, runOne));
  return { cmd: 'login', ok, failed, ms };
}

async function presence(): Promise<WorkerReply> {
  let ok = 0;
  await Promise.all(clients.map(async ({ client }) => {
    await client.presence();
    ok++;
  }));
  return { cmd: 'presence', ok };
}

/** Calls `onMessage` with the latency of each chat message the client receives (NaN when it carries no stamp). */
function readStampedMessages(client: RawClient, onMessage: (latencyMs: number) => void): void {
  let carry = '';
  client.onData = (chunk) => {
    carry += chunk;
    let i: number;
    while ((i = carry.indexOf('</message>')) >= 0) {
      const stamp = /<t xmlns=["']urn:bench["']>([0-9.]+)<\/t>/.exec(carry.slice(0, i));
      carry = carry.slice(i + 10);
      onMessage(stamp ? performance.now() - Number(stamp[1]) : NaN);
    }
  };
}

const stampedMessage = (to: string, filler: string): string =>
  `<message to='${to}' type='chat'><body>${filler}</body><t xmlns='urn:bench'>${performance.now()}</t></message>`;

/** Each pair [a, b] of kept clients: a sends to b, keeping `window` messages in flight; b stamps latency. */
async function chat(c: Extract<WorkerCommand, { cmd: 'chat' }>): Promise<WorkerReply> {
  let sent = 0;
  let delivered = 0;
  const latencies: number[] = [];
  const end = performance.now() + c.durationMs;
  const filler = 'x'.repeat(c.bodySize);
  let running = true;
  const pairsDone = Promise.all(c.pairs.map(([a, b]) => new Promise<void>((resolve) => {
    const sender = clients[a]!;
    const receiver = clients[b]!;
    const to = `${receiver.username}@${c.domain}/bench`;
    let inFlight = 0;
    const sendOne = (): void => {
      inFlight++;
      sent++;
      sender.client.send(stampedMessage(to, filler));
    };
    readStampedMessages(receiver.client, (latencyMs) => {
      if (!Number.isNaN(latencyMs)) latencies.push(latencyMs);
      delivered++;
      inFlight--;
      if (running && performance.now() < end) sendOne();
      else if (inFlight === 0) resolve();
    });
    for (let k = 0; k < c.window; k++) sendOne();
  })));
  // Messages still missing 10 s after the end are counted as lost.
  const deadline = new Promise<void>((r) => setTimeout(r, c.durationMs + 10_000).unref());
  await Promise.race([pairsDone, deadline]);
  running = false;
  return { cmd: 'chat', sent, delivered, latenciesMs: latencies };
}

/**
 * Open loop, as the tsung yardstick's chat scenario: every kept client sends
 * `count` messages to the next one (a ring), one every `intervalMs` after a
 * random start offset, whatever the server does; so the offered rate is
 * clients / interval. Receivers stamp latency per message.
 */
async function paced(c: Extract<WorkerCommand, { cmd: 'paced' }>): Promise<WorkerReply> {
  let sent = 0;
  let delivered = 0;
  const latencies: number[] = [];
  const expected = clients.length * c.count;
  const filler = 'x'.repeat(c.bodySize);
  let allDelivered: () => void = () => {};
  const done = new Promise<void>((r) => (allDelivered = r));
  for (const { client } of clients) {
    readStampedMessages(client, (latencyMs) => {
      if (!Number.isNaN(latencyMs)) latencies.push(latencyMs);
      if (++delivered === expected) allDelivered();
    });
  }
  await Promise.all(clients.map(({ client }, k) => new Promise<void>((resolve) => {
    const to = `${clients[(k + 1) % clients.length]!.username}@${c.domain}/bench`;
    let mine = 0;
    const sendOne = (): void => {
      client.send(stampedMessage(to, filler));
      sent++;
      if (++mine === c.count) {
        clearInterval(timer);
        resolve();
      }
    };
    let timer: NodeJS.Timeout | undefined;
    setTimeout(() => {
      sendOne();
      timer = setInterval(sendOne, c.intervalMs);
    }, Math.random() * c.intervalMs);
  })));
  // Messages still missing 10 s after the last send are counted as lost.
  await Promise.race([done, new Promise<void>((r) => setTimeout(r, 10_000).unref())]);
  return { cmd: 'paced', sent, delivered, latenciesMs: latencies };
}

/**
 * Every kept client sends initial presence and counts the occurrences of
 * `marker` in what arrives, until `expected` each or the timeout.
 */
async function countAfterPresence(marker: string, expected: number, timeoutMs: number): Promise<{ received: number; complete: number; lastMs: number }> {
  const start = performance.now();
  let received = 0;
  let complete = 0;
  let lastMs = 0;
  await Promise.all(clients.map(({ client }) => new Promise<void>((resolve) => {
    let mine = 0;
    const timer = setTimeout(resolve, timeoutMs);
    client.onData = (chunk) => {
      const n = chunk.split(marker).length - 1;
      if (n === 0) return;
      mine += n;
      received += n;
      lastMs = performance.now() - start;
      if (mine >= expected) {
        complete++;
        clearTimeout(timer);
        resolve();
      }
    };
    client.send('<presence/>');
  })));
  return { received, complete, lastMs };
}

/** Presence broadcast: each client counts the presence stanzas it receives. */
async function broadcast(c: Extract<WorkerCommand, { cmd: 'broadcast' }>): Promise<WorkerReply> {
  return { cmd: 'broadcast', ...(await countAfterPresence('<presence', c.expected, c.timeoutMs)) };
}

/** Kept client k sends `count` chat messages to to[k], then waits until the server has read them (a ping). */
async function send(c: Extract<WorkerCommand, { cmd: 'send' }>): Promise<WorkerReply> {
  let sent = 0;
  await Promise.all(clients.map(async ({ client }, k) => {
    const to = c.to[k];
    if (!to) return;
    for (let i = 0; i < c.count; i++) client.send(`<message to='${to}' type='chat'><body>offline ${i}</body></message>`);
    sent += c.count;
    await client.presence();
  }));
  return { cmd: 'send', sent };
}

/** Offline delivery: each client counts the messages the server hands it after its initial presence. */
async function drain(c: Extract<WorkerCommand, { cmd: 'drain' }>): Promise<WorkerReply> {
  return { cmd: 'drain', ...(await countAfterPresence('</message>', c.expected, c.timeoutMs)) };
}

/** Every kept client counts `marker` in what arrives (a copy of a message, plain or a carbon, has it once), until `expected` in all or the timeout. */
async function count(c: Extract<WorkerCommand, { cmd: 'count' }>): Promise<WorkerReply> {
  const start = performance.now();
  let received = 0;
  let lastMs = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, c.timeoutMs);
    for (const { client } of clients) {
      let carry = '';
      client.onData = (chunk) => {
        const text = carry + chunk;
        const n = text.split(c.marker).length - 1;
        // Keep a tail that could hold the start of a marker cut by the chunk boundary.
        const lastAt = text.lastIndexOf(c.marker);
        carry = text.slice(Math.max(lastAt < 0 ? 0 : lastAt + c.marker.length, text.length - c.marker.length + 1));
        if (n === 0) return;
        received += n;
        lastMs = performance.now() - start;
        if (received >= c.expected) {
          clearTimeout(timer);
          resolve();
        }
      };
    }
  });
  return { cmd: 'count', received, lastMs };
}

process.on('message', (command: WorkerCommand) => {
  const run = async (): Promise<WorkerReply> => {
    switch (command.cmd) {
      case 'login':
        return login(command);
      case 'presence':
        return presence();
      case 'chat':
        return chat(command);
      case 'paced':
        return paced(command);
      case 'floor':
        return { cmd: 'floor', ...(await drive(command.port, command.users, command.intervalMs, command.count)) };
      case 'broadcast':
        return broadcast(command);
      case 'send':
        return send(command);
      case 'drain':
        return drain(command);
      case 'count':
        return count(command);
      case 'close':
        for (const { client } of clients) client.destroy();
        clients.length = 0;
        return { cmd: 'close' };
    }
  };
  void run().then((reply) => process.send!(reply));
});
