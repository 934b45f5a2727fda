import { utf8 } from './bytes.ts';
import type { ClientMechanism, Credentials } from './mechanism.ts';
import { saslprep } from './saslprep.ts';

/** RFC 4616. The machine offers it only over TLS unless the application allows otherwise. */
export class PlainClient implements ClientMechanism {
  readonly name = 'PLAIN';
  constructor(private readonly credentials: Credentials) {}

  async initial(): Promise<Uint8Array> {
    const { authzid = '', username, password } = this.credentials;
    return utf8(`${authzid}\u0000${username}\u0000${saslprep(password)}`);
  }

  async challenge(): Promise<Uint8Array> {
    throw new Error('PLAIN has no challenges');
  }

  async success(): Promise<void> {}
}
