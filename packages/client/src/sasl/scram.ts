// RFC 5802 / RFC 7677 SCRAM client over WebCrypto, with -PLUS channel
// binding by tls-exporter (RFC 9266). Verifies the server's signature, so a
// server that does not know the keys cannot pretend to. Checks the two
// downgrade attributes of the server-first message before it proves
// anything: XEP-0474's h= (the advertised lists) and XEP-0515's t= (the TLS
// version).

import { describeTlsVersion } from '@switchboard/protocol';
import { concat, digest, equalBytes, fromBase64, fromUtf8, hmac, pbkdf2, randomNonce, toBase64, utf8, xor, type HashName } from './bytes.ts';
import type { ClientMechanism, Credentials } from './mechanism.ts';
import { saslprep } from './saslprep.ts';
import type { OwnTlsVersion } from '../transport/transport.ts';
import type { Downgrade } from '../errors.ts';

/** RFC 5802 §5.1: "," and "=" in a saslname. */
const escapeName = (name: string): string => name.replace(/=/g, '=3D').replace(/,/g, '=2C');

/** Someone in the middle changed what the server said (XEP-0474) or the TLS under it (XEP-0515). */
export class DowngradeDetected extends Error {
  constructor(
    message: string,
    readonly downgrade: Downgrade,
  ) {
    super(message);
    this.name = 'DowngradeDetected';
  }
}

export interface DowngradeChecks {
  /** XEP-0474: the mechanisms and channel-binding types as they reached us (advertisedString). */
  advertised?: string;
  /** XEP-0515: our own TLS version, to compare with the server's t=. */
  tlsVersion?: OwnTlsVersion;
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
    private readonly checks: DowngradeChecks = {},
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
    const advertised = this.checks.advertised;
    if (h !== undefined && advertised !== undefined && h !== toBase64(await digest(this.hash, utf8(advertised)))) {
      throw new DowngradeDetected('SCRAM: the mechanisms or channel-binding types the server advertised were changed on the way (XEP-0474)', { kind: 'advertised-lists' });
    }
    // XEP-0515 §4.2: a server that states its TLS version (t=) tells us whether TLS was ended in the middle with
    // another version on each side (which changes the channel-binding types each end sees). Covered by the proof
    // like h=. A server that does not send t= (Prosody, ejabberd today) is not checked; neither is a transport
    // that cannot tell its own version (a browser's WebSocket).
    const t = attrs.get('t');
    const own = this.checks.tlsVersion;
    if (t !== undefined && own !== undefined && t !== own) {
      const ours = own === 'none' ? 'no TLS' : describeTlsVersion(own);
      throw new DowngradeDetected(
        `SCRAM: the server's TLS is ${describeTlsVersion(t)} and ours is ${ours}: TLS is ended in the middle (XEP-0515)`,
        { kind: 'tls-version', server: t, client: own },
      );
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
