// The c2s component: owns the client streams of this process, wires them to
// the sm through the router (sm-link.ts) and to the listeners.

import type { Element } from '@switchboard/xml';
import type { EndReason } from '../router/envelope.ts';
import type { Router } from '../router/router.ts';
import type { AccountStore, ScramCredentials } from '../storage/ports.ts';
import { SmLink } from './sm-link.ts';
import type { ShardMap } from '../router/shards.ts';
import { C2sStream, type StopReason, type StreamHost, type StreamPolicy } from './stream.ts';
import type { C2sTransport } from './transport.ts';
import { channels, countStanza } from '../diagnostics.ts';
import { deriveScramCredentials } from '../auth/scram-credentials.ts';
import type { RegisterOutcome } from './register.ts';
import { AuthThrottle } from '../auth/throttle.ts';
import { RegistrationLimiter } from '../auth/registration-limit.ts';
import type { LoginThrottle, RegistrationLimit } from '../auth/shared-throttle.ts';
import type { Invites } from '../auth/invites.ts';
import type { CaptchaChallenges } from '../auth/captcha.ts';
import type { AuthFailure, AuthFailureSink } from '../auth/auth-log.ts';

export interface C2sOptions {
  /** Password-guessing back-off shared by this process's streams (and, in a cluster, by every c2s: auth/shared-throttle.ts). */
  throttle?: LoginThrottle;
  /** Where each failed authentication is reported (besides the diagnostics channel). */
  authFailures?: AuthFailureSink;
  /** XEP-0077 attempts per address (in a cluster, counted by every c2s together). */
  registrationLimit?: RegistrationLimit;
  /** XEP-0445 invitations; required for registering when the policy says so. */
  invites?: Invites;
  /** XEP-0158 challenges for registering (with StreamPolicy.registrationCaptcha). */
  captcha?: CaptchaChallenges;
  /** Limits on unauthenticated connections and the memory budget (connection-gate.ts). */
  gate?: ConnectionGate;
  /** XEP-0484 tokens (with SASL2). */
  fastTokens?: FastTokens;
  /** The cluster's sm shards (default one): each session's envelopes go to its user's shard. */
  shards?: ShardMap;
}
import { log } from '../log-line.ts';
import { ConnectionGate } from './connection-gate.ts';
import type { FastTokens } from '../auth/fast-tokens.ts';
import type { AckReport } from './stream-management.ts';

export class C2s implements StreamHost {
  private readonly streams = new Map<string, C2sStream>();
  /** XEP-0198 resumption tokens of the streams that may be resumed. */
  private readonly resumableStreams = new Map<string, C2sStream>();
  readonly link: SmLink;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  readonly throttle: LoginThrottle;
  private readonly authFailures: AuthFailureSink | undefined;
  private readonly registrationLimit: RegistrationLimit;
  private readonly invites: Invites | undefined;
  readonly gate: ConnectionGate;
  readonly fastTokens: FastTokens | undefined;
  readonly captcha: CaptchaChallenges | undefined;
  /** Streams admitted by the gate that have not authenticated yet. */
  private readonly unauthenticated = new Set<C2sStream>();

  constructor(
    router: Router,
    readonly node: string,
    private readonly policy: StreamPolicy,
    private readonly accounts: AccountStore,
    private readonly scramIterations = 4096,
    options: C2sOptions = {},
  ) {
    this.throttle = options.throttle ?? new AuthThrottle();
    this.authFailures = options.authFailures;
    this.registrationLimit = options.registrationLimit ?? new RegistrationLimiter();
    this.invites = options.invites;
    this.fastTokens = options.fastTokens;
    this.captcha = options.captcha;
    this.gate = options.gate ?? new ConnectionGate({ preAuthPerAddress: 20, preAuthTotal: 1000, preAuthExemptLoopback: true, memoryBudgetBytes: 0 });
    this.link = new SmLink(router, `c2s/${node}`, {
      started: (c2sId, smId, bound) => this.streams.get(c2sId)?.sessionStarted(smId, bound),
      startFailed: (c2sId, condition) => this.streams.get(c2sId)?.sessionStartFailed(condition),
      ended: (c2sId, reason, returned) => {
        const stream = this.streams.get(c2sId);
        if (!stream) return;
        for (const stanza of returned) stream.bounce(stanza);
        if (reason !== undefined) stream.endedBySm(reason);
      },
      bounce: (c2sId, stanza) => this.streams.get(c2sId)?.bounce(stanza),
      smGone: (address, why) => {
        // Only the streams whose sessions are with that sm (its shard's users); unsharded, every stream.
        const affected = [...this.streams.values()].filter((stream) => this.link.smOf(stream.id) === address);
        log('warn', `c2s ${this.node}: ${address} is gone (${why}); closing its ${affected.length} streams`);
        for (const stream of affected) stream.smGone();
      },
      resumeAnswered: (c2sId, smId, answer) => this.streams.get(c2sId)?.resumeAnswered(smId, answer),
      deliver: (c2sId, stanza, text, seq) => {
        const stream = this.streams.get(c2sId);
        if (!stream || (stream.state !== 'established' && stream.state !== 'hibernating')) return false;
        stream.deliver(stanza, text, seq);
        countStanza('out', stanza.name);
        return true;
      },
    }, options.shards);
  }

