// How the c2s closes a stream when the sm ends its session: the sm gives a
// typed reason, and this table is the one place that turns it into what the
// client sees (RFC 6120 §4.9.3).

import { streamError, type StreamError } from '@switchboard/protocol';
import type { EndReason } from '../router/envelope.ts';

/** undefined: close the stream cleanly, without an error. */
export function streamErrorFor(reason: EndReason): StreamError | undefined {
  switch (reason) {
    case 'replaced':
      return streamError('conflict', 'Replaced by a new session for the same resource');
    case 'taken-over':
      // XEP-0198 §5: the session was resumed on another connection (through another c2s); this stream is not it.
      return streamError('conflict', 'The session was resumed on another connection');
    case 'account-removed':
      // RFC 6120 §4.9.3.12: the entity is no longer authorized (Prosody closes a deleted account's sessions so too).
      return streamError('not-authorized', 'The account was removed');
    case 'account-disabled':
      return streamError('not-authorized', 'The account was disabled');
    case 'password-changed':
      // RFC 6120 §4.9.3.16: the credentials the stream was authenticated with were revoked during its life;
      // the client may reconnect and must authenticate again (with the new password). Prosody does the same.
      return streamError('reset', 'The password was changed; log in again');
    case 'kicked':
      // RFC 6120 §4.9.3.14: local service policy (an administrator's decision), as ejabberd's kick_session.
      return streamError('policy-violation', 'The session was ended by an administrator');
    case 'shutdown':
      return streamError('system-shutdown');
    case 'timeout':
    case 'dead-link':
      return streamError('connection-timeout');
    case 'reset':
      // RFC 6120 §4.9.3.16: the session is gone behind the stream; the client must log in again.
      return streamError('reset', 'The session manager lost this session; log in again');
    case 'disconnected':
    case 'closed':
      return undefined;
  }
}
