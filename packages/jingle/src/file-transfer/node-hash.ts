// Incremental hashing with node:crypto, so a large file is hashed as it
// streams instead of being kept for WebCrypto.

import { createHash } from 'node:crypto';
import type { HasherFactory } from './hash.ts';

const NODE_NAMES = { 'sha-1': 'sha1', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' } as const;

export const nodeHasher: HasherFactory = (algo) => {
  const h = createHash(NODE_NAMES[algo]);
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => Promise.resolve(new Uint8Array(h.digest())),
  };
};