  async start(keepaliveSeconds: number): Promise<void> {
    await this.link.attach();
    this.keepaliveTimer = setInterval(() => {
      for (const stream of this.streams.values()) stream.keepalive();
    }, keepaliveSeconds * 1000);
    this.keepaliveTimer.unref();
  }

  get connectionCount(): number {
    return this.streams.size;
  }

  accept(transport: C2sTransport): C2sStream {
    const refused = this.gate.admit(transport.remoteAddress, transport.isLoopback);
    const stream = new C2sStream(transport, this.policy, this);
    this.streams.set(stream.id, stream);
    channels.c2sOpen.publish({ id: stream.id, transport: transport.kind, remote: transport.remoteAddress });
    if (refused) stream.fail(refused, 'out');
    else this.unauthenticated.add(stream);
    return stream;
  }

  authenticated(stream: C2sStream): void {
    if (this.unauthenticated.delete(stream)) this.gate.leave(stream.remoteAddress, stream.isLoopback);
  }

  lookupCredentials(username: string): Promise<ScramCredentials | undefined> {
    return this.accounts.getAccount(username, this.policy.domain).then((a) => a?.credentials);
  }

  authFailed(failure: AuthFailure): void {
    channels.c2sAuthFailed.publish(failure);
    this.authFailures?.(failure);
  }

  registrationAttempt(address: string): boolean | Promise<boolean> {
    return this.registrationLimit.attempt(address);
  }

  validInvite(token: string): Promise<boolean> {
    return this.invites ? this.invites.valid(token) : Promise.resolve(false);
  }

  async registerAccount(username: string, password: string, invite: string | undefined): Promise<RegisterOutcome> {
    let credentials;
    try {
      credentials = await deriveScramCredentials(password, this.scramIterations);
    } catch {
      return 'failed';
    }
    let spent: { restore(): Promise<void> } | undefined;
    if (this.policy.registrationInvites) {
      const spend = invite !== undefined && this.invites ? await this.invites.spend(invite) : { ok: false as const };
      if (!spend.ok) return 'invite-invalid';
      spent = spend;
    }
    const created = await this.accounts.createAccount(username, this.policy.domain, credentials);
    if (!created.ok) {
      // The name was taken: the invitation is still good for another.
      await spent?.restore();
      return 'conflict';
    }
    return (await this.link.userAction('create', `${username}@${this.policy.domain}`)) ? 'created' : 'failed';
  }

  startSession(stream: C2sStream, fullJid: string, features?: readonly Element[]): void {
    this.link.start(stream.id, fullJid, features);
  }

  forward(stream: C2sStream, stanza: Element, text: string | undefined): void {
    countStanza('in', stanza.name);
    this.link.forward(stream.id, stream.smId!, stanza, text);
  }

  endSession(stream: C2sStream, reason: EndReason, returned: readonly Element[]): void {
    this.link.end(stream.id, stream.smId!, stream.fullJid ?? '', reason, returned);
  }

  resumable(stream: C2sStream): void {
    this.resumableStreams.set(stream.sm!.token, stream);
  }

  resumableFor(token: string, username: string): C2sStream | undefined {
    const previous = this.resumableStreams.get(token);
    if (!previous || previous.username !== username || (previous.state !== 'hibernating' && previous.state !== 'established')) return undefined;
    return previous;
  }

  announceResumable(stream: C2sStream): void {
    this.link.resumable(stream.id, stream.smId!, stream.fullJid ?? '', stream.sm!.secret, this.policy.resumeSeconds);
  }

  reportAcks(stream: C2sStream, report: AckReport): void {
    this.link.acked(stream.id, stream.smId!, stream.fullJid ?? '', report);
  }

  resumeThroughSm(stream: C2sStream, token: string, h: number): boolean {
    // `<sm session id>.<secret>` (stream-management.ts); the sm is the one of the authenticated user's shard.
    const dot = token.indexOf('.');
    if (!this.policy.resumeThroughSm || dot <= 0 || dot === token.length - 1 || stream.username === undefined) return false;
    this.link.resume(stream.id, token.slice(0, dot), `${stream.username}@${this.policy.domain}`, token.slice(dot + 1), h);
    return true;
  }

  takeOver(previous: C2sStream, successor: C2sStream): void {
    // The successor answers for the session's id from now on.
    this.streams.delete(successor.id);
    this.streams.set(previous.id, successor);
  }

  released(stream: C2sStream, reason: StopReason): void {
    this.authenticated(stream); // no longer counted as unauthenticated, either way
    if (stream.sm) this.resumableStreams.delete(stream.sm.token);
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.link.forget(stream.id);
    channels.c2sClose.publish({ id: stream.id, reason, jid: stream.fullJid });
  }

  /** Destroys every connection at once, without a stream error (an abrupt failure; for operators and tests). */
  dropAll(): void {
    for (const stream of [...this.streams.values()]) stream.drop();
  }

  /**
   * Ends every stream with system-shutdown (RFC 6120 §4.9.3.17), telling the
   * sm of each session first, with the stanzas its client never acknowledged,
   * so that contacts see the user leave and nothing queued is lost.
   */
  async shutdown(): Promise<void> {
    clearInterval(this.keepaliveTimer);
    for (const stream of [...this.streams.values()]) stream.shutdown();
    await this.link.detach();
  }
}
