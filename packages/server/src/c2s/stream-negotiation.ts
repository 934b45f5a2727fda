// A client stream from its header to bind (RFC 6120 §4.3–§6): the features
// offered at each point, STARTTLS, SASL, and XEP-0077 registration before
// authentication. It moves the stream through these states; the stream
// (stream.ts) still holds the state and is the only way out.

import { xml, type Attrs, type Element } from '@switchboard/xml';
import { NS_SASL, NS_TLS, replyWithError, stanzaError, streamError } from '@switchboard/protocol';
import { channels } from '../diagnostics.ts';
import { bindFeatures, saslFeatures, tlsFeatures } from './features.ts';
import { handlePreauth, handleRegistration, NS_IBR_TOKEN, NS_PARS, NS_REGISTER, NS_REGISTER_FEATURE, type RegistrationOptions } from './register.ts';
import { offeredMechanisms } from './sasl/mechanisms.ts';
import { SaslNegotiation } from './sasl/negotiation.ts';
import { AuthGuard } from './auth-guard.ts';
import { NS_SASL2, readAuthenticate, sasl2Failure, sasl2Feature, type Sasl2Request } from './xep0388.ts';
import { FastLogin } from './fast-login.ts';
import { advertisedString } from '../auth/scram.ts';
import { fastFeature } from './xep0484.ts';
import type { SaslMechanism } from './sasl/mechanism.ts';
import type { FastMechanism } from '../auth/fast-tokens.ts';
import type { StreamHost, StreamPolicy } from './stream-contract.ts';
import type { C2sStream } from './stream.ts';
import type { C2sTransport } from './transport.ts';

/** What negotiation reads and moves on its stream. */
export type NegotiatingStream = Pick<C2sStream, 'id' | 'state' | 'username' | 'type' | 'fail' | 'stop'>;

export class StreamNegotiation {
  private sasl: SaslNegotiation | undefined;
  private readonly guard: AuthGuard;
  /** XEP-0484 on this stream, made with the features (channel binding is known once TLS is up). */
  private fast: FastLogin | undefined;
  /** XEP-0445: the invitation this stream presented, once found valid. */
  private invite: string | undefined;

  constructor(
    private readonly stream: NegotiatingStream,
    private readonly transport: C2sTransport,
    private readonly policy: StreamPolicy,
    private readonly host: StreamHost,
    /** RFC 6120 §4.3.3: after TLS and after SASL the stream starts over, with a fresh parser and header. */
    private readonly restart: () => void,
    /** XEP-0388 §5.6: SASL2 succeeded; no restart: the stream answers with <success/> (and binds inline when asked). */
    private readonly sasl2Succeeded: (additionalData: string | undefined, request: Sasl2Request, inline: Element[]) => void = () => {},
  ) {
    this.guard = new AuthGuard(host, transport.remoteAddress, policy.domain, transport.kind, stream.id);
  }

  /** The header (or `<open/>`) arrived and ours is sent: check it, then offer what comes next. */
  open(attrs: Attrs): void {
    if (attrs.version !== '1.0') return this.stream.fail(streamError('unsupported-version'), 'in');
    if (attrs.to !== undefined && attrs.to.toLowerCase() !== this.policy.domain) return this.stream.fail(streamError('host-unknown'), 'in');
    this.sendFeatures();
  }

  private get plaintextAllowed(): boolean {
    return this.policy.allowPlaintextOnLoopback && this.transport.isLoopback;
  }

