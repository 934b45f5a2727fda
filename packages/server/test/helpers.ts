// Shared pieces for the server's integration tests: a real server on free
// loopback ports with a fresh data directory, and real third-party clients.

import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type SecureVersion, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type StorageSeam } from '../src/server.ts';
import type { ConfigOverrides } from '../src/config.ts';
import { ShardMap } from '../src/router/shards.ts';

export interface TestServer extends RunningServer {
  dataDir: string;
  /** Stops the server and leaves its data directory for a restart. */
  stopKeepingData(): Promise<void>;
}

/** Starts a server on 127.0.0.1 with ports chosen by the kernel; stop() also removes its data. */
export async function startTestServer(overrides: ConfigOverrides = {}, seam: StorageSeam = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  const cert = process.env.SWITCHBOARD_TEST_TLS_CERT;
  const key = process.env.SWITCHBOARD_TEST_TLS_KEY;
  const server = await startServer({
    domain: 'localhost',
    bindAddress: '127.0.0.1',
    c2sPort: 0,
    c2sDirectTlsPort: 0,
    wsPort: 0,
    ...(cert && key ? { tlsCert: cert, tlsKey: key } : {}),
    scramIterations: 4096,
    // SWITCHBOARD_TEST_SHARDS=N runs a suite with the users spread over N sm shards in one process (the cross-shard paths).
    ...(process.env.SWITCHBOARD_TEST_SHARDS ? { shards: Number(process.env.SWITCHBOARD_TEST_SHARDS) } : {}),
    // SWITCHBOARD_TEST_SERVICE_SHARDS=N runs a suite with each service (group chat) split into N shards by room JID in one process.
    ...(process.env.SWITCHBOARD_TEST_SERVICE_SHARDS ? { serviceShards: Number(process.env.SWITCHBOARD_TEST_SERVICE_SHARDS) } : {}),
    // SWITCHBOARD_TEST_RESUME_THROUGH_SM=1 runs a suite with the sm keeping its XEP-0198 copy (docs/protocol.md), as a cluster does.
    ...(process.env.SWITCHBOARD_TEST_RESUME_THROUGH_SM ? { resumeThroughSm: 'always' as const } : {}),
    ...overrides,
    dataDir,
  }, seam);
  const stop = server.stop.bind(server);
  if (server.sms.size > 1) Object.defineProperty(server, 'sm', { value: shardedView(server) });
  return Object.assign(server, {
    dataDir,
    stopKeepingData: stop,
    async stop() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Resolves when `predicate` holds, polling; rejects after `ms`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

import { connect, type Socket } from 'node:net';

/**
 * A byte-level client for the cases no library will send: malformed XML,
 * oversized stanzas, spoofed attributes. Plain TCP, so the server must allow
 * plaintext on loopback.
 */
export class RawClient {
  received = '';
  closed = false;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (this.received += d));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  /** XEP-0368 direct TLS (certificates not verified: the tests compare them by fingerprint). */
  static async connectTls(port: number): Promise<RawClient & { fingerprint: string }> {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['xmpp-client'] });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return Object.assign(new RawClient(socket), { fingerprint: socket.getPeerCertificate().fingerprint256 });
  }

  /** `localAddress` (another 127.x address) makes the client look like a different host. */
  static async connect(port: number, localAddress?: string): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  send(data: string): void {
    this.socket.write(data);
  }

  /** Waits until what was received since `from` matches, and returns the match. */
  async expect(pattern: RegExp, ms = 5000): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    await waitFor(() => (match = this.received.match(pattern)) !== null, ms, `${pattern}; got: ${this.received.slice(-300)}`);
    return match!;
  }

  async waitClosed(ms = 5000): Promise<void> {
    await waitFor(() => this.closed, ms, 'socket close');
  }

  /** Opens a stream and logs in with SASL PLAIN over plaintext, then binds `resource`. */
  async login(username: string, password: string, resource: string): Promise<string> {
    const header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
    this.send(header);
    await this.expect(/<\/stream:features>/);
    const auth = Buffer.from(`\0${username}\0${password}`).toString('base64');
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`);
    await this.expect(/<success/);
    this.received = '';
    this.send(header);
    await this.expect(/<\/stream:features>/);
    this.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    const m = await this.expect(/<jid>([^<]+)<\/jid>/);
    this.received = '';
    return m[1]!;
  }

  close(): void {
    this.socket.destroy();
  }

  /** Stops reading (a client that does not take what it is sent); `resume()` reads again. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}

const HEADER = `<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

export interface SecureRaw {
  socket: TLSSocket;
  expect(re: RegExp): Promise<RegExpMatchArray>;
  /** Everything read after STARTTLS, in order (expect() consumes from its own copy). */
  readonly received: string;
}

/** A raw stream after STARTTLS (TLS verified against the test CA), with its features still to read: for what no library sends. */
export async function secureRaw(port: number, tls: { maxVersion?: SecureVersion } = {}): Promise<SecureRaw> {
  const plain = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => plain.once('connect', resolve).once('error', reject));
  let received = '';
  plain.setEncoding('utf8').on('data', (d: string) => (received += d));
  plain.write(HEADER);
  await waitFor(() => received.includes('</stream:features>'));
  plain.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
  await waitFor(() => received.includes('<proceed'));
  plain.removeAllListeners('data');
  const socket = tlsConnect({ socket: plain, servername: 'localhost', ...tls });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  let text = '';
  let all = '';
  socket.setEncoding('utf8').on('data', (d: string) => {
    text += d;
    all += d;
  });
  socket.write(HEADER);
  const expect = async (re: RegExp): Promise<RegExpMatchArray> => {
    let m: RegExpMatchArray | null = null;
    await waitFor(() => (m = text.match(re)) !== null, 5000, `${re}; got ${text.slice(-400)}`);
    text = text.slice(text.indexOf(m![0]) + m![0].length);
    return m!;
  };
  return {
    socket,
    expect,
    get received() {
      return all;
    },
  };
}

/** With several shards in one process, `server.sm` as the tests read it: each user's sessions and roster from the user's shard. */
function shardedView(server: RunningServer): RunningServer['sm'] {
  const map = new ShardMap(server.sms.size);
  const of = (jid: string): RunningServer['sm'] => server.sms.get(map.indexOf(jid))!;
  const first = server.sms.get(0)!;
  const sessions = {
    full: (jid: string) => of(jid).sessions.full(jid),
    bare: (jid: string) => of(jid).sessions.bare(jid),
    get size() {
      return [...server.sms.values()].reduce((n, sm) => n + sm.sessions.size, 0);
    },
  };
  const rosters = { load: (username: string) => of(`${username}@${server.domain}`).rosters.load(username) };
  return new Proxy(first, {
    get: (target, prop, receiver) => (prop === 'sessions' ? sessions : prop === 'rosters' ? rosters : Reflect.get(target, prop, receiver)),
  });
}
