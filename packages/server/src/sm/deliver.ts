// RFC 6121 §8.5: what the server does with a stanza addressed to a local
// user, one named function per row of the table below (laid out as Prosody's
// doc/stanza_routing.txt).
//
//   to bare JID, no such account (§8.5.1)
//     message ............ error service-unavailable
//     presence ........... ignore
//     iq ................. error service-unavailable
//   to bare JID, account exists (§8.5.2)
//     message normal ..... available resources of highest non-negative priority
//     message chat ....... available resources of highest non-negative priority (configurable:
//                          every non-negative one); carbons-enabled ones get a copy (XEP-0280)
//     message headline ... every non-negative available resource
//     message groupchat .. error service-unavailable
//     ...none available .. chat/normal: offline store (#3), else error service-unavailable;
//                          headline: ignore; groupchat: error service-unavailable
//     presence (avail/unavail) every available resource; none: ignore
//     presence error ..... every available resource; none: ignore (as Prosody's mod_presence: the
//                          answer to a subscription request or probe the user's server sent
//                          from the bare JID, e.g. another shard's store was away)
//     presence (subscription, probe) roster rules (#3)
//     iq ................. handled by the server on the account's behalf (iq.ts)
//   to full JID, resource bound (§8.5.3.1)
//     any ................ that session
//   to full JID, no such resource (§8.5.3.2)
//     message normal/chat  as if to the bare JID
//     message groupchat .. error service-unavailable
//     message headline ... ignore
//     presence avail/unavail ignore; subscription types as if to the bare JID
//     iq ................. error service-unavailable
//   error-type stanzas are never answered with an error (RFC 6120 §8.3.1).

import { stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Classified } from './classify.ts';
import type { SmSession } from './session.ts';

/** What deliver decided: hand to sessions, answer with an error, drop, or let the server handle it. */
export type Delivery =
  | { action: 'deliver'; to: readonly SmSession[] }
  | { action: 'error'; error: StanzaError }
  | { action: 'ignore' }
  | { action: 'server' }
  | { action: 'offline' };

export interface DeliveryPolicy {
  /** RFC 6121 §8.5.2.1.1: deliver a chat message to the bare JID to every non-negative resource (true) or only the highest-priority ones (false, the default). */
  chatToAllResources: boolean;
}

const unavailable = (): Delivery => ({ action: 'error', error: stanzaError('service-unavailable') });
const ignore: Delivery = { action: 'ignore' };

/** §8.5.1: no account by that name. */
export function toMissingAccount(c: Classified): Delivery {
  if (c.kind === 'presence') return ignore;
  return unavailable();
}

/** §8.5.2: the account exists; `sessions` are its connected resources. */
export function toBareJid(c: Classified, sessions: readonly SmSession[], policy: DeliveryPolicy): Delivery {
  switch (c.kind) {
    case 'message':
      return messageToBare(c.type, sessions, policy);
    case 'presence':
      return presenceToBare(c.type, sessions);
    case 'iq':
      return { action: 'server' };
  }
}

function messageToBare(type: string, sessions: readonly SmSession[], policy: DeliveryPolicy): Delivery {
  if (type === 'groupchat') return unavailable();
  if (type === 'error') return ignore;
  const candidates = sessions.filter((s) => s.available && s.priority >= 0);
  if (candidates.length === 0) {
    // §8.5.2.2: nobody available (negative priority counts as nobody, §8.5.2.1.1).
    if (type === 'headline') return ignore;
    return { action: 'offline' };
  }
  if (type === 'headline' || (type === 'chat' && policy.chatToAllResources)) return { action: 'deliver', to: candidates };
  return { action: 'deliver', to: highestPriority(candidates) };
}

function highestPriority(sessions: readonly SmSession[]): SmSession[] {
  let best = -Infinity;
  for (const s of sessions) if (s.priority > best) best = s.priority;
  return sessions.filter((s) => s.priority === best);
}

function presenceToBare(type: string, sessions: readonly SmSession[]): Delivery {
  if (type === 'available' || type === 'unavailable' || type === 'error') {
    const available = sessions.filter((s) => s.available);
    return available.length > 0 ? { action: 'deliver', to: available } : ignore;
  }
  // Subscription management and probes are the roster's business (issue #3); until then they are not delivered.
  return ignore;
}

/** §8.5.3: to a full JID. `session` is the bound resource, if any. */
export function toFullJid(c: Classified, session: SmSession | undefined, sessions: readonly SmSession[], policy: DeliveryPolicy): Delivery {
  if (session) return { action: 'deliver', to: [session] };
  switch (c.kind) {
    case 'message':
      if (c.type === 'groupchat') return unavailable();
      if (c.type === 'headline' || c.type === 'error') return ignore;
      return messageToBare(c.type, sessions, policy);
    case 'presence':
      if (c.type === 'available' || c.type === 'unavailable' || c.type === 'error') return ignore;
      return presenceToBare(c.type, sessions);
    case 'iq':
      return unavailable();
  }
}
