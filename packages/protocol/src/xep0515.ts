// XEP-0515 TLS Channel-Binding Downgrade Protection (TDP), §4.1: the TLS
// version of a connection written as its protocol version number (RFC 8446,
// RFC 5246) in four lowercase hex digits. The server puts it in SCRAM's
// server-first message as the optional attribute t= (RFC 5802 §5.1, §7); the
// client compares it with the version of its own TLS connection. A man in the
// middle who speaks TLS 1.2 on one side and TLS 1.3 on the other changes
// which channel-binding types each end sees (§1.1), and cannot rewrite t=
// without breaking the proof, which covers the server-first message.
//
// Node names versions by string (TLSSocket.getProtocol()); both ends read
// them here, so server and client agree on the spelling.

/** §4.1: the four hex digits of a TLS version ('0304' is TLS 1.3). */
export type TlsVersionHex = string;

const BY_PROTOCOL_NAME: Readonly<Record<string, TlsVersionHex>> = {
  'TLSv1.3': '0304',
  'TLSv1.2': '0303',
  'TLSv1.1': '0302',
  TLSv1: '0301',
  SSLv3: '0300',
};

/** The TDP value of a TLS version as Node names it, or undefined for a name we cannot map (then nothing is claimed). */
export function tlsVersionHex(protocol: string | null | undefined): TlsVersionHex | undefined {
  return protocol == null ? undefined : BY_PROTOCOL_NAME[protocol];
}

/** A readable name for a TDP value, for error messages ('0303' → 'TLS 1.2'). */
export function describeTlsVersion(hex: TlsVersionHex): string {
  const n = /^03(0[0-9a-f])$/.exec(hex);
  if (!n) return `TLS version 0x${hex}`;
  const minor = Number.parseInt(n[1]!, 16);
  return minor === 0 ? 'SSL 3.0' : `TLS 1.${minor - 1}`;
}
