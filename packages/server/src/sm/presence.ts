// RFC 6121 §4: the part of presence handling the session itself needs:
// tracking availability and priority. Broadcast to contacts, probes and
// directed-presence tracking come with rosters (issue #3).

import type { Element } from '@switchboard/xml';
import type { PresenceType } from '@switchboard/protocol';
import type { SmSession } from './session.ts';
import type { SessionTable } from './sessions.ts';

/** RFC 6121 §4.7.2.3: an integer from -128 to 127, 0 when absent or invalid. */
export function presencePriority(presence: Element): number {
  const text = presence.getChildText('priority');
  if (text === undefined) return 0;
  const n = Number.parseInt(text.trim(), 10);
  return Number.isInteger(n) && n >= -128 && n <= 127 ? n : 0;
}

/** Presence with no `to`: the session's own availability (§4.2, §4.4, §4.5). */
export function updateOwnPresence(session: SmSession, stanza: Element, type: PresenceType, _sessions: SessionTable): void {
  if (type === 'available') {
    session.presence = stanza;
    session.priority = presencePriority(stanza);
  } else if (type === 'unavailable') {
    session.presence = undefined;
    session.priority = 0;
  }
}
