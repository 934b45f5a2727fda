// A deliberately thin XMPP client for load generation: raw TCP, pre-built
// stanza strings, and string scanning instead of XML parsing, so that the
// generator costs far less CPU than the server it measures. It speaks just
// enough: stream, SASL PLAIN or SCRAM-SHA-256, bind, presence, messages.

import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

const HEADER = (domain: string): string =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;

/** SaltedPassword per (password, salt, iterations): a client may cache it (RFC 5802 §5.1), and the bench users share one. */
const saltedCache = new Map<string, Buffer>();

export type Mechanism = 'PLAIN' | 'SCRAM-SHA-256';

export class RawClient {
  private buffer = '';
  private waiter: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void } | undefined;
  /** Called with every chunk once logged in (message counting). */
  onData: ((chunk: string) => void) | undefined;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => {
      if (this.sm) this.countForSm(chunk);
      if (this.onData) {
        this.onData(chunk);
        return;
      }
      this.buffer += chunk;
      this.check();
      if (this.waiter && /<failure /.test(this.buffer)) {
        const w = this.waiter;
        this.waiter = undefined;
        w.reject(new Error(`SASL failure: ${this.buffer.slice(-200)}`));
      }
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.reject(new Error(`connection closed; last: ${this.buffer.slice(-200)}`));
      this.waiter = undefined;
    });
    socket.on('error', () => {});
  }

  /** Plain TCP, or XEP-0368 direct TLS (the bench server's certificate is self-signed: not verified). */
  static connect(host: string, port: number, tls = false): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tls ? connectTls({ host, port, rejectUnauthorized: false }) : connect({ host, port });
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private check(): void {
    if (!this.waiter) return;
    const m = this.buffer.match(this.waiter.pattern);
    if (!m) return;
    this.buffer = this.buffer.slice((m.index ?? 0) + m[0].length);
    const w = this.waiter;
    this.waiter = undefined;
    w.resolve(m);
  }

  /** Waits for `pattern`; a failure or 10 s of silence rejects, so a refused login counts as failed instead of hanging. */
  private expect(pattern: RegExp): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`timed out waiting for ${pattern}; last: ${this.buffer.slice(-200)}`));
      }, 10_000);
      this.waiter = {
        pattern,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.check();
      if (this.waiter && /<failure /.test(this.buffer)) this.waiter.reject(new Error(`SASL failure: ${this.buffer.slice(-200)}`));
    });
  }

  send(data: string): boolean {
    return this.socket.write(data);
  }

  async login(domain: string, username: string, password: string, resource: string, mechanism: Mechanism): Promise<void> {
    this.send(HEADER(domain));
    await this.expect(/<\/stream:features>/);
    if (mechanism === 'PLAIN') {
      this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${username}\0${password}`).toString('base64')}</auth>`);
    } else {
      await this.scram(username, password);
    }
    await this.expect(/<success[^>]*(\/>|>[^<]*<\/success>)/);
    this.send(HEADER(domain));
    await this.expect(/<\/stream:features>/);
    this.send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    await this.expect(/<\/iq>/);
  }

  private async scram(username: string, password: string): Promise<void> {
    const clientNonce = randomBytes(18).toString('base64');
    const clientFirstBare = `n=${username},r=${clientNonce}`;
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${Buffer.from(`n,,${clientFirstBare}`).toString('base64')}</auth>`);
    const challenge = await this.expect(/<challenge[^>]*>([^<]*)<\/challenge>/);
    const serverFirst = Buffer.from(challenge[1]!, 'base64').toString();
    const attrs = new Map(serverFirst.split(',').map((p) => [p[0]!, p.slice(2)] as const));
    const nonce = attrs.get('r')!;
    const salt = attrs.get('s')!;
    const iterations = Number(attrs.get('i'));
    const key = `${password}\0${salt}\0${iterations}`;
    let salted = saltedCache.get(key);
    if (!salted) {
      salted = pbkdf2Sync(password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
      saltedCache.set(key, salted);
    }
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(`${withoutProof},p=${proof.toString('base64')}`).toString('base64')}</response>`);
  }

  /** Sends initial presence and waits until the server has surely processed it (a ping round trip). */
  async presence(): Promise<void> {
    this.send(`<presence/><iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await this.expect(/id=["']p["']/);
  }

  /** XEP-0280: carbons on for this resource. */
  /** XEP-0198 with resumption (bench --sm): the client answers every <r/> with what it handled. */
  private sm: { handled: number; carry: string } | undefined;

  async enableResumption(): Promise<void> {
    this.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    await this.expect(/<enabled /);
    this.buffer = '';
    this.sm = { handled: 0, carry: '' };
  }

  private countForSm(chunk: string): void {
    const sm = this.sm!;
    const text = sm.carry + chunk;
    const ends = /<\/message>|<\/presence>|<\/iq>|<(?:presence|iq|message)\b[^<>]*\/>|<r xmlns=["']urn:xmpp:sm:3["']\/>/g;
    let last = 0;
    let asked = false;
    for (let m = ends.exec(text); m !== null; m = ends.exec(text)) {
      last = ends.lastIndex;
      if (m[0].startsWith('<r ')) asked = true;
      else sm.handled++;
    }
    sm.carry = text.slice(last).slice(-4096);
    if (asked) this.send(`<a xmlns='urn:xmpp:sm:3' h='${sm.handled}'/>`);
  }

  async enableCarbons(): Promise<void> {
    this.send("<iq type='set' id='carbons'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
    await this.expect(/id=["']carbons["']/);
  }

  close(): void {
    this.socket.end('</stream:stream>');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
