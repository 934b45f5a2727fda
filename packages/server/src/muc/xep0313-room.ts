// XEP-0313 on the room's JID (§4 "Querying a MUC archive"): the room's
// messages live in the same archive store as users' (storage/archive.ts),
// keyed by the room's localpart and the service's domain, and are read with
// the same filters and XEP-0059 paging. Who may read follows who may enter:
// a members-only room's archive is for its members, an open room's for
// anyone not banned.

import { Element, parseElement, xml } from '@switchboard/xml';
import type { Jid } from '@switchboard/jid';
import { mamFinElement, mamMetadataElement, mamQueryForm, mamResultMessage, NS_MAM, parseMamQuery, stanzaError, type StanzaError } from '@switchboard/protocol';
import { archiveEdges, metadataOf, type MessageArchive } from '../storage/archive.ts';
import type { Room } from './room.ts';

const MAX_PAGE = 100;
const DEFAULT_PAGE = 20;

/** Who may read the room's archive: who may enter it (members of a members-only room; anyone not banned from an open one). */
function readRefused(room: Room, from: Jid): StanzaError | undefined {
  const affiliation = room.affiliation(from.bare().toString());
  if (affiliation === 'outcast' || (room.config.membersOnly && affiliation === 'none')) return stanzaError('forbidden', { type: 'auth', text: "this room's archive is for its members" });
  return undefined;
}

/** §5: the room archive's first and last message (the room advertises #extended, which requires it). */
export async function roomArchiveMetadata(room: Room, stanza: Element, from: Jid, archive: MessageArchive): Promise<Element | StanzaError> {
  const refused = readRefused(room, from);
  if (refused) return refused;
  if (stanza.attrs.type !== 'get') return stanzaError('bad-request', { text: 'archive metadata is read with a get' });
  const local = room.jid.slice(0, room.jid.indexOf('@'));
  const domain = room.jid.slice(room.jid.indexOf('@') + 1);
  return mamMetadataElement(metadataOf(await archiveEdges(archive, local, domain)));
}

export async function roomArchiveQuery(room: Room, stanza: Element, payload: Element, from: Jid, archive: MessageArchive): Promise<Element | StanzaError> {
  const refused = readRefused(room, from);
  if (refused) return refused;
  if (stanza.attrs.type === 'get') return xml('query', { xmlns: NS_MAM }, mamQueryForm(false));
  const parsed = parseMamQuery(payload);
  if (!parsed.ok) return parsed.error;
  const q = parsed.query;
  if (q.fullText !== undefined) return stanzaError('bad-request', { text: 'full-text search is not offered on rooms' });
  const local = room.jid.slice(0, room.jid.indexOf('@'));
  const domain = room.jid.slice(room.jid.indexOf('@') + 1);
  const result = await archive.query(local, domain, {
    max: Math.min(q.max ?? DEFAULT_PAGE, MAX_PAGE),
    ...(q.with !== undefined ? { with: q.with } : {}),
    ...(q.start ? { start: q.start } : {}),
    ...(q.end ? { end: q.end } : {}),
    ...(q.afterId !== undefined ? { afterId: q.afterId } : {}),
    ...(q.beforeId !== undefined ? { beforeId: q.beforeId } : {}),
    ...(q.ids ? { ids: q.ids } : {}),
    ...(q.after !== undefined ? { after: q.after } : {}),
    ...(q.before !== undefined ? { before: q.before } : {}),
  });
  if (!result.ok) return stanzaError('item-not-found', { text: `${result.id} is not in the archive` });
  const { messages, count, complete } = result.page;
  const ordered = q.flipPage ? [...messages].reverse() : messages;
  const to = from.toString();
  for (const m of ordered) {
    const archived = parseElement(m.stanza);
    if (!(archived instanceof Element)) continue;
    // §4.2: results come from the room's bare JID.
    room.host.send(mamResultMessage(to, room.jid, q.queryId, m.id, m.timestamp, archived));
  }
  const rsm = ordered.length > 0 ? { first: ordered[0]!.id, last: ordered.at(-1)!.id, count } : { count };
  return mamFinElement({ complete, rsm });
}

/** The newest `limit` archived messages, oldest first, for a room loaded from the store. */
export async function recentRoomMessages(archive: MessageArchive, roomJid: string, limit: number): Promise<{ stanza: Element; at: number }[]> {
  if (limit <= 0) return [];
  const local = roomJid.slice(0, roomJid.indexOf('@'));
  const domain = roomJid.slice(roomJid.indexOf('@') + 1);
  const result = await archive.query(local, domain, { max: limit, before: '' });
  if (!result.ok) return [];
  const out: { stanza: Element; at: number }[] = [];
  for (const m of result.page.messages) {
    const el = parseElement(m.stanza);
    if (el instanceof Element) out.push({ stanza: el, at: m.timestamp.getTime() });
  }
  return out;
}
