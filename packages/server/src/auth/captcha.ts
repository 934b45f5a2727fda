// XEP-0158 CAPTCHA for XEP-0077 in-band registration (issue #18), in the
// `qa` style of §4 (a question answered in text) since the server draws no
// images: a small sum written in words, as "What is seven plus twelve?".
// It stops scripts that do not read the question; a bot written for this
// server reads it, so it is a speed bump that the per-address limit
// (registration-limit.ts) and invitations (invites.ts) stand behind.
//
// The answers live here, in memory, in a table bounded by configuration and
// not by the client: at most `maxPending` challenges in all and
// `maxPerAddress` per address (an IPv6 address counts as its /64), each
// forgotten after `ttlSeconds`. Each challenge is keyed by 128 random bits,
// belongs to the stream it was issued to, and is spent by the first answer,
// right or wrong. A stream's get and set reach the same c2s process, so the
// table is per process even in a cluster.

import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { addressKey } from './throttle.ts';

export interface CaptchaConfig {
  /** Registering needs the CAPTCHA answered (unless an invitation was presented). */
  enabled: boolean;
  /** Seconds a challenge may be answered in. */
  ttlSeconds: number;
  /** Most challenges pending at once, in all … */
  maxPending: number;
  /** … and from one address. */
  maxPerAddress: number;
}

export const DEFAULT_CAPTCHA: CaptchaConfig = { enabled: false, ttlSeconds: 300, maxPending: 10_000, maxPerAddress: 5 };

export interface Challenge {
  /** The unpredictable key (the form's `challenge` and `sid` fields). */
  id: string;
  question: string;
}

export type CaptchaVerdict = 'right' | 'wrong' | 'unknown';

interface Pending {
  answer: string;
  owner: string;
  address: string;
  expiresAt: number;
}

const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty'];

/** A question and its answer (digits; the words are accepted too when the answer is at most twenty). */
export function makeQuestion(): { question: string; answer: string } {
  const a = randomInt(1, 21);
  const b = randomInt(1, 21);
  if (randomInt(2) === 0 || a === b) return { question: `What is ${WORDS[a]} plus ${WORDS[b]}? (answer in digits)`, answer: String(a + b) };
  const [hi, lo] = a > b ? [a, b] : [b, a];
  return { question: `What is ${WORDS[hi]} minus ${WORDS[lo]}? (answer in digits)`, answer: String(hi - lo) };
}

function normalise(answer: string): string {
  const t = answer.trim().toLowerCase();
  const word = WORDS.indexOf(t);
  return word >= 0 ? String(word) : t;
}

export class CaptchaChallenges {
  /** Insertion order is expiry order (one TTL for all), so expired entries are at the front. */
  private readonly pending = new Map<string, Pending>();
  private readonly perAddress = new Map<string, number>();

  constructor(
    readonly config: CaptchaConfig = DEFAULT_CAPTCHA,
    private readonly now: () => number = Date.now,
    private readonly question: () => { question: string; answer: string } = makeQuestion,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** A new challenge for stream `owner` from `address`; undefined when the table (or the address's share) is full. */
  issue(owner: string, address: string): Challenge | undefined {
    this.sweep();
    const key = addressKey(address);
    if (this.pending.size >= this.config.maxPending || (this.perAddress.get(key) ?? 0) >= this.config.maxPerAddress) return undefined;
    const id = randomBytes(16).toString('base64url');
    const { question, answer } = this.question();
    this.pending.set(id, { answer, owner, address: key, expiresAt: this.now() + this.config.ttlSeconds * 1000 });
    this.perAddress.set(key, (this.perAddress.get(key) ?? 0) + 1);
    return { id, question };
  }

  /** Checks an answer; the challenge is spent whatever the verdict (one attempt each). */
  check(id: string, owner: string, answer: string): CaptchaVerdict {
    this.sweep();
    const entry = this.pending.get(id);
    if (!entry) return 'unknown';
    this.remove(id, entry);
    if (entry.owner !== owner) return 'unknown';
    const given = Buffer.from(normalise(answer));
    const expected = Buffer.from(entry.answer);
    return given.length === expected.length && timingSafeEqual(given, expected) ? 'right' : 'wrong';
  }

  private remove(id: string, entry: Pending): void {
    this.pending.delete(id);
    const left = (this.perAddress.get(entry.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(entry.address, left);
    else this.perAddress.delete(entry.address);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.pending) {
      if (entry.expiresAt > now) break;
      this.remove(id, entry);
    }
  }
}
