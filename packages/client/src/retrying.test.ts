// Retrying timing with a fake clock (in addition to the real-socket tests in
// test/client.test.ts): the default 3 s, back-off, jitter bounds, the
// attempt limit, and disconnect() beating a pending retry.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from './client.ts';
import { retryDelay, DEFAULT_RETRY, type Timers } from './timers.ts';
import type { ClientTransport, TransportEvents } from './transport/transport.ts';

class FakeClock implements Timers {
  time = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.nextId;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  now(): number {
    return this.time;
  }
  /** Advances time, running due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      // Let pending promise work (a failed connect) register its timers first.
      await new Promise((r) => setImmediate(r));
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.time = next.at;
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.time = end;
    await new Promise((r) => setImmediate(r));
  }
}

/** A transport whose connect always fails (the server is down). */
class RefusingTransport implements ClientTransport {
  readonly framing = 'stream';
  readonly secure = false;
  readonly canStartTls = true;
  constructor(private readonly onConnect: () => void) {}
  setEvents(_events: TransportEvents): void {}
  async connect(): Promise<void> {
    this.onConnect();
    throw new Error('ECONNREFUSED');
  }
  send(): void {}
  async startTls(): Promise<void> {}
  channelBinding(): undefined {
    return undefined;
  }
  close(): void {}
}

function refusingClient(clock: FakeClock, retry: Partial<typeof DEFAULT_RETRY> = {}): { client: Client; connects: number[] } {
  const connects: number[] = [];
  const client = new Client({
    domain: 'localhost',
    username: 'a',
    password: 'b',
    timers: clock,
    retry,
    transportFactory: () => new RefusingTransport(() => connects.push(clock.now())),
  });
  return { client, connects };
}

describe('Retrying (fake clock)', () => {
  it('waits 3 s by default between attempts', async () => {
    const clock = new FakeClock();
    const { client, connects } = refusingClient(clock);
    const states: string[] = [];
    client.on('state', ({ to }) => states.push(to));
    void client.connect().catch(() => {});
    await clock.advance(0);
    await clock.advance(9000);
    assert.deepEqual(connects, [0, 3000, 6000, 9000]);
    assert.deepEqual(states, ['Retrying', 'Retrying', 'Retrying', 'Retrying']);
    await client.disconnect();
  });

  it('backs off exponentially up to the maximum', async () => {
    const clock = new FakeClock();
    const { client, connects } = refusingClient(clock, { delayMs: 1000, backoff: 2, maxDelayMs: 5000 });
    void client.connect().catch(() => {});
    await clock.advance(20_000);
    assert.deepEqual(connects, [0, 1000, 3000, 7000, 12000, 17000]);
    await client.disconnect();
  });

  it('gives up after maxAttempts and ends in Disconnected with an error', async () => {
    const clock = new FakeClock();
    const { client, connects } = refusingClient(clock, { delayMs: 100, maxAttempts: 2 });
    const result = client.connect().then(() => 'online', (err: Error & { code?: string }) => err.code);
    await clock.advance(1000);
    assert.equal(await result, 'SB_ERR_ATTEMPTS');
    assert.equal(connects.length, 3, 'the first try and two retries');
    assert.equal(client.state, 'Disconnected');
  });

  it('disconnect() during the wait cancels the retry', async () => {
    const clock = new FakeClock();
    const { client, connects } = refusingClient(clock);
    void client.connect().catch(() => {});
    await clock.advance(1000);
    assert.equal(client.state, 'Retrying');
    await client.disconnect();
    await clock.advance(10_000);
    assert.deepEqual(connects, [0]);
    assert.equal(client.state, 'Disconnected');
  });

  it('jitter stays within its bounds', () => {
    const policy = { ...DEFAULT_RETRY, jitter: 0.2 };
    assert.equal(retryDelay(policy, 1, () => 0), 2400);
    assert.equal(retryDelay(policy, 1, () => 1), 3600);
    assert.equal(retryDelay(policy, 1, () => 0.5), 3000);
  });
});

/** A transport that opens (or never opens) and then hears nothing from the server. */
class SilentTransport implements ClientTransport {
  readonly framing = 'stream';
  readonly secure = false;
  readonly canStartTls = true;
  closed = 0;
  constructor(private readonly opens: boolean) {}
  setEvents(_events: TransportEvents): void {}
  connect(): Promise<void> {
    return this.opens ? Promise.resolve() : new Promise(() => {});
  }
  send(): void {}
  async startTls(): Promise<void> {}
  channelBinding(): undefined {
    return undefined;
  }
  close(): void {
    this.closed++;
  }
}

describe('timeouts (fake clock)', () => {
  for (const opens of [false, true]) {
    it(opens ? 'a server that never sends its features: StreamInit times out, then Retrying' : 'a transport that never opens times out, then Retrying', async () => {
      const clock = new FakeClock();
      const transports: SilentTransport[] = [];
      const client = new Client({
        domain: 'localhost',
        username: 'a',
        password: 'b',
        timers: clock,
        timeoutMs: 5000,
        transportFactory: () => {
          transports.push(new SilentTransport(opens));
          return transports.at(-1)!;
        },
      });
      const states: string[] = [];
      const errors: string[] = [];
      const order: string[] = [];
      client.on('state', ({ to }) => states.push(to));
      client.on('error', (e) => {
        errors.push(e.code);
        order.push('error');
      });
      client.on('retrying', ({ delayMs, error }) => order.push(`retrying ${delayMs} ${error.code}`));
      void client.connect().catch(() => {});
      await clock.advance(4999);
      assert.deepEqual(errors, []);
      await clock.advance(1);
      assert.deepEqual(errors, ['SB_ERR_TIMEOUT']);
      assert.deepEqual(order, ['error', 'retrying 3000 SB_ERR_TIMEOUT']);
      assert.deepEqual(states, opens ? ['Connected', 'StreamInit', 'Retrying'] : ['Retrying']);
      assert.equal(transports[0]!.closed, 1, 'the timed-out transport is closed');
      await clock.advance(3000);
      assert.equal(transports.length, 2, 'the next attempt after 3 s');
      await client.disconnect();
      assert.equal(client.state, 'Disconnected');
    });
  }

  it('disconnect() during negotiation wins: Disconnected, connect() rejected, no retry', async () => {
    const clock = new FakeClock();
    let opened = 0;
    const client = new Client({ domain: 'localhost', username: 'a', password: 'b', timers: clock, transportFactory: () => (opened++, new SilentTransport(true)) });
    const states: string[] = [];
    client.on('state', ({ to }) => states.push(to));
    const result = client.connect().then(() => 'online', (err: Error & { code?: string }) => err.code);
    await clock.advance(100);
    assert.equal(client.state, 'StreamInit');
    await client.disconnect();
    assert.equal(await result, 'SB_ERR_TRANSPORT');
    await clock.advance(60_000);
    assert.deepEqual(states, ['Connected', 'StreamInit', 'Disconnected']);
    assert.equal(opened, 1);
  });
});
