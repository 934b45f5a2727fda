// Stanzas handed back to the sm whole because no client took them: the 510
// race (a stanza reached a c2s just after its stream ended), a c2s that died
// or could not be reached, a XEP-0198 session whose hibernation expired with
// stanzas unacknowledged. None is dropped silently (docs/protocol.md
// "Nothing lost in flight"): by the time one is rerouted its session is gone,
// so RFC 6121 §8.5 decides again what happens to it.

import type { Element } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { replyWithError, stanzaError } from '@switchboard/protocol';
import { classify, type Classified } from './classify.ts';
import type { SessionTable } from './sessions.ts';

/**
 * The stanzas being decided again: they come from our own c2s, not from a
 * client, so what the sm added to them (the archive's stanza id, XEP-0359)
 * is ours and stays, and modules can tell a second pass from a first.
 */
const returned = new WeakSet<Classified>();

/** This stanza was handed back by a c2s and is being routed again. */
export function isReturned(c: Classified): boolean {
  return returned.has(c);
}

export interface ReturnedDeps {
  domain: string;
  sessions: SessionTable;
  route(c: Classified): void | Promise<void>;
}

export function rerouteReturned(stanza: Element, deps: ReturnedDeps): void | Promise<void> {
  const type = stanza.attrs.type;
  // Presence is state, not a message: contacts learn the session ended through its unavailable presence.
  if (stanza.name === 'presence' || type === 'error') return;
  if (stanza.name === 'iq') {
    if (type === 'result') return;
    // RFC 6121 §8.5.3.2.2: an iq to a full JID with no session is answered service-unavailable.
    const reply = replyWithError(stanza, stanzaError('service-unavailable'));
    return reply ? routeStanza(reply, deps) : undefined;
  }
  if (stanza.name !== 'message') return;
  const to = parseJid(stanza.attrs.to ?? '');
  if (to.ok && to.jid.resource === undefined && to.jid.local !== undefined) {
    // Sent to the bare JID, so every available resource had its copy: only when none is left does it need storing.
    if (deps.sessions.bare(to.jid.bare().toString()).some((s) => s.available)) return;
  }
  // To a full JID whose session is gone: §8.5.3.2.1, another resource or offline storage.
  return routeStanza(stanza, deps);
}

function routeStanza(stanza: Element, deps: ReturnedDeps): void | Promise<void> {
  const result = classify(stanza, deps.domain);
  if (!result.ok) return;
  returned.add(result.value);
  return deps.route(result.value);
}
