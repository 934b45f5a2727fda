// RFC 5802 / RFC 7677 SCRAM client over WebCrypto, with -PLUS channel
// binding by tls-exporter (RFC 9266). Verifies the server's signature, so a
// server that does not know the keys cannot pretend to.

import { concat, digest, equalBytes, fromBase64, fromUtf8, hmac, pbkdf2, randomNonce, toBase64, utf8, xor, type HashName } from './bytes.ts';
import type { ClientMechanism, Credentials } from './mechanism.ts';
import { saslprep } from './saslprep.ts';

/** RFC 5802 §5.1: "," and "=" in a saslname. */
const escapeName = (name: string): string => name.replace(/=/g, '=3D').replace(/,/g, '=2C');

/** XEP-0474: the server's hash of what it advertised differs from what reached us: someone in the middle changed the list. */
export class DowngradeDetected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DowngradeDetected';
  }
}

/**
 * XEP-0474 §5.1 (SSDP): S = the advertised mechanisms, sorted (i;octet) and joined by U+001E, then,
 * when XEP-0440 listed channel-binding types, U+001F and those types sorted and joined the same way.
 */
export function advertisedString(mechanisms: readonly string[], channelBindings: readonly string[] | undefined): string {
  const sorted = (list: readonly string[]): string => [...list].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join('\x1e');
  return sorted(mechanisms) + (channelBindings === undefined ? '' : `\x1f${sorted(channelBindings)}`);
}

export class ScramClient implements ClientMechanism {
  private readonly gs2Header: string;
  private clientFirstBare = '';
  private serverSignature: Uint8Array | undefined;

  constructor(
    readonly name: string,
    private readonly hash: HashName,
    private readonly credentials: Credentials,
    /** tls-exporter data for -PLUS; for plain SCRAM, whether the client could have bound (gs2 'y'). */
    private readonly binding: { data: Uint8Array } | { supportedButNotOffered: boolean },
    /** Random by default; fixed only to check against the RFCs' examples. */
    private readonly clientNonce: string = randomNonce(),
    /** XEP-0474: the mechanisms and channel-binding types as they reached us (advertisedString). */
    private readonly advertised?: string,
  ) {
    const authz = credentials.authzid ? `a=${escapeName(credentials.authzid)}` : '';
    const flag = 'data' in binding ? 'p=tls-exporter' : binding.supportedButNotOffered ? 'y' : 'n';
    this.gs2Header = `${flag},${authz},`;
  }

  async initial(): Promise<Uint8Array> {
    this.clientFirstBare = `n=${escapeName(this.credentials.username)},r=${this.clientNonce}`;
    return utf8(this.gs2Header + this.clientFirstBare);
  }

  async challenge(data: Uint8Array): Promise<Uint8Array> {
    const serverFirst = fromUtf8(data);
    // RFC 5802 §5.1: a mandatory extension (m=) that the client does not know means failure.
    if (serverFirst.startsWith('m=')) throw new Error('SCRAM: malformed server-first message (unknown mandatory extension)');
    const attrs = new Map(serverFirst.split(',').map((p) => [p.slice(0, 1), p.slice(2)] as const));
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (!nonce || !nonce.startsWith(this.clientNonce) || !salt || !Number.isInteger(iterations) || iterations < 1) {
      throw new Error('SCRAM: malformed server-first message');
    }
    // XEP-0474 §5.2: a server that hashes what it advertised (h=) tells us whether the list was changed on the way.
    // The value is covered by the proof (AuthMessage), so it cannot be stripped or altered without failing the login.
    const h = attrs.get('h');
    if (h !== undefined && this.advertised !== undefined && h !== toBase64(await digest(this.hash, utf8(this.advertised)))) {
      throw new DowngradeDetected('SCRAM: the mechanisms or channel-binding types the server advertised were changed on the way (XEP-0474)');
    }
    const salted = await pbkdf2(this.hash, utf8(saslprep(this.credentials.password)), fromBase64(salt), iterations);
    const clientKey = await hmac(this.hash, salted, utf8('Client Key'));
    const storedKey = await digest(this.hash, clientKey);
    const cbind = 'data' in this.binding ? concat(utf8(this.gs2Header), this.binding.data) : utf8(this.gs2Header);
    const withoutProof = `c=${toBase64(cbind)},r=${nonce}`;
    const authMessage = utf8(`${this.clientFirstBare},${serverFirst},${withoutProof}`);
    const clientSignature = await hmac(this.hash, storedKey, authMessage);
    const serverKey = await hmac(this.hash, salted, utf8('Server Key'));
    this.serverSignature = await hmac(this.hash, serverKey, authMessage);
    return utf8(`${withoutProof},p=${toBase64(xor(clientKey, clientSignature))}`);
  }

  async success(data: Uint8Array | undefined): Promise<void> {
    const text = data ? fromUtf8(data) : '';
    // RFC 5802 §7: server-error.
    if (text.startsWith('e=')) throw new Error(`SCRAM: the server reports ${text.slice(2)}`);
    const v = /^v=([A-Za-z0-9+/=]+)/.exec(text);
    if (!v || !this.serverSignature || !equalBytes(fromBase64(v[1]!), this.serverSignature)) {
      throw new Error('SCRAM: the server signature does not verify');
    }
  }
}
