import { toUnicode } from 'tr46';
import { byteLength, MAX_PART_BYTES } from './precis.ts';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const ASCII_LDH = /^[A-Za-z0-9.-]+$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** RFC 3986 §3.2.2 IPv6address: eight hex groups, one `::` standing for one or more zero groups, optionally an IPv4 tail. */
function isIpv6(text: string): boolean {
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return false;
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!IPV4.test(tail)) return false;
    text = `${text.slice(0, lastColon + 1)}0:0`; // the IPv4 tail stands for two groups
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...left, ...right].every((g) => HEX_GROUP.test(g))) return false;
  const count = left.length + right.length;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/**
 * RFC 7622 §3.2: a domainpart is an IP literal or a domain name, stored as
 * IDNA2008 U-labels (UTS #46 processing via tr46), lower-cased, without a
 * trailing dot.
 */
export function prepareDomainpart(input: string): string | undefined {
  // Nearly every address a server parses is on its own domain: remember the last answer.
  if (input === lastDomain.input) return lastDomain.prepared;
  const prepared = prepareDomain(input);
  lastDomain = { input, prepared };
  return prepared;
}

let lastDomain: { input: string; prepared: string | undefined } = { input: '', prepared: undefined };

function prepareDomain(input: string): string | undefined {
  let domain = input.endsWith('.') ? input.slice(0, -1) : input;
  if (domain.length === 0) return undefined;
  if (domain.startsWith('[')) {
    // RFC 7622 §3.2: an IP-literal as in RFC 3986 §3.2.2 (IPvFuture is not supported).
    if (!domain.endsWith(']') || !isIpv6(domain.slice(1, -1))) return undefined;
    return domain.toLowerCase();
  }
  if (IPV4.test(domain)) return domain;
  // Fast path for the common all-ASCII LDH name without A-labels (in any case): UTS #46 would only lower-case it.
  if (ASCII_LDH.test(domain) && !/xn--/i.test(domain)) {
    domain = domain.toLowerCase();
    if (domain.length > MAX_PART_BYTES || domain.split('.').some((l) => l.length === 0 || l.length > 63 || l.startsWith('-') || l.endsWith('-'))) return undefined;
    return domain;
  }
  const result = toUnicode(domain, { useSTD3ASCIIRules: true, checkBidi: true, checkJoiners: true, checkHyphens: false });
  if (result.error) return undefined;
  domain = result.domain;
  if (byteLength(domain) > MAX_PART_BYTES) return undefined;
  // RFC 5891 §4.2.3.1: no label begins or ends with a hyphen, as on the ASCII path above.
  if (domain.split('.').some((l) => l.length === 0 || l.length > 63 || l.startsWith('-') || l.endsWith('-'))) return undefined;
  return domain;
}
