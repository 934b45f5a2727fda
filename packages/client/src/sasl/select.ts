import { type ClientMechanism, type Credentials, type MechanismName, MECHANISM_PREFERENCE } from './mechanism.ts';
import { PlainClient } from './plain.ts';
import { ScramClient } from './scram.ts';

export interface SelectOptions {
  offered: readonly string[];
  credentials: Credentials;
  /** Only these, in this order of preference (default: strongest first). */
  allowed?: readonly MechanismName[];
  secure: boolean;
  /** PLAIN without TLS: refused unless the application says so. */
  allowPlainWithoutTls: boolean;
  channelBinding: Uint8Array | undefined;
}

/** Picks the strongest mechanism both sides support and the options allow, or undefined. */
export function selectMechanism(options: SelectOptions): ClientMechanism | undefined {
  const order = options.allowed ?? MECHANISM_PREFERENCE;
  const anyPlusOffered = options.offered.some((m) => m.endsWith('-PLUS'));
  for (const name of order) {
    if (!options.offered.includes(name)) continue;
    switch (name) {
      case 'SCRAM-SHA-256-PLUS':
      case 'SCRAM-SHA-1-PLUS':
        if (!options.channelBinding) continue;
        return new ScramClient(name, name.startsWith('SCRAM-SHA-256') ? 'SHA-256' : 'SHA-1', options.credentials, { data: options.channelBinding });
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-1':
        // 'y' tells a server that offered -PLUS that we could have bound but did not see it offered (downgrade detection).
        return new ScramClient(name, name === 'SCRAM-SHA-256' ? 'SHA-256' : 'SHA-1', options.credentials, {
          supportedButNotOffered: options.channelBinding !== undefined && !anyPlusOffered,
        });
      case 'PLAIN':
        if (!options.secure && !options.allowPlainWithoutTls) continue;
        return new PlainClient(options.credentials);
    }
  }
  return undefined;
}
