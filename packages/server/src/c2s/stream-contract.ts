// What a client stream and its c2s agree on: the states a stream goes
// through, why it stops, the policy it is given, and what it asks of its
// host. stream.ts re-exports all of it.

import type { Element, ParserLimits } from '@switchboard/xml';
import type { StreamError } from '@switchboard/protocol';
import type { EndReason } from '../router/envelope.ts';
import type { ScramCredentials } from '../storage/ports.ts';
import type { RegisterOutcome } from './register.ts';
import type { AuthGuardHost } from './auth-guard.ts';
import type { C2sStream } from './stream.ts';
import type { FastTokens } from '../auth/fast-tokens.ts';
import type { AckReport } from './stream-management.ts';
import type { CaptchaChallenges } from '../auth/captcha.ts';

export type StreamState =
  | 'awaitingStream'
  | 'awaitingTls'
  | 'negotiatingTls'
  | 'awaitingAuth'
  | 'authenticating'
  | 'awaitingBind'
  | 'binding'
  | 'resuming' // XEP-0198 through the sm: waiting for it to hand over a session held elsewhere
  | 'established'
  | 'hibernating' // XEP-0198: the connection is gone, the session waits to be resumed
  | 'closed';

/** Why a stream stopped (stop_reason in xmpp_stream_in). */
export type StopReason =
  | { stream: StreamError; direction: 'in' | 'out' }
  | { socket: 'closed' | 'idle' | 'tls-failed' }
  | { sm: EndReason }
  | { clientClosed: true }
  | { shutdown: true };

export interface StreamPolicy {
  domain: string;
  limits: Partial<ParserLimits>;
  tlsAvailable: boolean;
  allowPlaintextOnLoopback: boolean;
  /** XEP-0388 SASL2 + XEP-0386 Bind 2 offered (ServerConfig.sasl2). */
  sasl2?: boolean;
  authAttempts: number;
  /** A connection must authenticate and bind within this many ms. */
  loginMs: number;
  /** … and authenticate (SASL) within this many, fewer (issue #18). */
  preAuthMs: number;
  /** Stanzas per second a session may send, and the burst above it (issue #18). */
  stanzaRate: { perSecond: number; burst: number };
  /** The stanza size limit before authentication (characters; the parser's maxStanzaSize after it). */
  preAuthStanzaSize: number;
  bytesPerSecond: number;
  burstBytes: number;
  /** Output the client has not taken yet (transport backlog) past which its stream is closed. */
  maxOutputBytes: number;
  /** XEP-0198: most stanzas and bytes kept unacknowledged for a session. */
  smQueue: { stanzas: number; bytes: number };
  /** XEP-0115 `<c/>` for the server, advertised after authentication. */
  caps?: Element;
  /** XEP-0077 in-band registration is open. */
  registration: boolean;
  /** XEP-0445: registering needs an invitation token. */
  registrationInvites?: boolean;
  /** XEP-0158: registering needs a CAPTCHA answered, unless an invitation was presented (StreamHost.captcha). */
  registrationCaptcha?: boolean;
  /** XEP-0198: how long a resumable session waits for its client to come back. */
  resumeSeconds: number;
  /** XEP-0198: the sm keeps a copy of what it sends resumable sessions, so that any c2s can resume them (docs/protocol.md). */
  resumeThroughSm?: boolean;
  /** XEP-0198: how long an <r/> may go unanswered before the link counts as dead (default 60 s). */
  ackMs?: number;
  /** XEP-0352: most stanzas held while the client is inactive (default 100). */
  csiQueueSize?: number;
  /** SCRAM parameters for unknown users (SaslContext.unknownUsers). */
  unknownUsers?: { secret: Buffer; iterations: number };
  /** XEP-0386 §3.1: the key of stable Bind 2 resources (one per user agent id); random resources without it. */
  bind2Secret?: Buffer;
}

/** What a stream needs from its c2s (the throttle and failure log: auth-guard.ts). */
export interface StreamHost extends AuthGuardHost {
  /** XEP-0484 tokens; FAST is offered (with SASL2) only when present. */
  readonly fastTokens?: FastTokens;
  lookupCredentials(username: string): Promise<ScramCredentials | undefined>;
  /** XEP-0077: creates the account (spending the invitation, when one is required) and tells the sm. */
  registerAccount(username: string, password: string, invite: string | undefined): Promise<RegisterOutcome>;
  /** Counts an attempt to register from `address`; false when it is over its limit. */
  registrationAttempt(address: string): boolean | Promise<boolean>;
  /** XEP-0445: is this a live invitation? */
  validInvite(token: string): Promise<boolean>;
  /** XEP-0158: the pending CAPTCHA challenges, when registering needs one (auth/captcha.ts). */
  readonly captcha?: CaptchaChallenges;
  /**
   * Asks the sm to start a session for this full JID; the answer comes back as sessionStarted/sessionStartFailed.
   * `features`: what the sm turns on for the session before announcing it (XEP-0386 inline XEP-0280 <enable/>).
   */
  startSession(stream: C2sStream, fullJid: string, features?: readonly Element[]): void;
  /** A stanza for the sm, `from` stamped; `text` is the same stanza as text, when the stream has it. */
  forward(stream: C2sStream, stanza: Element, text: string | undefined): void;
  /** Tells the sm the session is over (only called when one was started), handing back what the client never acknowledged. */
  endSession(stream: C2sStream, reason: EndReason, returned: readonly Element[]): void;
  released(stream: C2sStream, reason: StopReason): void;
  /** SASL succeeded: the stream no longer counts as unauthenticated. */
  authenticated(stream: C2sStream): void;
  /** XEP-0198: remember a resumable stream under its token. */
  resumable(stream: C2sStream): void;
  /** XEP-0198: the stream behind `token` if it belongs to `username` and may be resumed; looking changes nothing. */
  resumableFor(token: string, username: string): C2sStream | undefined;
  /** XEP-0198: `successor` answers for `previous`'s session from now on (called only once the resume is valid). */
  takeOver(previous: C2sStream, successor: C2sStream): void;
  /** XEP-0198 through the sm: the stream's session is resumable; the sm keeps a copy of what it sends it. */
  announceResumable(stream: C2sStream): void;
  /** XEP-0198 through the sm: what the client acknowledged, and what entered the queue, since the last report. */
  reportAcks(stream: C2sStream, report: AckReport): void;
  /**
   * XEP-0198 through the sm: a token this c2s does not hold; asks the sm of the stream's user, whose answer
   * comes back as resumeAnswered. False when the token cannot name an sm session (then item-not-found).
   */
  resumeThroughSm(stream: C2sStream, token: string, h: number): boolean;
}

/** The reason the sm is given when a stream stops under a session. */
export function endReasonFor(reason: StopReason): EndReason {
  if ('clientClosed' in reason) return 'closed';
  if ('shutdown' in reason) return 'shutdown';
  if ('sm' in reason) return reason.sm;
  if ('stream' in reason && reason.stream.condition === 'connection-timeout') return 'timeout';
  return 'disconnected';
}
