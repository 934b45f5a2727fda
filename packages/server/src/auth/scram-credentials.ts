// RFC 5802 §3 / RFC 7677: what the server stores instead of a password.
// SaltedPassword = Hi(password, salt, i); ClientKey = HMAC(SaltedPassword, "Client Key");
// StoredKey = H(ClientKey); ServerKey = HMAC(SaltedPassword, "Server Key").

import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import saslprep from 'saslprep';
import type { ScramCredentials, ScramKeys } from '../storage/ports.ts';

const pbkdf2Async = promisify(pbkdf2);

export type ScramHash = 'sha1' | 'sha256';
const KEY_LENGTH: Record<ScramHash, number> = { sha1: 20, sha256: 32 };

export function hmac(hash: ScramHash, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(hash, key).update(data).digest();
}

export function digest(hash: ScramHash, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

/** RFC 4013 SASLprep of a password; undefined when it contains prohibited characters. */
export function preparePassword(password: string): string | undefined {
  try {
    return saslprep(password);
  } catch {
    return undefined;
  }
}

/** Hi() of RFC 5802 §2.2: PBKDF2 with HMAC-H. Async, so it runs on the thread pool, off the event loop. */
export function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(password, salt, iterations, KEY_LENGTH[hash], hash);
}

export function keysFromSaltedPassword(hash: ScramHash, salted: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  const clientKey = hmac(hash, salted, 'Client Key');
  return { storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key') };
}

async function keysFor(hash: ScramHash, password: string, salt: Buffer, iterations: number): Promise<ScramKeys> {
  const { storedKey, serverKey } = keysFromSaltedPassword(hash, await saltedPassword(hash, password, salt, iterations));
  return { storedKey: storedKey.toString('base64'), serverKey: serverKey.toString('base64') };
}

/**
 * New credentials for a password, one salt for both hashes. The password must
 * be non-empty after SASLprep (check with preparePassword first): anything
 * else is a caller's bug and throws.
 */
export async function deriveScramCredentials(password: string, iterations = 4096, salt: Buffer = randomBytes(16)): Promise<ScramCredentials> {
  const prepared = preparePassword(password);
  if (prepared === undefined || prepared.length === 0) throw new Error('the password is empty or has characters SASLprep prohibits');
  const [sha1, sha256] = await Promise.all([keysFor('sha1', prepared, salt, iterations), keysFor('sha256', prepared, salt, iterations)]);
  return { salt: salt.toString('base64'), iterations, sha1, sha256 };
}

/** Stands in for a missing account, so PLAIN costs the same PBKDF2 whether or not the user exists. */
const DUMMY_SALT = randomBytes(16);

/**
 * SASL PLAIN (RFC 4616) against stored SCRAM keys: derive the SHA-256
 * StoredKey from the offered password and compare in constant time.
 * Pass `undefined` for an unknown user: the derivation still runs (with the
 * default iteration count, or `iterations`) and the answer is false.
 */
export async function verifyPlainPassword(credentials: ScramCredentials | undefined, password: string, iterations = 4096): Promise<boolean> {
  const prepared = preparePassword(password);
  const salt = credentials ? Buffer.from(credentials.salt, 'base64') : DUMMY_SALT;
  const salted = await saltedPassword('sha256', prepared ?? password, salt, credentials ? credentials.iterations : iterations);
  const { storedKey } = keysFromSaltedPassword('sha256', salted);
  if (!credentials || !prepared) return false;
  const expected = Buffer.from(credentials.sha256.storedKey, 'base64');
  return expected.length === storedKey.length && timingSafeEqual(expected, storedKey);
}
