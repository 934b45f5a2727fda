import { prepareDomainpart } from './domain.ts';
import { prepareLocalpart, prepareResourcepart } from './precis.ts';

/**
 * An XMPP address (RFC 7622), always in canonical form: construct one with
 * {@link parseJid} or {@link makeJid}, which normalise and validate.
 */
export class Jid {
  private cachedString: string | undefined;
  private cachedBare: Jid | undefined;

  private constructor(
    readonly local: string | undefined,
    readonly domain: string,
    readonly resource: string | undefined,
  ) {}

  /** Internal: parts must already be prepared. */
  static fromPrepared(local: string | undefined, domain: string, resource: string | undefined): Jid {
    return new Jid(local, domain, resource);
  }

  get isBare(): boolean {
    return this.resource === undefined;
  }

  get isDomain(): boolean {
    return this.local === undefined && this.resource === undefined;
  }

  bare(): Jid {
    if (this.resource === undefined) return this;
    return (this.cachedBare ??= new Jid(this.local, this.domain, undefined));
  }

  withResource(resource: string): Jid | undefined {
    const prepared = prepareResourcepart(resource);
    return prepared === undefined ? undefined : new Jid(this.local, this.domain, prepared);
  }

  equals(other: Jid | undefined): boolean {
    return other !== undefined && this.toString() === other.toString();
  }

  toString(): string {
    if (this.cachedString === undefined) {
      let s = this.domain;
      if (this.local !== undefined) s = `${this.local}@${s}`;
      if (this.resource !== undefined) s = `${s}/${this.resource}`;
      this.cachedString = s;
    }
    return this.cachedString;
  }

  toJSON(): string {
    return this.toString();
  }
}

export type JidResult = { ok: true; jid: Jid } | { ok: false; condition: 'jid-malformed'; reason: string };

function malformed(reason: string): JidResult {
  return { ok: false, condition: 'jid-malformed', reason };
}

/**
 * Addresses parsed lately, by the text they were parsed from. A server parses
 * the same few `to` addresses over and over; a hit returns the same Jid, whose
 * string and bare form are then already made. Bounded: when full it is
 * emptied, so a flood of distinct addresses costs a parse each, as without it.
 */
const recent = new Map<string, JidResult>();
const RECENT_LIMIT = 10_000;

/**
 * RFC 7622 §3.2–3.4: split at the first '/', then at the first '@' before it. Never throws:
 * a bad address is a `jid-malformed` result (RFC 6120 §8.3.3.8).
 */
export function parseJid(input: string): JidResult {
  let result = recent.get(input);
  if (result !== undefined) return result;
  // The input is often a slice of a whole read off a socket; what is kept must not pin that read.
  const text = ownCopy(input);
  result = parseUncached(text);
  if (result.ok) {
    if (recent.size >= RECENT_LIMIT) recent.clear();
    recent.set(text, result);
  }
  return result;
}

/** A string with storage of its own: V8 makes a slice of 13 characters or more a view into the string it was cut from. */
function ownCopy(s: string): string {
  return (' ' + s).slice(1);
}

function parseUncached(input: string): JidResult {
  const slash = input.indexOf('/');
  const beforeResource = slash < 0 ? input : input.slice(0, slash);
  const resource = slash < 0 ? undefined : input.slice(slash + 1);
  const at = beforeResource.indexOf('@');
  const local = at < 0 ? undefined : beforeResource.slice(0, at);
  const domain = at < 0 ? beforeResource : beforeResource.slice(at + 1);
  return makeJid(local, domain, resource);
}

export function makeJid(local: string | undefined, domain: string, resource?: string): JidResult {
  let preparedLocal: string | undefined;
  if (local !== undefined) {
    preparedLocal = prepareLocalpart(local);
    if (preparedLocal === undefined) return malformed('invalid localpart');
  }
  const preparedDomain = prepareDomainpart(domain);
  if (preparedDomain === undefined) return malformed('invalid domainpart');
  let preparedResource: string | undefined;
  if (resource !== undefined) {
    preparedResource = prepareResourcepart(resource);
    if (preparedResource === undefined) return malformed('invalid resourcepart');
  }
  return { ok: true, jid: Jid.fromPrepared(preparedLocal, preparedDomain, preparedResource) };
}

/** For addresses the program itself writes (config, tests): throws on a bad one, which is a bug. */
export function jid(input: string): Jid {
  const result = parseJid(input);
  if (!result.ok) throw new Error(`invalid JID ${JSON.stringify(input)}: ${result.reason}`);
  return result.jid;
}
