// XEP-0300 hashes of a file, computed while it is sent or received. The
// default uses WebCrypto (browsers and Node alike), which has no incremental
// digest, so it keeps the chunks until digest(); node-hash.ts hashes as it goes.

import { bytesToBase64 } from '../protocol/base64.ts';
import { isSupportedAlgorithm, type Hash, type HashAlgorithm } from '../protocol/xep0300.ts';

export interface Hasher {
  update(chunk: Uint8Array): void;
  digest(): Promise<Uint8Array>;
}

export type HasherFactory = (algo: HashAlgorithm) => Hasher;

const WEBCRYPTO_NAMES: Record<HashAlgorithm, string> = { 'sha-1': 'SHA-1', 'sha-256': 'SHA-256', 'sha-384': 'SHA-384', 'sha-512': 'SHA-512' };

export const webCryptoHasher: HasherFactory = (algo) => {
  const chunks: Uint8Array[] = [];
  let length = 0;
  return {
    update(chunk) {
      chunks.push(chunk);
      length += chunk.length;
    },
    async digest() {
      const all = new Uint8Array(length);
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      return new Uint8Array(await crypto.subtle.digest(WEBCRYPTO_NAMES[algo], all));
    },
  };
};

/**
 * XEP-0234 §8: checks received bytes against the sender's hashes. The first
 * one we can compute that matches is returned; none given is 'unverified';
 * hashes given but none matching (or none we can compute) is 'mismatch'.
 */
export async function checkHashes(data: Uint8Array, expected: readonly Hash[], hasher: HasherFactory): Promise<Hash | 'unverified' | 'mismatch'> {
  if (expected.length === 0) return 'unverified';
  for (const hash of expected) {
    if (!isSupportedAlgorithm(hash.algo)) continue;
    const h = hasher(hash.algo);
    h.update(data);
    if (bytesToBase64(await h.digest()) === hash.value.trim()) return hash;
  }
  return 'mismatch';
}
