// Observability outside the hook chain, as undici does it: subscribers attach
// to these channels with node:diagnostics_channel and cost nothing otherwise.
// The logger (log-events.ts) and the metrics (metrics.ts) are subscribers; the
// message types below are what each channel carries.

import { channel } from 'node:diagnostics_channel';

export const channels = {
  c2sOpen: channel('switchboard:c2s:open'),
  c2sClose: channel('switchboard:c2s:close'),
  c2sAuthenticated: channel('switchboard:c2s:authenticated'),
  /** XEP-0484: a token could not be issued or revoked (the store failed); the login went on without it. */
  fastTokenFailed: channel('switchboard:c2s:fast-token-failed'),
  /** Every failed or refused SASL attempt (auth/auth-log.ts AuthFailure). */
  c2sAuthFailed: channel('switchboard:c2s:auth-failed'),
  /** A TLS handshake failed before a stream existed (direct TLS, wss); STARTTLS failures close their stream with socket 'tls-failed'. */
  tlsFailed: channel('switchboard:c2s:tls-failed'),
  smSessionStarted: channel('switchboard:sm:session-started'),
  smSessionEnded: channel('switchboard:sm:session-ended'),
  smDeliver: channel('switchboard:sm:deliver'),
  /** A component (an XEP-0114 component, a service, a c2s or sm seen over the router) came or went. */
  componentState: channel('switchboard:component:state'),
  /** The router's connection (NATS) or the store changed state: connected, disconnected, reconnecting, failed. */
  backendState: channel('switchboard:backend:state'),
  /** An archive transaction failed (XEP-0313 write-behind): its messages were delivered and are not in the archive. */
  archiveWriteFailed: channel('switchboard:archive:write-failed'),
  /** A storage call settled (storage/timed.ts): StorageCallMessage. */
  storageCall: channel('switchboard:storage:call'),
  /** One stanza in 16 from a session, timed from its arrival at the sm to its chain's end (sm.ts): SmStanzaTimedMessage. */
  smStanzaTimed: channel('switchboard:sm:stanza-timed'),
};

export interface StorageCallMessage {
  /** The storage port (accounts, rosters, offline, userData, archive, muc, fastTokens). */
  port: string;
  /** The port's method. */
  op: string;
  seconds: number;
}

export interface SmStanzaTimedMessage {
  /** message, presence or iq. */
  kind: string;
  seconds: number;
}

export interface ArchiveWriteFailedMessage {
  /** Archive entries lost (a message to a local user is two: the sender's and the recipient's). */
  entries: number;
}

/**
 * Stanzas from clients (on to the sm) and to clients, by name: plain numbers
 * on the message path, read when /metrics is scraped. A channel publish and a
 * labelled prom-client increment per stanza cost 10 % of a chat message's
 * server CPU (bench/ab.ts, metrics on vs off: 1.105; with these counts 1.034, 1.021 of it prom-client's default process metrics).
 */
export const stanzaCounts = {
  in: { message: 0, presence: 0, iq: 0 },
  out: { message: 0, presence: 0, iq: 0 },
};

/** Counts a stanza of `name` in one direction; other elements (XEP-0198's, SASL's) are not stanzas. */
export function countStanza(direction: 'in' | 'out', name: string): void {
  const counts = stanzaCounts[direction];
  if (name === 'message' || name === 'presence' || name === 'iq') counts[name]++;
}

export interface C2sOpenMessage {
  id: string;
  transport: string;
  remote: string;
}
export interface C2sCloseMessage {
  id: string;
  /** The c2s StopReason (c2s/stream-contract.ts). */
  reason: object;
  jid?: string;
}
export interface C2sAuthenticatedMessage {
  id: string;
  username: string;
  mechanism: string;
  transport: string;
  remote?: string;
}
export interface TlsFailedMessage {
  remote: string;
  transport: string;
  detail?: string;
}
export interface SmSessionStartedMessage {
  jid: string;
  sm: string;
}
export interface SmSessionEndedMessage {
  jid: string;
  reason: string;
}
export interface ComponentStateMessage {
  /** What it is: 'component' (XEP-0114), 'service', 'c2s', 'sm'. */
  kind: string;
  /** Its domain or router address. */
  name: string;
  state: 'up' | 'down';
  detail?: string;
}
export interface BackendStateMessage {
  backend: 'nats' | 'postgres' | 'sqlite';
  state: 'connected' | 'disconnected' | 'reconnecting' | 'failed' | 'closed';
  detail?: string;
}
