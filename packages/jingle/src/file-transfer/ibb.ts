// XEP-0047 v2.0.1 In-Band Bytestreams as a ByteStream, used through XEP-0261.
//   Sender: <open/> (§2.1, retried with a smaller block-size on
//   resource-constraint), one <data/> iq per block with a 16-bit seq that
//   wraps (§2.2), <close/> (§2.3). Receiver: checks the sid, the block size
//   and that every seq is the next one; anything else closes the stream.

import { stanzaError, type StanzaError } from '@switchboard/protocol';
import { base64ToBytes, bytesToBase64 } from '../protocol/base64.ts';
import type { Element } from '@switchboard/xml';
import { MAX_BLOCK_SIZE, nextSeq, writeIbb, type IbbPayload } from '../protocol/xep0047.ts';
import type { Response } from '../session.ts';
import { ByteStream } from './bytestream.ts';

/** Sends one iq-set with the given payload to the peer and resolves with its answer. */
export type Requester = (payload: Element) => Promise<Response>;

/** Smallest block-size we retry down to after resource-constraint. */
const MIN_BLOCK_SIZE = 256;

export class IbbSender extends ByteStream {
  private seq = 0;
  private broken: string | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    readonly sid: string,
    public blockSize: number,
    private readonly request: Requester,
    /** Data iqs allowed unacknowledged at once (1: strict stop-and-wait). */
    private readonly window = 4,
  ) {
    super();
  }

  /** §2.1: opens the bytestream; on resource-constraint halves the block-size and tries again. */
  async open(): Promise<StanzaError | undefined> {
    for (;;) {
      const r = await this.request(writeIbb({ kind: 'open', sid: this.sid, blockSize: this.blockSize, stanza: 'iq' }));
      if (r.ok) return undefined;
      if (r.error.condition === 'resource-constraint' && this.blockSize > MIN_BLOCK_SIZE) {
        this.blockSize = Math.max(MIN_BLOCK_SIZE, Math.floor(this.blockSize / 2));
        continue;
      }
      this.broken = r.error.condition;
      return r.error;
    }
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.length; at += this.blockSize) {
      while (this.inFlight.size >= this.window) await Promise.race(this.inFlight);
      if (this.broken) throw new Error(`IBB stream broken: ${this.broken}`);
      const block = chunk.subarray(at, Math.min(chunk.length, at + this.blockSize));
      const payload: IbbPayload = { kind: 'data', sid: this.sid, seq: this.seq, data: bytesToBase64(block) };
      this.seq = nextSeq(this.seq);
      const sent: Promise<void> = this.request(writeIbb(payload)).then((r) => {
        this.inFlight.delete(sent);
        if (!r.ok && !this.broken) {
          this.broken = r.error.condition;
          this.emit('error', `data refused: ${r.error.condition}`);
        }
      });
      this.inFlight.add(sent);
    }
    if (this.broken) throw new Error(`IBB stream broken: ${this.broken}`);
  }

  /** §2.3: waits for every data ack, then closes. */
  async end(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.broken) throw new Error(`IBB stream broken: ${this.broken}`);
    await this.request(writeIbb({ kind: 'close', sid: this.sid }));
  }

  destroy(): void {
    this.broken ??= 'destroyed';
  }

  resume(): void {}
}

export class IbbReceiver extends ByteStream {
  private opened = false;
  private closed = false;
  private expectedSeq = 0;
  private resumed = false;
  private readonly buffered: Uint8Array[] = [];
  blockSize = 0;

  constructor(
    readonly sid: string,
    /** The largest block-size we take (§2.1: we answer resource-constraint above it). */
    readonly maxBlockSize = MAX_BLOCK_SIZE,
  ) {
    super();
  }

  /** The answer to one IBB iq for our sid: undefined for a result, or the error to return. */
  handle(p: IbbPayload): StanzaError | undefined {
    if (this.closed) return stanzaError('item-not-found');
    switch (p.kind) {
      case 'open':
        if (this.opened) return stanzaError('not-acceptable', { text: 'already open' });
        if (p.blockSize > this.maxBlockSize) return stanzaError('resource-constraint', { type: 'modify', text: `block-size at most ${this.maxBlockSize}` });
        this.opened = true;
        this.blockSize = p.blockSize;
        return undefined;
      case 'data': {
        if (!this.opened) return stanzaError('item-not-found');
        // §2.2: a seq that is not the next one (repeated or skipped) invalidates the bytestream.
        if (p.seq !== this.expectedSeq) return this.fail(stanzaError('unexpected-request', { text: `seq ${p.seq}, expected ${this.expectedSeq}` }));
        const bytes = base64ToBytes(p.data);
        if (!bytes) return this.fail(stanzaError('bad-request', { text: 'invalid base64' }));
        if (bytes.length > this.blockSize) return this.fail(stanzaError('bad-request', { text: 'larger than block-size' }));
        this.expectedSeq = nextSeq(this.expectedSeq);
        if (this.resumed) this.emit('data', bytes);
        else this.buffered.push(bytes);
        return undefined;
      }
      case 'close':
        this.closed = true;
        this.emit('end', undefined);
        return undefined;
    }
  }

  private fail(err: StanzaError): StanzaError {
    this.closed = true;
    this.emit('error', err.text ?? err.condition);
    return err;
  }

  write(): Promise<void> {
    return Promise.reject(new Error('this IBB stream only receives'));
  }

  end(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  destroy(): void {
    this.closed = true;
  }

  resume(): void {
    this.resumed = true;
    for (const chunk of this.buffered.splice(0)) this.emit('data', chunk);
  }
}