  private sendFeatures(): void {
    const stream = this.stream;
    if (stream.username !== undefined) {
      stream.state = 'awaitingBind';
      this.transport.send(bindFeatures(this.policy.caps));
      return;
    }
    const secure = this.transport.secure || this.plaintextAllowed;
    const mechanisms = secure
      ? offeredMechanisms({ channelBinding: this.transport.channelBinding() !== undefined, plainAllowed: true })
      : [];
    const register = this.policy.registration && secure
      ? [xml('register', { xmlns: NS_REGISTER_FEATURE }), this.policy.registrationInvites ? xml('register', { xmlns: NS_IBR_TOKEN }) : undefined]
      : [];
    // XEP-0388: the same mechanisms through SASL2, once the stream is secure, with XEP-0484 inline.
    if (this.policy.sasl2 && mechanisms.length > 0) {
      this.fast = new FastLogin(this.host.fastTokens, this.transport.channelBinding(), this.guard);
      register.push(sasl2Feature(mechanisms, [this.fast.offered.length > 0 ? fastFeature(this.fast.offered) : undefined]));
    }
    this.sasl = new SaslNegotiation(
      mechanisms,
      {
        domain: this.policy.domain,
        channelBinding: this.transport.channelBinding(),
        unknownUsers: this.policy.unknownUsers,
        // XEP-0474: SASL and SASL2 list the same mechanisms here; XEP-0440 lists tls-exporter with -PLUS (features.ts).
        advertised: advertisedString(mechanisms, mechanisms.some((m) => m.endsWith('-PLUS')) ? ['tls-exporter'] : undefined),
        // XEP-0515: the TLS version as this end sees it, for t= in SCRAM's server-first (SASL and SASL2 alike).
        tlsVersion: this.transport.tlsVersion(),
      },
      (u) => this.guard.lookup(u, (name) => this.host.lookupCredentials(name)),
      this.policy.authAttempts,
    );
    if (this.transport.canStartTls && this.policy.tlsAvailable) {
      stream.state = secure ? 'awaitingAuth' : 'awaitingTls';
      this.transport.send(tlsFeatures(!secure, mechanisms, register));
      return;
    }
    if (!secure) return stream.fail(streamError('policy-violation', 'TLS is required and not available here'), 'out');
    stream.state = 'awaitingAuth';
    this.transport.send(saslFeatures(mechanisms, register));
  }

  /** An element while awaiting TLS or authentication. */
  onElement(el: Element): void {
    if (el.name === 'starttls' && el.attrs.xmlns === NS_TLS && this.transport.canStartTls) {
      void this.startTls();
      return;
    }
    if (el.attrs.xmlns === NS_SASL2 && this.sasl && this.policy.sasl2) {
      if (this.sasl.offered.length === 0) {
        this.transport.send(sasl2Failure('encryption-required'));
        return;
      }
      void this.authenticate2(el);
      return;
    }
    if (el.attrs.xmlns === NS_SASL && this.sasl) {
      if (this.sasl.offered.length === 0) {
        this.transport.send(xml('failure', { xmlns: NS_SASL }, xml('encryption-required')));
        return;
      }
      void this.authenticate(el);
      return;
    }
    if (el.name === 'iq' && (el.getChild('query', NS_REGISTER) || el.getChild('preauth', NS_PARS))) {
      void this.register(el);
      return;
    }
    // RFC 6120 §6.4.1 / §5.3.1: no stanzas before authentication.
    this.stream.fail(streamError('not-authorized'), 'out');
  }

  private async register(el: Element): Promise<void> {
    let reply: Element | undefined;
    try {
      const preauth = await handlePreauth(el, { enabled: this.policy.registration && this.policy.registrationInvites === true, validate: (t) => this.host.validInvite(t) });
      if (preauth?.token !== undefined) this.invite = preauth.token;
      reply = preauth ? preauth.reply : await handleRegistration(el, {
        enabled: this.policy.registration,
        secure: this.transport.secure || this.plaintextAllowed,
        admit: () => this.host.registrationAttempt(this.transport.remoteAddress),
        invite: { required: this.policy.registrationInvites === true, token: this.invite },
        create: (username, password, invite) => this.host.registerAccount(username, password, invite),
        captcha: this.captcha(),
      });
    } catch {
      // The store failed: the client is answered all the same.
      reply = replyWithError(el, stanzaError('internal-server-error'));
    }
    if (reply && this.stream.state !== 'closed') this.transport.send(reply.withAttrs({ from: undefined }));
  }

  /** XEP-0158 on this stream: when the policy asks for it and no invitation was presented (docs/hardening.md). */
  private captcha(): RegistrationOptions['captcha'] {
    const challenges = this.host.captcha;
    if (!this.policy.registrationCaptcha || !challenges || this.invite !== undefined) return undefined;
    return {
      from: this.policy.domain,
      issue: () => challenges.issue(this.stream.id, this.transport.remoteAddress),
      check: (id, answer) => challenges.check(id, this.stream.id, answer),
    };
  }

  private async startTls(): Promise<void> {
    this.stream.state = 'negotiatingTls';
    this.transport.send(xml('proceed', { xmlns: NS_TLS }));
    try {
      await this.transport.startTls();
    } catch {
      return this.stream.stop({ socket: 'tls-failed' });
    }
    // Stopped during the handshake (login timeout, server shutdown): nothing to restart.
    if (this.stream.state !== 'negotiatingTls') return;
    this.restart();
  }

