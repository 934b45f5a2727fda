// One stream's side of the password-guessing defence (auth/throttle.ts):
// it stands between the SASL mechanisms and the credential store, so it
// learns which account each attempt is for before any password is checked,
// refuses the attempt while its address or account is backing off, and
// after each outcome records it, logs a failure and says how long to hold
// the reply.

import type { Element } from '@switchboard/xml';
import type { AuthFailure } from '../auth/auth-log.ts';
import type { Admission } from '../auth/throttle.ts';
import type { LoginThrottle } from '../auth/shared-throttle.ts';
import type { ScramCredentials } from '../storage/ports.ts';

/** Thrown by the guarded lookup; the mechanisms turn a failed lookup into temporary-auth-failure. */
export class AuthThrottled extends Error {
  readonly code = 'SB_ERR_AUTH_THROTTLED';
  constructor(readonly retryAfterMs: number) {
    super('authentication attempts are backing off');
  }
}

export interface AuthGuardHost {
  /** This process's throttle, or the cluster's (auth/shared-throttle.ts). */
  throttle: LoginThrottle;
  authFailed(failure: AuthFailure): void;
}

export class AuthGuard {
  /** The account the current attempt is for, once a mechanism has named it. */
  private account: string | undefined;
  private mechanism: string | undefined;
  private refusal: AuthThrottled | undefined;

  constructor(
    private readonly host: AuthGuardHost,
    private readonly address: string,
    private readonly domain: string,
    private readonly transport: string,
    private readonly stream: string,
  ) {}

  /** A new attempt starts with `<auth mechanism='…'/>`. */
  begin(mechanism: string | undefined): void {
    this.account = undefined;
    this.refusal = undefined;
    this.mechanism = mechanism;
  }

  /** Wraps the credential (or FAST token) lookup the mechanisms call with the prepared username. */
  lookup<T = ScramCredentials | undefined>(username: string, inner: (username: string) => Promise<T>): Promise<T> {
    this.account = `${username}@${this.domain}`;
    const admission = this.host.throttle.admit(this.address, this.account);
    if (admission instanceof Promise) return admission.then((a) => this.admitted(a, username, inner));
    return this.admitted(admission, username, inner);
  }

  private admitted<T>(admission: Admission, username: string, inner: (username: string) => Promise<T>): Promise<T> {
    if (!admission.ok) {
      this.refusal = new AuthThrottled(admission.retryAfterMs);
      return Promise.reject(this.refusal);
    }
    return inner(username);
  }

  /**
   * Records a finished step: a success clears the account's count; a failure
   * is logged, and counted when a password was actually checked. Returns how
   * long to hold the reply.
   */
  settle(result: 'success' | 'failure', reply: Element): number | Promise<number> {
    if (result === 'success') {
      if (this.account !== undefined) this.host.throttle.succeeded(this.account);
      return 0;
    }
    const reason = reply.getChildren()[0]?.name ?? 'failure';
    const failure: AuthFailure = { address: this.address, account: this.account, mechanism: this.mechanism, reason, transport: this.transport, stream: this.stream };
    let holdMs: number | Promise<number> = 0;
    if (this.refusal) {
      failure.reason = 'throttled';
      failure.retryAfterMs = this.refusal.retryAfterMs;
    } else if (this.account !== undefined && reason === 'not-authorized') {
      // Only a wrong password counts: a malformed exchange or an abort tested nothing.
      holdMs = this.host.throttle.failed(this.address, this.account);
    }
    this.host.authFailed(failure);
    this.account = undefined;
    this.refusal = undefined;
    return holdMs;
  }
}
