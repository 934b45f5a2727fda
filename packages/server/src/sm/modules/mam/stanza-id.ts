// XEP-0359 stanza ids as the archive assigns them: UUID version 7 (RFC 9562
// §5.7), the millisecond timestamp first. Ids of new messages therefore sort
// together, so the archive's id index grows at one end instead of taking
// every insert on a random page (a random UUID did, which was a third of the
// cost of archiving a message on SQLite).

import { randomUUID } from 'node:crypto';

/** A fresh id for a message archived at `ms` (Unix milliseconds). */
export function stanzaIdOf(ms: number): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx: keep its random bits and variant
  const t = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${random.slice(15)}`;
}
