// IQs to an occupant's JID (XEP-0045 §7.5 "IQ to an occupant"): XEP-0410
// self-ping is answered by the service; anything else from an occupant goes
// to the target occupant's current session with the sender's occupant JID as
// `from` and a fresh id, and its answer comes back the same way. Non-occupants
// get not-acceptable (XEP-0410 §3 relies on it to tell a client it left).

import type { Element } from '@switchboard/xml';
import type { Jid } from '@switchboard/jid';
import { NS_PING, iqPayload, iqResult, stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Room } from './room.ts';

interface Pending {
  room: Room;
  /** The asker's real JID and its id. */
  from: string;
  id: string;
  /** The occupant JID the question was addressed to. */
  to: string;
}

/** Forwarded IQs awaiting an answer, bounded: the oldest are forgotten first. */
const pending = new Map<string, Pending>();
const MAX_PENDING = 10_000;
let counter = 0;

export function occupantIq(room: Room, stanza: Element, from: Jid, nick: string): StanzaError | undefined {
  const asker = room.byRealJid.get(from.toString());
  if (!asker) return stanzaError('not-acceptable', { text: 'you are not in this room' });
  const payload = iqPayload(stanza);
  // XEP-0410 §3.2: a ping to one's own occupant JID is answered here.
  if (asker.nick === nick && payload?.attrs.xmlns === NS_PING && stanza.attrs.type === 'get') {
    room.host.send(iqResult(stanza));
    return undefined;
  }
  const target = room.occupants.get(nick);
  if (!target) return stanzaError('item-not-found');
  const id = `muc-fwd-${(++counter).toString(36)}`;
  if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
  pending.set(id, { room, from: from.toString(), id: stanza.attrs.id!, to: room.occupantJid(nick) });
  room.host.send(stanza.withAttrs({ from: room.occupantJid(asker.nick), to: target.primary, id }));
  return undefined;
}

/** The answer to a forwarded IQ goes back to whoever asked, from the occupant JID they asked. */
export function occupantIqReply(room: Room, stanza: Element, from: Jid, nick: string): void {
  void nick;
  const id = stanza.attrs.id ?? '';
  const entry = pending.get(id);
  if (!entry || entry.room !== room) return;
  // Only the occupant asked may answer (answers are accepted only from whom they were asked).
  const answerer = room.byRealJid.get(from.toString());
  if (!answerer || entry.to !== room.occupantJid(answerer.nick)) return;
  pending.delete(id);
  room.host.send(stanza.withAttrs({ from: entry.to, to: entry.from, id: entry.id }));
}
