// XEP-0313 §4, §5 and §6 on the server: the query form, queries (filters and
// XEP-0059 paging; the results forwarded in order, then <fin/> in the iq
// result), the archive's metadata and preferences. Only the archive's owner
// reads or changes it.

import { Element, parseElement, xml } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { isStanzaError, mamFinElement, mamMetadataElement, mamPrefsElement, mamQueryForm, mamResultMessage, NS_MAM, parseMamPrefs, parseMamQuery, stanzaError, type MamMetadata } from '@switchboard/protocol';
import { archiveEdges, metadataOf, type ArchivePrefs, type MessageArchive } from '../../../storage/archive.ts';
import type { IqContext, IqOutcome } from '../../iq-handlers.ts';
import type { SmSession } from '../../session.ts';
import type { PrefsCache } from './prefs-cache.ts';

export interface QueryDeps {
  domain: string;
  archive: MessageArchive;
  prefs: PrefsCache;
  sendTo(session: SmSession, stanza: Element): void;
  /** Waits for the archive's queued writes, so a query sees every message delivered before it. */
  beforeRead(): Promise<void>;
  /** Largest page served; a larger RSM max is served this many (XEP-0059 §2.1 lets the responder return fewer). */
  maxPage: number;
  /** The page size when the query names none. */
  defaultPage: number;
  /** Most ids one ids filter may name. */
  maxIds: number;
  /** The full-text field is offered (and the text indexed). */
  fullText: boolean;
}

/** The archive is the account's own, asked by one of its sessions (§4: nobody reads another user's archive). */
function owner(ctx: IqContext): { username: string; session: SmSession } | undefined {
  const account = ctx.account;
  if (account === undefined || ctx.session === undefined || ctx.session.bareJid !== account) return undefined;
  return { username: ctx.session.username, session: ctx.session };
}

export async function serveQuery(deps: QueryDeps, ctx: IqContext): Promise<IqOutcome> {
  const who = owner(ctx);
  if (!who) return stanzaError('forbidden', { text: "another user's archive" });
  // §4.1.1: a get asks for the form.
  if (ctx.type === 'get') return xml('query', { xmlns: NS_MAM }, mamQueryForm(deps.fullText));
  const parsed = parseMamQuery(ctx.payload);
  if (!parsed.ok) return parsed.error;
  const q = parsed.query;
  if (q.fullText !== undefined && !deps.fullText) return stanzaError('bad-request', { text: 'unknown field: full-text search is not enabled' });
  let withJid: string | undefined;
  if (q.with !== undefined) {
    const jid = parseJid(q.with);
    if (!jid.ok) return stanzaError('bad-request', { text: 'with is not a JID' });
    withJid = jid.jid.toString();
  }
  if (q.ids && q.ids.length > deps.maxIds) return stanzaError('policy-violation', { text: `at most ${deps.maxIds} ids in one query` });
  const max = Math.min(q.max ?? deps.defaultPage, deps.maxPage);
  await deps.beforeRead();
  const result = await deps.archive.query(who.username, deps.domain, {
    max,
    ...(withJid !== undefined ? { with: withJid } : {}),
    ...(q.start ? { start: q.start } : {}),
    ...(q.end ? { end: q.end } : {}),
    ...(q.afterId !== undefined ? { afterId: q.afterId } : {}),
    ...(q.beforeId !== undefined ? { beforeId: q.beforeId } : {}),
    ...(q.ids ? { ids: q.ids } : {}),
    ...(q.fullText !== undefined ? { fullText: q.fullText } : {}),
    ...(q.after !== undefined ? { after: q.after } : {}),
    ...(q.before !== undefined ? { before: q.before } : {}),
  });
  // §4.1.3 / XEP-0059 §2.5: an id the archive does not hold.
  if (!result.ok) return stanzaError('item-not-found', { text: `${result.id} is not in the archive` });
  const { messages, count, complete } = result.page;
  const ordered = q.flipPage ? [...messages].reverse() : messages;
  const to = who.session.fullJid;
  const from = who.session.bareJid;
  for (const m of ordered) {
    const archived = parseElement(m.stanza);
    if (!(archived instanceof Element)) continue; // the store holds what the server serialised; never expected
    deps.sendTo(who.session, mamResultMessage(to, from, q.queryId, m.id, m.timestamp, archived));
  }
  // §4.3: first and last of the page as sent, the count of the whole set.
  const rsm = ordered.length > 0 ? { first: ordered[0]!.id, last: ordered.at(-1)!.id, count } : { count };
  return mamFinElement({ complete, rsm });
}

export async function servePrefs(deps: QueryDeps, ctx: IqContext): Promise<IqOutcome> {
  const who = owner(ctx);
  if (!who) return stanzaError('forbidden', { text: "another user's archive" });
  if (ctx.type === 'get') return mamPrefsElement(await deps.prefs.get(who.username));
  const prefs = parseMamPrefs(ctx.payload);
  if (isStanzaError(prefs)) return prefs;
  // §6.1: the lists hold JIDs; each is stored in its prepared bare form.
  const clean: ArchivePrefs = { default: prefs.default, always: [], never: [] };
  for (const list of ['always', 'never'] as const) {
    for (const text of prefs[list]) {
      const jid = parseJid(text);
      if (!jid.ok) return stanzaError('bad-request', { text: `${text} is not a JID` });
      const bare = jid.jid.bare().toString();
      if (!clean[list].includes(bare)) clean[list].push(bare);
    }
  }
  await deps.prefs.set(who.username, clean);
  return mamPrefsElement(clean);
}

/**
 * §5: the first and the last message of a user's archive, after what was queued before (read your writes).
 */
export async function archiveMetadata(deps: Pick<QueryDeps, 'archive' | 'domain' | 'beforeRead'>, username: string): Promise<MamMetadata> {
  await deps.beforeRead();
  return metadataOf(await archiveEdges(deps.archive, username, deps.domain));
}

/** §5: `<metadata/>` get, which #extended (advertised) makes required. */
export async function serveMetadata(deps: QueryDeps, ctx: IqContext): Promise<IqOutcome> {
  const who = owner(ctx);
  if (!who) return stanzaError('forbidden', { text: "another user's archive" });
  if (ctx.type !== 'get') return stanzaError('bad-request', { text: 'archive metadata is read with a get' });
  return mamMetadataElement(await archiveMetadata(deps, who.username));
}
