// One line per failed authentication, in a fixed shape a fail2ban filter can
// match (docs/hardening.md has the filter):
//
//   authentication failed from 203.0.113.9 account=alice@example.org mechanism=PLAIN reason=not-authorized
//
// The c2s publishes each failure on the `switchboard:c2s:auth-failed`
// diagnostics channel and hands it to the sink it was given; the server
// writes the line to stderr unless a logger takes its place.

export interface AuthFailure {
  /** The client's address as the socket (or a trusted proxy) reports it. */
  address: string;
  /** Bare JID the attempt was for, when the mechanism got as far as a username. */
  account: string | undefined;
  mechanism: string | undefined;
  /** The SASL condition sent (RFC 6120 §6.5), or `throttled` for an attempt refused by the back-off. */
  reason: string;
  transport: string;
  /** The c2s stream id. */
  stream: string;
  /** For a throttled attempt: how long until attempts are admitted again. */
  retryAfterMs?: number;
}

export type AuthFailureSink = (failure: AuthFailure) => void;

/** Values are written without spaces or quotes so a regex can take them apart. */
function field(value: string | undefined): string {
  return value === undefined || value === '' ? '-' : value.replace(/[\s"=]/g, '?');
}

export function formatAuthFailure(f: AuthFailure): string {
  const retry = f.retryAfterMs === undefined ? '' : ` retry_after_ms=${Math.ceil(f.retryAfterMs)}`;
  return `authentication failed from ${field(f.address)} account=${field(f.account)} mechanism=${field(f.mechanism)} reason=${field(f.reason)} transport=${f.transport} stream=${f.stream}${retry}`;
}
