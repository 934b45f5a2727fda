// RFC 4616 PLAIN: [authzid] NUL authcid NUL passwd. Offered only over TLS
// (or, as a development setting, on loopback), and checked against the stored
// SCRAM keys, so no password is ever kept (auth/scram-credentials.ts).

import { prepareLocalpart } from '@switchboard/jid';
import { verifyPlainPassword } from '../../auth/scram-credentials.ts';
import type { ScramCredentials } from '../../storage/ports.ts';
import type { SaslContext, SaslMechanism, SaslStep } from './mechanism.ts';

export class PlainMechanism implements SaslMechanism {
  constructor(
    private readonly context: SaslContext,
    private readonly lookup: (username: string) => Promise<ScramCredentials | undefined>,
  ) {}

  async step(response: Buffer | undefined): Promise<SaslStep> {
    if (response === undefined) return { kind: 'challenge', data: Buffer.alloc(0) };
    const parts = response.toString('utf8').split('\u0000');
    if (parts.length !== 3) return { kind: 'failure', condition: 'malformed-request' };
    const [authzid, authcid, password] = parts as [string, string, string];
    const username = prepareLocalpart(authcid);
    if (username === undefined || password.length === 0) return { kind: 'failure', condition: 'not-authorized', passwordChecked: true };
    if (authzid !== '' && authzid !== `${username}@${this.context.domain}`) return { kind: 'failure', condition: 'invalid-authzid' };
    let credentials;
    try {
      credentials = await this.lookup(username);
    } catch {
      // The store is unreachable, or attempts are backing off (c2s/auth-guard.ts): the same answer SCRAM gives.
      return { kind: 'failure', condition: 'temporary-auth-failure' };
    }
    // An unknown user costs the same key derivation as a wrong password, so timing does not tell which.
    if (!(await verifyPlainPassword(credentials, password, this.context.unknownUsers?.iterations))) return { kind: 'failure', condition: 'not-authorized', passwordChecked: true };
    return { kind: 'success', username };
  }
}
