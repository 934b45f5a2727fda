// The sm's modules, in the order they load: this list is the whole
// composition of the sm's features. Each module registers through its
// context (module.ts) on the chains (chains.ts) and the iq registry; none
// receives the SessionManager. Priorities on a shared chain, not this order,
// decide who sees a stanza first (docs/sm-chains.md lists them).

import type { ExternalService } from '../../config.ts';
import { coreIq } from '../builtin-iq.ts';
import type { ModuleHost } from '../module.ts';
import type { UserQuotas } from '../quotas.ts';
import { blocking } from './blocking/index.ts';
import { carbons } from './carbons/index.ts';
import { externalServices } from './external-services.ts';
import { offline } from './offline/index.ts';
import { pep } from './pep/index.ts';
import { inBandRegistration } from './register.ts';
import { mam, type MamOptions } from './mam/index.ts';
import { smallXeps } from './simple-iq.ts';
import { adhoc } from './adhoc/index.ts';

export interface ModuleOptions {
  /** Per-user quotas (quotas.ts). */
  quotas: UserQuotas;
  registration: boolean;
  scramIterations: number;
  /** XEP-0215: STUN/TURN servers for users; none means the module stays out. */
  externalServices: readonly ExternalService[];
  componentDomains(): string[];
  /** XEP-0313 message archive; false leaves the module out. */
  archive: MamOptions | false;
  /** Bare JIDs allowed the XEP-0133 commands. */
  admins: readonly string[];
}

/** Background work of the modules, stopped with the sm. */
export interface InstalledModules {
  stop(): Promise<void>;
}

export function installModules(host: ModuleHost, options: ModuleOptions): InstalledModules {
  host.load(coreIq, undefined); //                  ping, server disco#info, roster (RFC 6121 §2)
  host.load(smallXeps, { componentDomains: options.componentDomains, quotas: options.quotas }); // XEP-0092, 0012, 0054, 0049, 0030
  host.load(blocking, undefined); //                XEP-0191
  const archive = options.archive ? host.load(mam, options.archive) : undefined; // XEP-0313, XEP-0359
  host.load(offline, { quota: options.quotas.offlineMessages, maxBytes: options.quotas.offlineBytes }); // XEP-0160
  host.load(pep, { quotas: options.quotas }); //    XEP-0163
  host.load(carbons, undefined); //                 XEP-0280
  host.load(inBandRegistration, { enabled: options.registration, scramIterations: options.scramIterations }); // XEP-0077
  host.load(externalServices, { services: options.externalServices }); // XEP-0215
  host.load(adhoc, { admins: options.admins }); //   XEP-0050 with the XEP-0133 administration commands
  return { stop: async () => archive?.stop() };
}
