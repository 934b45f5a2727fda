// RFC 5802 (SCRAM-SHA-1), RFC 7677 (SCRAM-SHA-256), RFC 9266 (tls-exporter
// channel binding), with the downgrade protection of XEP-0474 (h=) and
// XEP-0515 (t=): the server's half of one exchange. The server never runs
// PBKDF2 here: it checks the proof with the stored keys (HMAC and hash only).
//
// The message primitives (parse, build, verify) are exported for reuse; the
// ScramServerExchange class strings them into the two-step exchange the c2s
// SASL code drives. Usernames come back unescaped but otherwise raw: the
// caller applies JID localpart preparation.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SaslCondition } from '@switchboard/protocol';
import type { ScramCredentials, ScramKeys } from '../storage/ports.ts';
import { digest, hmac, type ScramHash } from './scram-credentials.ts';


/** The conditions a SCRAM exchange itself ends with (authzid policy is the caller's). */
export type ScramFailure = Extract<SaslCondition, 'not-authorized' | 'malformed-request' | 'temporary-auth-failure' | 'invalid-authzid'>;

export interface ChannelBinding {
  type: 'tls-exporter';
  data: Buffer;
}

/** RFC 5802 §7 gs2-cbind-flag. */
export type CbindFlag = { kind: 'n' } | { kind: 'y' } | { kind: 'p'; type: string };

export interface ClientFirst {
  /** The gs2-header exactly as sent, for the c= check. */
  gs2Header: string;
  cbind: CbindFlag;
  authzid?: string;
  /** Unescaped (=2C, =3D), not prepared. */
  username: string;
  nonce: string;
  /** client-first-message-bare, part of AuthMessage. */
  bare: string;
}