  /** The SASL2 request of the exchange under way. */
  private sasl2: Sasl2Request | undefined;

  /** XEP-0388 §5: the RFC 6120 exchange in SASL2's envelope. */
  private async authenticate2(el: Element): Promise<void> {
    let legacy: Element;
    let token: (SaslMechanism & { name: FastMechanism }) | undefined;
    if (el.name === 'authenticate') {
      const request = readAuthenticate(el);
      if (typeof request === 'string') {
        this.transport.send(sasl2Failure('malformed-request', request));
        return;
      }
      // XEP-0484: a token mechanism, a token request, or neither.
      const fast = this.fast?.start(el, request.mechanism, request.userAgentId);
      if (fast && !fast.ok) {
        this.transport.send(sasl2Failure(fast.condition, fast.text));
        return;
      }
      token = fast?.mechanism;
      this.sasl2 = request;
      legacy = xml('auth', { xmlns: NS_SASL, mechanism: request.mechanism }, request.initialResponse);
    } else if (el.name === 'response' && this.sasl2) {
      legacy = xml('response', { xmlns: NS_SASL }, el.text());
    } else if (el.name === 'abort') {
      legacy = xml('abort', { xmlns: NS_SASL });
    } else {
      this.transport.send(sasl2Failure('malformed-request'));
      return;
    }
    await this.authenticate(legacy, true, token);
  }

  /** XEP-0484: the token <success/> carries; a store that fails costs the client its token, not its login. */
  private async fastTokenFor(username: string): Promise<Element[]> {
    try {
      return (await this.fast?.finish(username)) ?? [];
    } catch (err) {
      channels.fastTokenFailed.publish({ id: this.stream.id, username, error: err });
      return [];
    }
  }

  /** XEP-0388 §5: the legacy reply in SASL2's envelope (success is the stream's to send). */
  private static toSasl2(reply: Element): Element {
    if (reply.name === 'challenge') return xml('challenge', { xmlns: NS_SASL2 }, reply.text() || undefined);
    const condition = reply.getChildren().find((c) => c.name !== 'text');
    return sasl2Failure(condition?.name ?? 'not-authorized', reply.getChildText('text'));
  }

  private async authenticate(el: Element, sasl2 = false, token?: SaslMechanism & { name: FastMechanism }): Promise<void> {
    const stream = this.stream;
    const previous = stream.state;
    stream.state = 'authenticating';
    if (el.name === 'auth') this.guard.begin(el.attrs.mechanism);
    const outcome = token ? await this.sasl!.begin(token.name, token, el.text()) : await this.sasl!.handle(el);
    if (stream.state !== 'authenticating') return; // stopped meanwhile
    if (outcome.result !== 'continue') {
      // A wrong password past the free allowance: the reply waits out (part of) the back-off.
      const settled = this.guard.settle(outcome.result, outcome.reply);
      // A cluster's shared count answers after a round trip (auth/shared-throttle.ts); one process's, at once.
      const holdMs = typeof settled === 'number' ? settled : await settled;
      if (stream.state !== 'authenticating') return;
      if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs).unref());
      if (stream.state !== 'authenticating') return;
    }
    if (!sasl2) this.transport.send(outcome.reply);
    else if (outcome.result !== 'success') this.transport.send(StreamNegotiation.toSasl2(outcome.reply));
    if (outcome.result === 'success') {
      stream.username = outcome.username;
      stream.type = 'c2s';
      if (sasl2) {
        const request = this.sasl2!;
        this.sasl2 = undefined;
        this.sasl = undefined;
        channels.c2sAuthenticated.publish({ id: stream.id, username: outcome.username, mechanism: outcome.mechanism, transport: this.transport.kind, remote: this.transport.remoteAddress });
        const inline = await this.fastTokenFor(outcome.username);
        if (stream.state !== 'authenticating') return;
        this.sasl2Succeeded(outcome.reply.text() || undefined, request, inline);
        return;
      }
      channels.c2sAuthenticated.publish({ id: stream.id, username: outcome.username, mechanism: outcome.mechanism, transport: this.transport.kind, remote: this.transport.remoteAddress });
      this.sasl = undefined;
      this.restart();
      return;
    }
    stream.state = previous === 'awaitingTls' ? 'awaitingTls' : 'awaitingAuth';
    if (outcome.result === 'failure' && outcome.attemptsLeft <= 0) {
      stream.fail(streamError('policy-violation', 'too many failed authentication attempts'), 'out');
    }
  }
}
