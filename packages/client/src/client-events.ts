// What a Client emits: the event map of Client's Emitter, one entry per event.

import type { Element } from '@switchboard/xml';
import type { MamMetadata } from '@switchboard/protocol';
import type { ClientError } from './errors.ts';
import type { ConnectionState } from './states.ts';
import type { IncomingMessage } from './carbons.ts';

export interface ClientEvents {
  /** Every transition, in order. */
  state: { from: ConnectionState; to: ConnectionState };
  /**
   * Binding: a new session is up (initial presence goes out right after). `archive`: with Bind 2 and the server's
   * archive on (XEP-0386 §3.2), its first and last message as the session was bound (XEP-0313 metadata; both absent
   * for an empty archive), so the app knows where to sync from (`archive({ afterId: … })`).
   */
  online: { jid: string; archive?: MamMetadata };
  /** Binding: the previous session was resumed (XEP-0198); unacknowledged stanzas are re-sent. */
  resumed: { jid: string };
  /** The machine reached Disconnected; `error` says why when it was not disconnect(). */
  offline: { error?: ClientError };
  /** An attempt failed and the machine waits `delayMs` before the next. */
  retrying: { attempt: number; delayMs: number; error: ClientError };
  /** A stanza from the server, while Binded. */
  stanza: Element;
  /** A message for the application (carbons unwrapped, forged ones and archive results left out): carbons.ts. */
  message: IncomingMessage;
  /** An attempt failed (emitted before `retrying` or `offline`). */
  error: ClientError;
  /** A stanza the server ended the stream over (a stream error that blames it); it is not sent again. */
  refused: { stanza: Element; error: ClientError };
}
