import { type ClientMechanism, type Credentials, type MechanismName, MECHANISM_PREFERENCE } from './mechanism.ts';
import { PlainClient } from './plain.ts';
import { advertisedString, ScramClient } from './scram.ts';
import type { OwnTlsVersion } from '../transport/transport.ts';

export interface SelectOptions {
  offered: readonly string[];
  credentials: Credentials;
  /** Only these, in this order of preference (default: strongest first). */
  allowed?: readonly MechanismName[];
  secure: boolean;
  /** PLAIN without TLS: refused unless the application says so. */
  allowPlainWithoutTls: boolean;
  /** RFC 9266 tls-exporter data of this connection (TLS 1.3), or undefined. */
  channelBinding: Uint8Array | undefined;
  /**
   * XEP-0440: the channel-binding types the server lists in <sasl-channel-binding/>,
   * or undefined when it does not say. -PLUS is used only when 'tls-exporter' is listed:
   * a server that offers -PLUS without saying which binding it does (Debian's ejabberd 23.01
   * under TLS 1.3 knows only tls-unique) would refuse the proof as a wrong password.
   */
  channelBindingTypes: readonly string[] | undefined;
  /** XEP-0515: the TLS version of this connection, checked against the server's t= (undefined: cannot tell, not checked). */
  tlsVersion?: OwnTlsVersion;
}

/** Picks the strongest mechanism both sides support and the options allow, or undefined. */
export function selectMechanism(options: SelectOptions): ClientMechanism | undefined {
  const order = options.allowed ?? MECHANISM_PREFERENCE;
  const anyPlusOffered = options.offered.some((m) => m.endsWith('-PLUS'));
  // XEP-0474: what reached us, for SCRAM to check against the server's hash; XEP-0515: our TLS version, against its t=.
  const checks = { advertised: advertisedString(options.offered, options.channelBindingTypes), tlsVersion: options.tlsVersion };
  for (const name of order) {
    if (!options.offered.includes(name)) continue;
    switch (name) {
      case 'SCRAM-SHA-256-PLUS':
      case 'SCRAM-SHA-1-PLUS':
        if (!options.channelBinding || !options.channelBindingTypes?.includes('tls-exporter')) continue;
        return new ScramClient(name, name.startsWith('SCRAM-SHA-256') ? 'SHA-256' : 'SHA-1', options.credentials, { data: options.channelBinding }, undefined, checks);
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-1':
        // RFC 5802 §6: 'y' tells the server we could have bound but saw no -PLUS offered, so a server that did
        // offer it detects the stripped list (downgrade). When -PLUS was offered and we chose not to use it (no
        // binding type in common), the honest flag is 'n'.
        return new ScramClient(name, name === 'SCRAM-SHA-256' ? 'SHA-256' : 'SHA-1', options.credentials, {
          supportedButNotOffered: options.channelBinding !== undefined && !anyPlusOffered,
        }, undefined, checks);
      case 'PLAIN':
        if (!options.secure && !options.allowPlainWithoutTls) continue;
        return new PlainClient(options.credentials);
    }
  }
  return undefined;
}
