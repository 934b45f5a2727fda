// XEP-0484 FAST tokens: issuing, verifying (the HT-* proof of
// draft-schmaus-kitten-sasl-ht: HMAC(token, "Initiator" || cb-data)), the
// two-slot rotation of §6, expiry, the replay count, and revocation.
//
// What is stored, and what that buys. HT is symmetric: whatever lets the
// server check HMAC(token, …) also lets anyone holding it make one. So no
// transformation of the stored value can do for tokens what SCRAM's
// StoredKey does for passwords. What we keep instead:
// - the token is 60 random bytes (80 characters), longer than SHA-256's
//   block, so HMAC keys with SHA-256(token) (RFC 2104 §2); the server keeps
//   that digest, never the token;
// - sealed with AES-256-GCM under a key that is not in the database (a file,
//   config key fastKeyFile), with the user, host, agent and mechanism as
//   associated data, so a row cannot be moved to another account or agent.
// A database dump alone (a backup, an injection) yields no usable token; the
// database and the key file together do, until the token expires, is
// rotated out, or is revoked.

import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastTokenStore } from '../storage/ports.ts';

/** The HT mechanisms we verify: SHA-256, without channel binding or with tls-exporter (RFC 9266). */
export type FastMechanism = 'HT-SHA-256-NONE' | 'HT-SHA-256-EXPR';

export interface FastTokenOptions {
  /** Token lifetime (XEP-0484 §5.2: the deployment's policy on inactive devices). */
  ttlMs: number;
  /** AES-256 key sealing the stored token keys (32 bytes). */
  sealKey: Buffer;
  now?: () => number;
}

export type FastVerdict =
  | { ok: true; serverFinal: Buffer; rotate: boolean }
  | { ok: false; condition: 'not-authorized' | 'credentials-expired' };

export interface FastAttempt {
  username: string;
  agent: string;
  mechanism: FastMechanism;
  /** The initiator's HMAC from the initial response. */
  proof: Buffer;
  /** Channel-binding data (empty for -NONE). */
  cbData: Buffer;
  /** XEP-0484 `count`, when sent. */
  count: number | undefined;
}

const TOKEN_BYTES = 60;

export class FastTokens {
  private readonly now: () => number;

  constructor(
    private readonly store: FastTokenStore,
    private readonly host: string,
    private readonly options: FastTokenOptions,
  ) {
    if (options.sealKey.length !== 32) throw new Error('the FAST seal key must be 32 bytes');
    this.now = options.now ?? Date.now;
  }

  /** §4.3: a new token for this user agent, in its 'new' slot until used. */
  async issue(username: string, agent: string, mechanism: FastMechanism): Promise<{ token: string; expiry: Date }> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const expiry = new Date(this.now() + this.options.ttlMs);
    await this.store.put(username, this.host, agent, { mechanism, key: this.seal(hmacKey(token), username, agent, mechanism), expiresAt: expiry });
    return { token, expiry };
  }

  /** §4.4 and §6: the proof against the agent's 'new' token, then its 'current' one. */
  async verify(attempt: FastAttempt): Promise<FastVerdict> {
    const rows = await this.store.get(attempt.username, this.host, attempt.agent);
    for (const row of rows) {
      // §4.4: a token works only with the mechanism it was issued for.
      if (row.mechanism !== attempt.mechanism) continue;
      const key = this.unseal(row.key, attempt.username, attempt.agent, row.mechanism);
      if (!key) continue;
      const expected = createHmac('sha256', key).update('Initiator').update(attempt.cbData).digest();
      // §6: constant-time comparison.
      if (attempt.proof.length !== expected.length || !timingSafeEqual(attempt.proof, expected)) continue;
      if (row.expiresAt.getTime() <= this.now()) return { ok: false, condition: 'credentials-expired' };
      if (!(await this.store.use(attempt.username, this.host, attempt.agent, row.slot, attempt.count))) return { ok: false, condition: 'not-authorized' };
      const serverFinal = createHmac('sha256', key).update('Responder').update(attempt.cbData).digest();
      // §4.5: a token in its second half of life is replaced at this login.
      return { ok: true, serverFinal, rotate: row.expiresAt.getTime() - this.now() < this.options.ttlMs / 2 };
    }
    return { ok: false, condition: 'not-authorized' };
  }

  /** §4.6 `invalidate`: this agent's tokens; or every token of the user. */
  revoke(username: string, agent?: string): Promise<number> {
    return this.store.revoke(username, this.host, agent);
  }

  private aad(username: string, agent: string, mechanism: string): Buffer {
    return Buffer.from(`${this.host}\0${username}\0${agent}\0${mechanism}`);
  }

  private seal(key: Buffer, username: string, agent: string, mechanism: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.options.sealKey, iv).setAAD(this.aad(username, agent, mechanism));
    const sealed = Buffer.concat([cipher.update(key), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
  }

  /** undefined when the row was sealed under another key or belongs to another user, agent or mechanism. */
  private unseal(stored: string, username: string, agent: string, mechanism: string): Buffer | undefined {
    const raw = Buffer.from(stored, 'base64');
    if (raw.length !== 12 + 16 + 32) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.options.sealKey, raw.subarray(0, 12)).setAAD(this.aad(username, agent, mechanism));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
    } catch {
      return undefined;
    }
  }
}

/** RFC 2104 §2: a key longer than the block (64 bytes for SHA-256) is replaced by its digest, so this keys the same HMAC as the token. */
export function hmacKey(token: string): Buffer {
  const bytes = Buffer.from(token, 'utf8');
  return bytes.length > 64 ? createHash('sha256').update(bytes).digest() : bytes;
}

/** The seal key from `path` (base64 of 32 bytes), made on first use with mode 0600. */
export function loadFastKey(path: string): Buffer {
  try {
    return decodeKey(readFileSync(path, 'utf8'), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return decodeKey(readFileSync(path, 'utf8'), path);
}

function decodeKey(text: string, path: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path}: the FAST token key must be 32 bytes in base64`);
  return key;
}
