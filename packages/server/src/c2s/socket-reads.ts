// A socket's reads as text, for the c2s.
//
// Node reads a stream socket into a new Buffer each time and passes it through
// the stream layer (push, StringDecoder, 'data', a nextTick to read more). For
// sockets it creates, Node documents a shorter path, the `onread` option of
// `new net.Socket()`: each read lands in one reusable buffer and goes straight
// to a callback. A socket a server accepted cannot be given that option, so
// it is set up here as the option sets one up: the three properties Node keeps
// it in, found by name on a socket made with the option, and the handle's
// `useUserBuffer`. That is Node's own code path, but reached through its
// internals; where this Node lacks any part of it, reads take the stream path.
// bench/ab.ts measured the server at 0.89× the CPU per chat message with this
// (docs/benchmarks.md, seventh session); socket-reads.test.ts fails if this
// Node no longer takes the short path.

import { isUtf8 } from 'node:buffer';
import { Socket } from 'node:net';

/** How each socket's reads arrive. */
export type ReadPath = 'reusable-buffer' | 'stream';

interface OnreadKeys {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

type Handle = { useUserBuffer?: (buffer: Uint8Array) => void } | null | undefined;

/** One buffer for every socket: a read is decoded to a string before the next can land. */
const shared = Buffer.allocUnsafe(64 * 1024);

/** Where Node keeps a socket's `onread` option, or undefined when this Node does not say. */
function findOnreadKeys(): OnreadKeys | undefined {
  const buffer = Buffer.alloc(1);
  const callback = (): boolean => true;
  // @types/node 20 lists `onread` under connect() only; Node reads it in the constructor.
  const probe = new Socket({ onread: { buffer, callback } } as ConstructorParameters<typeof Socket>[0]);
  const own = probe as unknown as Record<symbol, unknown>;
  const named = new Map(Object.getOwnPropertySymbols(probe).map((s) => [s.description, s]));
  probe.destroy();
  const keys = { buffer: named.get('kBuffer'), callback: named.get('kBufferCb'), generator: named.get('kBufferGen') };
  if (keys.buffer === undefined || keys.callback === undefined || keys.generator === undefined) return undefined;
  // The properties must hold what the option was given, or they are not what we take them for.
  if (own[keys.buffer] !== buffer || own[keys.callback] !== callback || own[keys.generator] !== null) return undefined;
  return keys as OnreadKeys;
}

const onreadKeys = findOnreadKeys();

/**
 * Decodes UTF-8 read by read, holding back a character cut between two reads
 * until the rest of it comes. Bytes that are not UTF-8 (RFC 3629: stray or
 * missing continuation bytes, overlong forms, surrogates, past U+10FFFF) are
 * refused, not turned into U+FFFD as `Buffer.toString` would: RFC 6120 §11.6
 * allows UTF-8 only, and a replaced character would be delivered as if sent.
 */
export class Utf8Reads {
  /** The start of a character cut at the end of the last read: at most three bytes. */
  private held: Buffer | undefined;

  /** The text of `bytes[0, length)`, with any character held from the read before; null if the bytes are not UTF-8. */
  text(bytes: Buffer, length: number): string | null {
    if (this.held !== undefined) {
      bytes = Buffer.concat([this.held, bytes.subarray(0, length)]);
      length = bytes.length;
      this.held = undefined;
    }
    const end = wholeCharacters(bytes, length);
    // A copy: the bytes may be the shared buffer, or a view that would keep a whole read alive.
    if (end < length) this.held = Buffer.from(bytes.subarray(end, length));
    // Node's decoder (WHATWG's) turns every ill-formed sequence into U+FFFD, so text without one was UTF-8, and
    // the common read needs no second pass over its bytes (nor the view that pass needs: ~3 % of the CPU of a chat
    // message, bench/ab.ts). Text with a U+FFFD was either sent as one (EF BF BD) or replaced: simdutf tells which.
    const text = bytes.toString('utf8', 0, end);
    if (text.includes('\uFFFD') && !isUtf8(bytes.subarray(0, end))) return null;
    return text;
  }
}

/** How many leading bytes of `bytes[0, length)` hold whole characters: all but a multi-byte sequence begun and not finished. */
export function wholeCharacters(bytes: Uint8Array, length: number = bytes.length): number {
  if (length === 0 || bytes[length - 1]! < 0x80) return length;
  // Back over continuation bytes (10xxxxxx) to the lead byte of the last sequence.
  const stop = Math.max(0, length - 4);
  for (let i = length - 1; i >= stop; i--) {
    const byte = bytes[i]!;
    if (byte < 0x80) return length; // continuation bytes after ASCII: malformed, decoded as U+FFFD
    if (byte >= 0xc0) {
      if (byte > 0xf4) return length; // never a lead byte: left for the check to refuse
      const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return i + size > length ? i : length;
    }
  }
  return length;
}

/** Calls `onText` with each read of `socket` as text, on the shortest path this Node offers; `onText(null)` for bytes that are not UTF-8. */
export function readText(socket: Socket, onText: (text: string | null) => void): ReadPath {
  const reads = new Utf8Reads();
  const handle = (socket as unknown as { _handle: Handle })._handle;
  if (onreadKeys !== undefined && typeof handle?.useUserBuffer === 'function') {
    const own = socket as unknown as Record<symbol, unknown>;
    own[onreadKeys.buffer] = shared;
    own[onreadKeys.generator] = null;
    own[onreadKeys.callback] = (length: number): void => onText(reads.text(shared, length));
    handle.useUserBuffer(shared);
    return 'reusable-buffer';
  }
  socket.on('data', (bytes: Buffer) => onText(reads.text(bytes, bytes.length)));
  return 'stream';
}

/** No more text from `socket`: its reads now belong to whatever takes it over (a TLS layer). */
export function stopReadingText(socket: Socket): void {
  socket.removeAllListeners('data');
  if (onreadKeys !== undefined) {
    const own = socket as unknown as Record<symbol, unknown>;
    if (own[onreadKeys.buffer] === shared) own[onreadKeys.callback] = (): boolean => true;
  }
}
