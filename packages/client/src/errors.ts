// Errors the client reports, as values with stable codes.

import type { StanzaError, StreamError, TlsVersionHex } from '@switchboard/protocol';

export type ClientErrorCode =
  | 'SB_ERR_AUTH' // wrong credentials, no usable mechanism, or a server that cannot prove it knows the password
  | 'SB_ERR_STREAM' // the server sent a stream error (detail.streamError)
  | 'SB_ERR_NEGOTIATION' // the server's header, features or answers were not what RFC 6120 requires
  | 'SB_ERR_POLICY' // the server does not meet the client's security options (requireTls)
  | 'SB_ERR_DOWNGRADE' // someone in the middle: the advertised mechanisms or channel-binding types were changed on the way (XEP-0474), or TLS is ended in the middle with another version on each side (XEP-0515); detail.downgrade says which
  | 'SB_ERR_TRANSPORT' // the connection failed or closed
  | 'SB_ERR_TIMEOUT' // the server did not answer in time (connect, a negotiation step, an iq)
  | 'SB_ERR_ATTEMPTS' // reconnect attempts exhausted
  | 'SB_ERR_LOOP' // the server ended session after session with a stream error soon after it started
  | 'SB_ERR_INVALID_XML'; // the application tried to send characters XML 1.0 cannot carry

/** What a downgrade check (SB_ERR_DOWNGRADE) found changed on the way. */
export type Downgrade =
  /** XEP-0474: the server's hash of the mechanisms and channel-binding types it advertised differs from what reached us. */
  | { kind: 'advertised-lists' }
  /**
   * XEP-0515: the server's TLS (its t=) is another version than ours: TLS is ended in the middle, each side with a
   * version of the relay's choosing ('0303' TLS 1.2, '0304' TLS 1.3; 'none': no TLS on our side at all).
   */
  | { kind: 'tls-version'; server: TlsVersionHex; client: TlsVersionHex | 'none' };

export interface ClientErrorDetail {
  streamError?: StreamError;
  /** RFC 6120 §6.5: the condition of the server's <failure/>. */
  saslCondition?: string;
  /** SB_ERR_DOWNGRADE: which check found what. */
  downgrade?: Downgrade;
  /** Reconnecting would only repeat the refusal: the machine stops in Disconnected instead of Retrying. */
  fatal?: boolean;
}

/** Brand shared by Switchboard's error classes, across copies of the package. */
export const SWITCHBOARD_ERROR: unique symbol = Symbol.for('switchboard.error') as never;

export class ClientError extends Error {
  readonly [SWITCHBOARD_ERROR] = true;
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly detail: ClientErrorDetail = {},
  ) {
    super(message);
    this.name = 'ClientError';
  }

  get fatal(): boolean {
    return this.detail.fatal === true;
  }
}

/** An iq answered with type='error': the stanza error as a value. */
export class IqError extends Error {
  readonly [SWITCHBOARD_ERROR] = true;
  constructor(readonly error: StanzaError) {
    super(`iq error: ${error.condition}${error.text ? ` (${error.text})` : ''}`);
    this.name = 'IqError';
  }
  get condition(): StanzaError['condition'] {
    return this.error.condition;
  }
}
