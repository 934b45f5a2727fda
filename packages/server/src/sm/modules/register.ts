// XEP-0077 after authentication, answered by the sm for the account itself:
// password change (§3.3) and account removal (§3.2), which goes through the
// same path as `sm:sessions delete`: every session ends (the c2s closes
// them with <not-authorized/>) and all the user's data is removed. A
// password change ends the account's other sessions (<reset/>, as an
// administrator's change does): a password is changed because it may be
// known to someone else, whose session must not outlive it (CWE-613). The
// store drops the account's FAST tokens with the old credentials.

import { xml } from '@switchboard/xml';
import { stanzaError } from '@switchboard/protocol';
import { deriveScramCredentials } from '../../auth/scram-credentials.ts';
import type { AccountStore } from '../../storage/ports.ts';
import type { SmSession } from '../session.ts';
import type { IqRegistry } from '../iq-handlers.ts';
import { defineModule } from '../module.ts';

export const NS_REGISTER = 'jabber:iq:register';

export interface RegisterDeps {
  domain: string;
  enabled: boolean;
  scramIterations: number;
  accounts: AccountStore;
  /** Removes the account after the reply has gone out. */
  removeAccount(username: string): void;
  /** Ends every session of the account but `session`, after the reply has gone out. */
  endOtherSessions(session: SmSession): void;
}

export function registerInBandRegistration(iq: IqRegistry, deps: RegisterDeps): void {
  iq.register({
    xmlns: NS_REGISTER,
    name: 'query',
    targets: ['account', 'host'],
    handler: async (ctx) => {
      if (!deps.enabled) return stanzaError('service-unavailable');
      const session = ctx.session;
      const own = session !== undefined && (ctx.target === 'host' || ctx.account === session.bareJid);
      if (!own || !session) return stanzaError('forbidden');
      if (ctx.type === 'get') return xml('query', { xmlns: NS_REGISTER }, xml('registered'), xml('username', {}, session.username));
      if (ctx.payload.getChild('remove')) {
        deps.removeAccount(session.username);
        return undefined;
      }
      const password = ctx.payload.getChildText('password');
      const username = ctx.payload.getChildText('username');
      if (!password || (username !== undefined && username.toLowerCase() !== session.username)) return stanzaError('bad-request');
      let credentials;
      try {
        credentials = await deriveScramCredentials(password, deps.scramIterations);
      } catch {
        return stanzaError('not-acceptable', { text: 'the password has characters SASLprep prohibits' });
      }
      if (!(await deps.accounts.setCredentials(session.username, deps.domain, credentials))) return stanzaError('item-not-found');
      deps.endOtherSessions(session);
      return undefined;
    },
  });
}

export const inBandRegistration = defineModule<{ enabled: boolean; scramIterations: number }>({
  name: 'register',
  setup(ctx, options) {
    registerInBandRegistration(
      { register: ctx.iq, features: ctx.features },
      {
        domain: ctx.domain,
        enabled: options.enabled,
        scramIterations: options.scramIterations,
        accounts: ctx.storage.accounts,
        // After the result has been routed: the same path as `sm:sessions delete`.
        removeAccount: (username) => setImmediate(() => ctx.removeUser(`${username}@${ctx.domain}`)),
        endOtherSessions: (session) =>
          setImmediate(() => {
            for (const other of [...ctx.sessions.bare(session.bareJid)]) if (other !== session) ctx.admin().endSessions(other.fullJid, 'password-changed');
          }),
      },
    );
  },
});
