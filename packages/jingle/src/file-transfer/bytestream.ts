// The data path a file travels over, whatever the transport: XEP-0047 IBB
// over the signalling connection, an XEP-0065 SOCKS5 connection, and later a
// WebRTC data channel. Reliable and in order (XEP-0166 §8 "streaming").

import { Emitter } from '../emitter.ts';

export interface ByteStreamEvents {
  data: Uint8Array;
  /** The peer closed in an orderly way. */
  end: undefined;
  /** The stream broke; no more data will come. */
  error: string;
}

export abstract class ByteStream extends Emitter<ByteStreamEvents> {
  /** Sends a chunk; resolves when the transport can take more (flow control), rejects if the stream broke. */
  abstract write(chunk: Uint8Array): Promise<void>;
  /** Orderly close after the last chunk. */
  abstract end(): Promise<void>;
  /** Drops the stream at once. */
  abstract destroy(): void;
  /** Starts delivering `data`; what arrived before is kept until then. */
  abstract resume(): void;
}
