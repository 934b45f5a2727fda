// Behind a reverse proxy that terminates TLS (docs/operations.md "Behind a
// reverse proxy"): the WebSocket listener speaks plain HTTP to the proxy, and
// the proxy says in its request headers what the client's connection was.
// Those headers are believed only from the addresses configured as proxies
// (`wsTrustedProxies`); from anyone else they are ignored, so a client that
// reaches the plain listener directly is a plain client, never "secure".
//
// Read, nearest proxy first: RFC 7239 `Forwarded` (`proto=`, `for=`), else
// the de facto `X-Forwarded-Proto` and `X-Forwarded-For`. Only the last
// element of a list is used: the one our proxy added; earlier ones were
// written by whoever came before it and prove nothing.

import { BlockList, isIP } from 'node:net';

export interface ForwardedPeer {
  /** The client's address: the proxy's word from a trusted proxy, the socket's otherwise. */
  remoteAddress: string;
  /** A trusted proxy says the client reached it over TLS (https/wss). */
  secure: boolean;
  /** The request came through a configured proxy. */
  viaProxy: boolean;
}

/** Addresses and CIDR ranges (`10.0.0.0/8`, `::1`, `127.0.0.1`) of the proxies whose headers count. */
export function trustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** `::ffff:127.0.0.1` (a v4 peer on a dual-stack socket) is 127.0.0.1. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function isTrusted(list: BlockList, address: string): boolean {
  const plain = plainAddress(address);
  const type = isIP(plain) === 6 ? 'ipv6' : isIP(plain) === 4 ? 'ipv4' : undefined;
  return type !== undefined && list.check(plain, type);
}

function lastOf(header: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(header) ? header.join(',') : header;
  const last = joined?.split(',').at(-1)?.trim();
  return last ? last : undefined;
}

/** RFC 7239 §4: `for=…;proto=…` pairs; a quoted value loses its quotes, an IPv6 `for` its brackets and port. */
function forwardedPairs(element: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    pairs.set(pair.slice(0, eq).trim().toLowerCase(), pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return pairs;
}

function forAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const bracketed = /^\[([^\]]+)\]/.exec(value);
  if (bracketed) return bracketed[1];
  const v4port = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(value);
  const address = v4port ? v4port[1]! : value;
  return isIP(address) ? address : undefined;
}

export function forwardedPeer(
  socketAddress: string,
  headers: Record<string, string | string[] | undefined>,
  proxies: BlockList | undefined,
): ForwardedPeer {
  if (!proxies || !isTrusted(proxies, socketAddress)) return { remoteAddress: socketAddress, secure: false, viaProxy: false };
  const forwarded = lastOf(headers.forwarded);
  const pairs = forwarded ? forwardedPairs(forwarded) : undefined;
  const proto = (pairs?.get('proto') ?? lastOf(headers['x-forwarded-proto']))?.toLowerCase();
  const client = forAddress(pairs?.get('for')) ?? forAddress(lastOf(headers['x-forwarded-for']));
  return { remoteAddress: client ?? socketAddress, secure: proto === 'https' || proto === 'wss', viaProxy: true };
}
