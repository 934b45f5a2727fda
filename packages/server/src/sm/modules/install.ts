// The sm's modules, installed in this visible order: built-in iq handlers,
// rosters, the small server XEPs, blocking, PEP, in-band registration,
// external services (XEP-0215).
// Each receives typed handles, never the SessionManager itself.

import type { Element } from '@switchboard/xml';
import { NS_ROSTER } from '@switchboard/protocol';
import type { ExternalService } from '../../config.ts';
import type { Storage } from '../../storage/ports.ts';
import { registerBuiltinIq } from '../builtin-iq.ts';
import type { InstantMessaging } from '../im.ts';
import type { IqHandlers } from '../iq-handlers.ts';
import type { Rosters } from '../roster.ts';
import type { SmSession } from '../session.ts';
import type { SessionTable } from '../sessions.ts';
import { BlockLists, registerBlocking } from './blocking.ts';
import { registerExternalServices } from './external-services.ts';
import { Pep, registerPep } from './pep.ts';
import { registerInBandRegistration } from './register.ts';
import { registerSimpleIq, type SimpleIqDeps } from './simple-iq.ts';

export interface ModuleHost {
  domain: string;
  storage: Storage;
  iq: IqHandlers;
  sessions: SessionTable;
  rosters: Rosters;
  im: InstantMessaging;
  registration: boolean;
  scramIterations: number;
  /** XEP-0215: STUN/TURN servers for users; none means the module stays out. */
  externalServices: readonly ExternalService[];
  componentDomains(): string[];
  sendTo(session: SmSession, stanza: Element): void;
  queryClient(to: string, payload: Element): Promise<Element | undefined>;
  /** Removes an account through the `sm:sessions delete` path. */
  removeUser(bareJid: string): void;
}

export interface InstalledModules {
  simpleIq: SimpleIqDeps;
  blocking: BlockLists;
  pep: Pep;
}

export function installModules(host: ModuleHost): InstalledModules {
  const { iq, domain, storage, sessions, rosters } = host;
  registerBuiltinIq(iq);
  iq.register({ xmlns: NS_ROSTER, name: 'query', targets: ['account'], handler: (ctx) => host.im.rosterIq(ctx) });
  iq.feature('host', 'urn:xmpp:features:rosterver');

  const simpleIq: SimpleIqDeps = { domain, userData: storage.userData, rosters, sessions, startedAt: Date.now(), componentDomains: host.componentDomains };
  registerSimpleIq(iq, simpleIq);

  const blocking = new BlockLists({
    domain,
    userData: storage.userData,
    sessions,
    sendTo: host.sendTo,
    sendUnavailableTo: (username, jid) => host.im.sendUnavailableTo(`${username}@${domain}`, jid),
  });
  registerBlocking(iq, blocking);

  const pep = new Pep({ domain, userData: storage.userData, rosters, sessions, sendTo: host.sendTo, query: host.queryClient });
  registerPep(iq, pep);

  registerInBandRegistration(iq, {
    domain,
    enabled: host.registration,
    scramIterations: host.scramIterations,
    accounts: storage.accounts,
    // After the result has been routed: the same path as `sm:sessions delete`.
    removeAccount: (username) => setImmediate(() => host.removeUser(`${username}@${domain}`)),
  });

  registerExternalServices(iq, { services: host.externalServices });
  return { simpleIq, blocking, pep };
}
