// RFC 5802 (SCRAM-SHA-1), RFC 7677 (SCRAM-SHA-256), RFC 9266 (tls-exporter
// channel binding): the server's half of one exchange. The server never runs
// PBKDF2 here: it checks the proof with the stored keys (HMAC and hash only).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramCredentials } from '../storage/ports.ts';
import { digest, hmac, type ScramHash } from './scram-credentials.ts';

export type ScramFailure = 'not-authorized' | 'malformed-request' | 'invalid-authzid' | 'temporary-auth-failure';

export interface ChannelBinding {
  type: 'tls-exporter';
  data: Buffer;
}

type Attributes = Map<string, string>;

/** Secret for salts of accounts that do not exist, so a probe cannot tell them apart. */
const FAKE_SALT_SECRET = randomBytes(32);

/** `a=b,c=d` → attributes; undefined if malformed (RFC 5802 §7). */
function parseAttributes(text: string): Attributes | undefined {
  const out: Attributes = new Map();
  for (const part of text.split(',')) {
    if (part.length < 2 || part[1] !== '=' || !/^[A-Za-z]$/.test(part[0]!)) return undefined;
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

/** RFC 5802 §5.1 saslname: "=2C" is ",", "=3D" is "=", any other "=" is an error. */
function decodeSaslName(name: string): string | undefined {
  if (/=(?!2C|3D)/.test(name)) return undefined;
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

const PRINTABLE_NONCE = /^[\x21-\x2B\x2D-\x7E]+$/;

export class ScramServerExchange {
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private username = '';
  private authzid: string | undefined;
  private credentials: ScramCredentials | undefined;
  private state: 'initial' | 'first-done' | 'done' = 'initial';

  constructor(
    private readonly hash: ScramHash,
    private readonly lookup: (username: string) => Promise<ScramCredentials | undefined>,
    /** Present for the -PLUS mechanisms. */
    private readonly binding?: ChannelBinding,
    /** The server advertised a -PLUS mechanism on this stream (for the 'y' downgrade check). */
    private readonly plusOffered = false,
    /** Tests pass the RFC examples' nonce; otherwise 24 random bytes. */
    private readonly makeServerNonce: () => string = () => randomBytes(24).toString('base64'),
  ) {}

  async start(clientFirst: Buffer): Promise<{ ok: true; serverFirst: Buffer } | { ok: false; condition: ScramFailure }> {
    if (this.state !== 'initial') return { ok: false, condition: 'malformed-request' };
    this.state = 'first-done';
    const text = clientFirst.toString('utf8');
    // gs2-header: cbind-flag "," [authzid] ","
    const m = /^(n|y|p=[A-Za-z0-9.-]+),(a=[^,]*)?,(.*)$/s.exec(text);
    if (!m) return { ok: false, condition: 'malformed-request' };
    const [, flag, authz, bare] = m as unknown as [string, string, string | undefined, string];
    if (this.binding) {
      if (flag !== `p=${this.binding.type}`) return { ok: false, condition: 'not-authorized' };
    } else {
      if (flag.startsWith('p=')) return { ok: false, condition: 'malformed-request' };
      // RFC 5802 §6: 'y' means the client thinks we lack channel binding; if we offered it, someone stripped it.
      if (flag === 'y' && this.plusOffered) return { ok: false, condition: 'not-authorized' };
    }
    if (authz !== undefined) {
      const decoded = decodeSaslName(authz.slice(2));
      if (decoded === undefined) return { ok: false, condition: 'malformed-request' };
      this.authzid = decoded;
    }
    const attrs = parseAttributes(bare);
    if (!attrs || bare.startsWith('m=')) return { ok: false, condition: 'malformed-request' };
    const username = decodeSaslName(attrs.get('n') ?? '');
    const clientNonce = attrs.get('r');
    if (!username || !clientNonce || !PRINTABLE_NONCE.test(clientNonce)) return { ok: false, condition: 'malformed-request' };

    this.gs2Header = text.slice(0, text.length - bare.length);
    this.clientFirstBare = bare;
    this.username = username;
    this.credentials = await this.lookup(username);
    const salt = this.credentials ? this.credentials.salt : fakeSalt(username);
    const iterations = this.credentials ? this.credentials.iterations : 4096;
    this.nonce = clientNonce + this.makeServerNonce();
    this.serverFirst = `r=${this.nonce},s=${salt},i=${iterations}`;
    return { ok: true, serverFirst: Buffer.from(this.serverFirst) };
  }

  async finish(clientFinal: Buffer): Promise<{ ok: true; serverFinal: Buffer; username: string; authzid?: string } | { ok: false; condition: ScramFailure }> {
    if (this.state !== 'first-done') return { ok: false, condition: 'malformed-request' };
    this.state = 'done';
    const text = clientFinal.toString('utf8');
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) return { ok: false, condition: 'malformed-request' };
    const withoutProof = text.slice(0, proofAt);
    const attrs = parseAttributes(withoutProof);
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    if (!attrs) return { ok: false, condition: 'malformed-request' };
    if (attrs.get('r') !== this.nonce) return { ok: false, condition: 'not-authorized' };

    // c= is base64(gs2-header + channel binding data, for -PLUS).
    const expectedBinding = Buffer.concat([Buffer.from(this.gs2Header), this.binding ? this.binding.data : Buffer.alloc(0)]);
    const c = Buffer.from(attrs.get('c') ?? '', 'base64');
    if (c.length !== expectedBinding.length || !timingSafeEqual(c, expectedBinding)) return { ok: false, condition: 'not-authorized' };

    const keys = this.credentials?.[this.hash === 'sha1' ? 'sha1' : 'sha256'];
    if (!keys) return { ok: false, condition: 'not-authorized' };
    const storedKey = Buffer.from(keys.storedKey, 'base64');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.hash, storedKey, authMessage);
    if (proof.length !== clientSignature.length) return { ok: false, condition: 'not-authorized' };
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    if (!timingSafeEqual(digest(this.hash, clientKey), storedKey)) return { ok: false, condition: 'not-authorized' };

    const serverSignature = hmac(this.hash, Buffer.from(keys.serverKey, 'base64'), authMessage);
    const result: { ok: true; serverFinal: Buffer; username: string; authzid?: string } = {
      ok: true,
      serverFinal: Buffer.from(`v=${serverSignature.toString('base64')}`),
      username: this.username,
    };
    if (this.authzid !== undefined) result.authzid = this.authzid;
    return result;
  }
}

function fakeSalt(username: string): string {
  return createHmac('sha256', FAKE_SALT_SECRET).update(username).digest().subarray(0, 16).toString('base64');
}
