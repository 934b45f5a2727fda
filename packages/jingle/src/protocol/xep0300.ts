// XEP-0300 v1.0: Use of Cryptographic Hash Functions in XMPP.
//   §2 <hash algo='…'>base64</hash>, §3.1 <hash-used algo='…'/>, §4 algorithm names.

import { xml, type Element } from '@switchboard/xml';
import { NS_HASHES } from '../namespaces.ts';

/** §4: the names this stack computes and verifies (sha-1 only to verify peers that still send it). */
export const HASH_ALGORITHMS = ['sha-256', 'sha-512', 'sha-384', 'sha-1'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** A hash as on the wire: the algorithm name and the base64 value (§2). */
export interface Hash {
  readonly algo: string;
  readonly value: string;
}

export function isHashElement(el: Element, parentNs?: string): boolean {
  return el.localName === 'hash' && (el.attrs.xmlns ?? parentNs) === NS_HASHES;
}

export function parseHash(el: Element): Hash | undefined {
  const algo = el.attrs.algo;
  if (algo === undefined) return undefined;
  return { algo, value: el.text().trim() };
}

export function hashElement(hash: Hash): Element {
  return xml('hash', { xmlns: NS_HASHES, algo: hash.algo }, hash.value);
}

/** §3.1: announces which algorithm a hash will be computed with, before the value is known. */
export function parseHashUsed(el: Element): string | undefined {
  return el.attrs.algo;
}

export function hashUsedElement(algo: string): Element {
  return xml('hash-used', { xmlns: NS_HASHES, algo });
}

export function isSupportedAlgorithm(algo: string): algo is HashAlgorithm {
  return (HASH_ALGORITHMS as readonly string[]).includes(algo);
}
