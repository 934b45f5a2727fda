// Invitation tokens for in-band registration (XEP-0401 tokens, presented as
// XEP-0445 specifies): an operator makes one (`switchboard invite`), the
// new user's client presents it with `<preauth xmlns='urn:xmpp:pars:0'/>`
// before registering, and it is spent by the account it creates. Kept in
// storage, under the empty username like the server secrets, so any c2s of
// a cluster accepts it and a restart keeps it.

import { randomBytes } from 'node:crypto';
import type { UserDataStore } from '../storage/ports.ts';

const KIND = 'invite';

interface StoredInvite {
  expiresAt: number;
}

export class Invites {
  constructor(
    private readonly store: UserDataStore,
    private readonly host: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new single-use token, valid for `ttlSeconds`. */
  async create(ttlSeconds = 7 * 24 * 3600): Promise<string> {
    const token = randomBytes(18).toString('base64url');
    await this.store.set('', this.host, KIND, token, JSON.stringify({ expiresAt: this.now() + ttlSeconds * 1000 } satisfies StoredInvite));
    return token;
  }

  /** Is `token` a live invitation? (It is not spent by this.) */
  async valid(token: string): Promise<boolean> {
    if (token === '' || token.length > 256) return false;
    const raw = await this.store.get('', this.host, KIND, token);
    if (raw === undefined) return false;
    if ((JSON.parse(raw) as StoredInvite).expiresAt > this.now()) return true;
    await this.store.delete('', this.host, KIND, token);
    return false;
  }

  /**
   * Spends the token; true once only, however many streams race for it.
   * `restore` puts it back when the account could not be created after all.
   */
  async spend(token: string): Promise<{ ok: true; restore(): Promise<void> } | { ok: false }> {
    const raw = await this.store.get('', this.host, KIND, token);
    if (raw === undefined || !(await this.store.delete('', this.host, KIND, token))) return { ok: false };
    if ((JSON.parse(raw) as StoredInvite).expiresAt <= this.now()) return { ok: false };
    return { ok: true, restore: () => this.store.set('', this.host, KIND, token, raw) };
  }
}