export interface ClientFinal {
  /** Decoded c=: gs2-header followed by the channel binding data (for -PLUS). */
  channelBinding: Buffer;
  nonce: string;
  proof: Buffer;
  /** client-final-message-without-proof, part of AuthMessage. */
  withoutProof: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PRINTABLE_NONCE = /^[\x21-\x2B\x2D-\x7E]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ATTR_VAL = /^[A-Za-z]=[^,]+$/;

/** Strict UTF-8; undefined for invalid bytes or a NUL anywhere (RFC 5802 §7 excludes NUL from every value). */
function decodeMessage(message: Buffer): string | undefined {
  try {
    const text = utf8.decode(message);
    return text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}

function decodeBase64(text: string): Buffer | undefined {
  return text.length > 0 && BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}

/** RFC 5802 §5.1 saslname: "=2C" is ",", "=3D" is "=", any other "=" is an error; never empty. */
export function decodeSaslName(name: string): string | undefined {
  if (name.length === 0 || /=(?!2C|3D)/.test(name)) return undefined;
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** RFC 5802 §7 client-first-message; undefined when malformed. */
export function parseClientFirst(message: Buffer): ClientFirst | undefined {
  const text = decodeMessage(message);
  if (text === undefined) return undefined;
  // gs2-header = gs2-cbind-flag "," [authzid] ","; cb-name = 1*(ALPHA / DIGIT / "." / "-")
  const m = /^(n|y|p=[A-Za-z0-9.-]+),(?:a=([^,]*))?,/.exec(text);
  if (!m) return undefined;
  const [gs2Header, flag, authzRaw] = m as unknown as [string, string, string | undefined];
  const cbind: CbindFlag = flag === 'n' || flag === 'y' ? { kind: flag } : { kind: 'p', type: flag.slice(2) };
  const bare = text.slice(gs2Header.length);
  // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]:
  // we know no mandatory extension, so m= is refused like any malformed start.
  const parts = bare.split(',');
  const [user, nonce, ...extensions] = parts;
  if (!user?.startsWith('n=') || !nonce?.startsWith('r=') || !extensions.every((e) => ATTR_VAL.test(e))) return undefined;
  const username = decodeSaslName(user.slice(2));
  const clientNonce = nonce.slice(2);
  if (username === undefined || !PRINTABLE_NONCE.test(clientNonce)) return undefined;
  const first: ClientFirst = { gs2Header, cbind, username, nonce: clientNonce, bare };
  if (authzRaw !== undefined) {
    const authzid = decodeSaslName(authzRaw);
    if (authzid === undefined) return undefined;
    first.authzid = authzid;
  }
  return first;
}

/** RFC 5802 §7 client-final-message = channel-binding "," nonce ["," extensions] "," proof. */
export function parseClientFinal(message: Buffer): ClientFinal | undefined {
  const text = decodeMessage(message);
  if (text === undefined) return undefined;
  const parts = text.split(',');
  if (parts.length < 3) return undefined;
  const [c, r] = parts as [string, string];
  const p = parts[parts.length - 1]!;
  const extensions = parts.slice(2, -1);
  if (!c.startsWith('c=') || !r.startsWith('r=') || !p.startsWith('p=') || !extensions.every((e) => ATTR_VAL.test(e))) return undefined;
  const channelBinding = decodeBase64(c.slice(2));
  const proof = decodeBase64(p.slice(2));
  if (!channelBinding || !proof || r.length === 2) return undefined;
  return { channelBinding, nonce: r.slice(2), proof, withoutProof: text.slice(0, text.length - p.length - 1) };
}

/**
 * RFC 5802 §7 server-first-message; the nonce is the client's followed by ours. Optional attributes follow
 * i= in the order of XEP-0515's example: `h` is XEP-0474's hash of what was advertised, `t` XEP-0515's TLS
 * version. Both are covered by the proof (AuthMessage holds this message), so a relay cannot change them.
 */
export function buildServerFirst(nonce: string, salt: string, iterations: number, extensions: { h?: string; t?: string } = {}): string {
  const h = extensions.h === undefined ? '' : `,h=${extensions.h}`;
  const t = extensions.t === undefined ? '' : `,t=${extensions.t}`;
  return `r=${nonce},s=${salt},i=${iterations}${h}${t}`;
}

/**
 * XEP-0474 §5.1 (SSDP): S = the advertised mechanisms, sorted (i;octet) and joined by U+001E, then,
 * when XEP-0440 listed channel-binding types, U+001F and those types sorted and joined the same way.
 */
export function advertisedString(mechanisms: readonly string[], channelBindings: readonly string[] | undefined): string {
  const sorted = (list: readonly string[]): string => [...list].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join('\x1e');
  return sorted(mechanisms) + (channelBindings === undefined ? '' : `\x1f${sorted(channelBindings)}`);
}

/** RFC 5802 §7 server-final-message (the verifier). */
export function buildServerFinal(serverSignature: Buffer): string {
  return `v=${serverSignature.toString('base64')}`;
}

/** RFC 5802 §3: AuthMessage = client-first-message-bare + "," + server-first-message + "," + client-final-message-without-proof. */
export function authMessage(clientFirstBare: string, serverFirst: string, clientFinalWithoutProof: string): string {
  return `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
}

/** RFC 5802 §3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the proof holds when H(ClientKey) = StoredKey. */
export function verifyClientProof(hash: ScramHash, storedKey: Buffer, message: string, proof: Buffer): boolean {
  const signature = hmac(hash, storedKey, message);
  if (proof.length !== signature.length || storedKey.length !== signature.length) return false;
  const clientKey = Buffer.alloc(proof.length);
  for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ signature[i]!;
  return timingSafeEqual(digest(hash, clientKey), storedKey);
}

/** RFC 5802 §3: ServerSignature = HMAC(ServerKey, AuthMessage). */
export function serverSignature(hash: ScramHash, serverKey: Buffer, message: string): Buffer {
  return hmac(hash, serverKey, message);
}

/**
 * RFC 5802 §6 / RFC 9266: is this gs2-cbind-flag acceptable? `binding` is set
 * for a -PLUS mechanism; `plusOffered` says whether this stream advertised one.
 */
export function checkCbindFlag(cbind: CbindFlag, binding: ChannelBinding | undefined, plusOffered: boolean): ScramFailure | undefined {
  if (binding) return cbind.kind === 'p' && cbind.type === binding.type ? undefined : 'not-authorized';
  // 'p' needs a -PLUS mechanism; the client picked a plain one.
  if (cbind.kind === 'p') return 'malformed-request';
  // 'y': the client supports binding but thinks we do not. We offered it, so someone stripped it: a downgrade.
  if (cbind.kind === 'y' && plusOffered) return 'not-authorized';
  return undefined;
}

/** RFC 5802 §7: c= must carry the gs2-header of the first message, then the binding data for -PLUS. */
export function checkChannelBinding(received: Buffer, gs2Header: string, binding: ChannelBinding | undefined): boolean {
  const expected = Buffer.concat([Buffer.from(gs2Header), binding ? binding.data : Buffer.alloc(0)]);
  return received.length === expected.length && timingSafeEqual(received, expected);
}

export interface ScramExchangeOptions {
  /** Server nonce; 24 random bytes in base64 unless a test passes the RFC examples'. */
  serverNonce?: () => string;
  /** Secret for the fake credentials of unknown users. Share one across the c2s processes of a cluster so they answer alike. */
  fakeSecret?: Buffer;
  /** Iteration count announced for unknown users: the count new credentials get (ServerConfig.scramIterations). */
  fakeIterations?: number;
  /** XEP-0474: the advertised string S (advertisedString); its hash goes into the server-first message. */
  advertised?: string;
  /** XEP-0515: the TLS version under this stream (tlsVersionHex), sent as t= in the server-first message. */
  tlsVersion?: string;
}

/** Per-process default for fake credentials. */
const PROCESS_SECRET = randomBytes(32);

/**
 * Stable fake credentials for a username that has no account: a salt and keys
 * derived from a server secret, so the challenge looks like a real one and the
 * proof check runs the same code, failing only at the end.
 */
function fakeCredentials(secret: Buffer, username: string, iterations: number): ScramCredentials {
  const derive = (label: string, length: number): string => createHmac('sha256', secret).update(`${label}\0${username}`).digest().subarray(0, length).toString('base64');
  const keys = (hash: ScramHash, length: number): ScramKeys => ({ storedKey: derive(`${hash}-stored`, length), serverKey: derive(`${hash}-server`, length) });
  return { salt: derive('salt', 16), iterations, sha1: keys('sha1', 20), sha256: keys('sha256', 32) };
}

type Phase = { kind: 'initial' } | { kind: 'challenged'; first: ClientFirst; serverFirst: string; nonce: string; credentials: ScramCredentials; known: boolean } | { kind: 'done' };

export class ScramServerExchange {
  private phase: Phase = { kind: 'initial' };
  private readonly options: Required<Omit<ScramExchangeOptions, 'advertised' | 'tlsVersion'>>;
  private readonly ssdp: string | undefined;
  private readonly tdp: string | undefined;

  constructor(
    private readonly hash: ScramHash,
    private readonly lookup: (username: string) => Promise<ScramCredentials | undefined>,
    /** Present for the -PLUS mechanisms. */
    private readonly binding?: ChannelBinding,
    /** The server advertised a -PLUS mechanism on this stream (for the 'y' downgrade check). */
    private readonly plusOffered = false,
    options: ScramExchangeOptions = {},
  ) {
    this.options = {
      serverNonce: options.serverNonce ?? (() => randomBytes(24).toString('base64')),
      fakeSecret: options.fakeSecret ?? PROCESS_SECRET,
      fakeIterations: options.fakeIterations ?? 4096,
    };
    this.ssdp = options.advertised === undefined ? undefined : digest(hash, Buffer.from(options.advertised)).toString('base64');
    this.tdp = options.tlsVersion;
  }

  async start(clientFirst: Buffer): Promise<{ ok: true; serverFirst: Buffer } | { ok: false; condition: ScramFailure }> {
    if (this.phase.kind !== 'initial') return this.fail('malformed-request');
    const first = parseClientFirst(clientFirst);
    if (!first) return this.fail('malformed-request');
    const refused = checkCbindFlag(first.cbind, this.binding, this.plusOffered);
    if (refused) return this.fail(refused);

    let stored: ScramCredentials | undefined;
    try {
      stored = await this.lookup(first.username);
    } catch {
      // The store is unreachable: say so rather than pretend the user is unknown.
      return this.fail('temporary-auth-failure');
    }
    // An unknown user gets a challenge all the same, so a probe cannot tell (RFC 5802 §9).
    const credentials = stored ?? fakeCredentials(this.options.fakeSecret, first.username, this.options.fakeIterations);
    const nonce = first.nonce + this.options.serverNonce();
    const serverFirst = buildServerFirst(nonce, credentials.salt, credentials.iterations, {
      ...(this.ssdp !== undefined ? { h: this.ssdp } : {}),
      ...(this.tdp !== undefined ? { t: this.tdp } : {}),
    });
    this.phase = { kind: 'challenged', first, serverFirst, nonce, credentials, known: stored !== undefined };
    return { ok: true, serverFirst: Buffer.from(serverFirst) };
  }

  async finish(clientFinal: Buffer): Promise<{ ok: true; serverFinal: Buffer; username: string; authzid?: string } | { ok: false; condition: ScramFailure }> {
    const phase = this.phase;
    if (phase.kind !== 'challenged') return this.fail('malformed-request');
    this.phase = { kind: 'done' };
    const final = parseClientFinal(clientFinal);
    if (!final) return this.fail('malformed-request');
    if (final.nonce !== phase.nonce) return this.fail('not-authorized');
    if (!checkChannelBinding(final.channelBinding, phase.first.gs2Header, this.binding)) return this.fail('not-authorized');

    const keys = phase.credentials[this.hash];
    const message = authMessage(phase.first.bare, phase.serverFirst, final.withoutProof);
    const proven = verifyClientProof(this.hash, Buffer.from(keys.storedKey, 'base64'), message, final.proof);
    if (!proven || !phase.known) return this.fail('not-authorized');

    const result: { ok: true; serverFinal: Buffer; username: string; authzid?: string } = {
      ok: true,
      serverFinal: Buffer.from(buildServerFinal(serverSignature(this.hash, Buffer.from(keys.serverKey, 'base64'), message))),
      username: phase.first.username,
    };
    if (phase.first.authzid !== undefined) result.authzid = phase.first.authzid;
    return result;
  }

  /** Any failure ends the exchange. */
  private fail(condition: ScramFailure): { ok: false; condition: ScramFailure } {
    this.phase = { kind: 'done' };
    return { ok: false, condition };
  }
}
