import { toUnicode } from 'tr46';
import { byteLength, MAX_PART_BYTES } from './precis.ts';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const ASCII_LDH = /^[A-Za-z0-9.-]+$/;
const IPV6_LITERAL = /^\[[0-9a-fA-F:.]+\]$/;

/**
 * RFC 7622 §3.2: a domainpart is an IP literal or a domain name, stored as
 * IDNA2008 U-labels (UTS #46 processing via tr46), lower-cased, without a
 * trailing dot.
 */
export function prepareDomainpart(input: string): string | undefined {
  let domain = input.endsWith('.') ? input.slice(0, -1) : input;
  if (domain.length === 0) return undefined;
  if (IPV6_LITERAL.test(domain)) return domain.toLowerCase();
  if (IPV4.test(domain)) return domain;
  // Fast path for the common all-ASCII LDH name: UTS #46 would only lower-case it.
  if (ASCII_LDH.test(domain) && !domain.includes('xn--')) {
    domain = domain.toLowerCase();
    if (domain.length > MAX_PART_BYTES || domain.split('.').some((l) => l.length === 0 || l.length > 63 || l.startsWith('-') || l.endsWith('-'))) return undefined;
    return domain;
  }
  const result = toUnicode(domain, { useSTD3ASCIIRules: true, checkBidi: true, checkJoiners: true, checkHyphens: false });
  if (result.error) return undefined;
  domain = result.domain;
  if (byteLength(domain) > MAX_PART_BYTES) return undefined;
  if (domain.split('.').some((label) => label.length === 0 || label.length > 63)) return undefined;
  return domain;
}
