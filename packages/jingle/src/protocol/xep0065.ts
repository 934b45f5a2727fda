// XEP-0065 v1.8.2: SOCKS5 Bytestreams, the byte-level part that XEP-0260
// reuses: RFC 1928 with no authentication (§5.3.2), CONNECT to a domain-name
// address that is the hex SHA-1 of sid + requester + target, port 0.
// Pure functions over bytes, so both the Node sockets and the tests use them.

const VER = 0x05;
const NO_AUTH = 0x00;
const NO_ACCEPTABLE = 0xff;
const CMD_CONNECT = 0x01;
const ATYP_DOMAIN = 0x03;
export const REPLY_SUCCEEDED = 0x00;
export const REPLY_GENERAL_FAILURE = 0x01;
export const REPLY_HOST_UNREACHABLE = 0x04;

/** Not enough bytes yet: read more and try again. */
export const MORE = 'more' as const;
export type Read<T> = typeof MORE | { ok: false; reason: string } | ({ ok: true; length: number } & T);

/**
 * XEP-0065 §5.3.2 / XEP-0260 §2.2: DST.ADDR = hex(SHA-1(sid + requester + target)).
 * In XEP-0260 the "requester" is whoever offered the candidate.
 */
export async function dstAddr(sid: string, requester: string, target: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(sid + requester + target));
  let hex = '';
  for (const b of new Uint8Array(digest)) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** RFC 1928 §3: version 5, one method, "no authentication required". */
export function clientGreeting(): Uint8Array {
  return Uint8Array.of(VER, 1, NO_AUTH);
}

export function readClientGreeting(buf: Uint8Array): Read<{ noAuth: boolean }> {
  if (buf.length < 2) return MORE;
  if (buf[0] !== VER) return { ok: false, reason: 'not SOCKS5' };
  const n = buf[1]!;
  if (buf.length < 2 + n) return MORE;
  return { ok: true, length: 2 + n, noAuth: buf.subarray(2, 2 + n).includes(NO_AUTH) };
}

export function methodChoice(noAuth: boolean): Uint8Array {
  return Uint8Array.of(VER, noAuth ? NO_AUTH : NO_ACCEPTABLE);
}

export function readMethodChoice(buf: Uint8Array): Read<{ noAuth: boolean }> {
  if (buf.length < 2) return MORE;
  if (buf[0] !== VER) return { ok: false, reason: 'not SOCKS5' };
  return { ok: true, length: 2, noAuth: buf[1] === NO_AUTH };
}

function addressMessage(first: number, host: string): Uint8Array {
  const name = new TextEncoder().encode(host);
  if (name.length > 255) throw new RangeError('SOCKS5 domain name longer than 255 bytes');
  const out = new Uint8Array(7 + name.length);
  out.set([VER, first, 0x00, ATYP_DOMAIN, name.length]);
  out.set(name, 5);
  // Port 0: XEP-0065 §5.3.2.
  return out;
}

/** RFC 1928 §4: CONNECT to the DST.ADDR domain, port 0. */
export function connectRequest(dst: string): Uint8Array {
  return addressMessage(CMD_CONNECT, dst);
}

/** RFC 1928 §6: the server's reply, echoing the address. */
export function connectReply(status: number, dst: string): Uint8Array {
  return addressMessage(status, dst);
}

function readAddressMessage(buf: Uint8Array): Read<{ code: number; host: string; port: number }> {
  if (buf.length < 5) return MORE;
  if (buf[0] !== VER) return { ok: false, reason: 'not SOCKS5' };
  const code = buf[1]!;
  const atyp = buf[3]!;
  let hostEnd: number;
  let host: string;
  if (atyp === ATYP_DOMAIN) {
    hostEnd = 5 + buf[4]!;
    if (buf.length < hostEnd + 2) return MORE;
    host = new TextDecoder().decode(buf.subarray(5, hostEnd));
  } else if (atyp === 0x01) {
    hostEnd = 8;
    if (buf.length < hostEnd + 2) return MORE;
    host = [...buf.subarray(4, 8)].join('.');
  } else {
    return { ok: false, reason: `address type ${atyp} not used by XEP-0065` };
  }
  const port = (buf[hostEnd]! << 8) | buf[hostEnd + 1]!;
  return { ok: true, length: hostEnd + 2, code, host, port };
}

export function readConnectRequest(buf: Uint8Array): Read<{ command: number; host: string; port: number }> {
  const r = readAddressMessage(buf);
  if (r === MORE || !r.ok) return r;
  return { ok: true, length: r.length, command: r.code, host: r.host, port: r.port };
}

export function readConnectReply(buf: Uint8Array): Read<{ status: number; host: string }> {
  const r = readAddressMessage(buf);
  if (r === MORE || !r.ok) return r;
  return { ok: true, length: r.length, status: r.code, host: r.host };
}

export const CONNECT = CMD_CONNECT;
