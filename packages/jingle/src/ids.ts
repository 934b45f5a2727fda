// Identifiers and the ordering XEP-0166 §7.2.16 uses to break ties.

/** RFC 4086-quality random id: Jingle sids, IBB/S5B sids, candidate ids (XEP-0166 §7.1: an NMTOKEN). */
export function randomId(): string {
  // getRandomValues, not randomUUID: the latter exists only in secure contexts (a page served over http has none).
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

let counter = 0;
const prefix = randomId().slice(0, 6);

/** Unique iq ids for this process. */
export function iqId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `jingle-${prefix}-${counter}`;
}

/** RFC 4790 §9.3 i;octet: compares the UTF-8 bytes. Negative when a sorts first. */
export function octetCompare(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
