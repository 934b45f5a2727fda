// RFC 6120 §6 / RFC 4422: a server-side SASL mechanism as a step function.
// The negotiation (sasl/negotiation.ts) owns the XML; mechanisms see bytes.

import type { SaslCondition } from '@switchboard/protocol';

export type { SaslCondition };

export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | { kind: 'success'; username: string; data?: Buffer }
  | {
      kind: 'failure';
      condition: SaslCondition;
      text?: string;
      /** A password (or SCRAM proof) was checked and was wrong: only these count against the stream's limit. */
      passwordChecked?: boolean;
    };

export interface SaslMechanism {
  /** Called with the initial response (or undefined when none was sent), then with each response. */
  step(response: Buffer | undefined): Promise<SaslStep>;
}

export interface SaslContext {
  /** The served domain, for authzid checks. */
  domain: string;
  /** tls-exporter data when TLS 1.3 is active (RFC 9266). */
  channelBinding: Buffer | undefined;
  /**
   * What unknown users are answered with, so they look like real ones (RFC
   * 5802 §9): the iteration count new accounts get, and a stored server
   * secret their stable fake salts are derived from (auth/server-secret.ts).
   */
  unknownUsers?: { secret: Buffer; iterations: number };
  /**
   * XEP-0474 (SSDP): the mechanisms and channel-binding types this stream advertised, as §5.1's
   * string S; SCRAM puts its hash in the server-first message (h=) so the client sees a stripped list.
   */
  advertised?: string;
  /**
   * XEP-0515 (TDP): the TLS version under this stream as four hex digits; SCRAM sends it as t= so a client
   * whose own TLS is another version (a relay speaking TLS 1.2 to one side and 1.3 to the other) stops.
   */
  tlsVersion?: string;
}
