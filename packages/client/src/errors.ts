// Errors the client reports, as values with stable codes.

import type { StanzaError, StreamError } from '@switchboard/protocol';

export type ClientErrorCode =
  | 'SB_ERR_AUTH' // wrong credentials or no usable mechanism: the machine stops
  | 'SB_ERR_STREAM' // the server sent a stream error
  | 'SB_ERR_NEGOTIATION' // the server's features or answers were not what RFC 6120 requires
  | 'SB_ERR_TRANSPORT' // the connection failed or closed
  | 'SB_ERR_TIMEOUT'
  | 'SB_ERR_ATTEMPTS'; // reconnect attempts exhausted

/** Brand shared by Switchboard's error classes, across copies of the package. */
export const SWITCHBOARD_ERROR: unique symbol = Symbol.for('switchboard.error') as never;

export class ClientError extends Error {
  readonly [SWITCHBOARD_ERROR] = true;
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly detail?: { streamError?: StreamError; saslCondition?: string },
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/** An iq answered with type='error': the stanza error as a value. */
export class IqError extends Error {
  constructor(readonly error: StanzaError) {
    super(`iq error: ${error.condition}${error.text ? ` (${error.text})` : ''}`);
    this.name = 'IqError';
  }
  get condition(): StanzaError['condition'] {
    return this.error.condition;
  }
}
