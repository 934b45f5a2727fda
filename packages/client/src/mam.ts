// XEP-0313 Message Archive Management on the client: a query over the
// account's archive (or another archive, a MUC room's) as an async iterator
// of messages, one page (XEP-0059) fetched from the server when the previous
// one has been consumed. Result messages are taken only from the archive that
// was asked (§4.2: from its address, or no from for the account's own) and
// only for this query's queryid.

import { xml, type Element } from '@switchboard/xml';
import { mamPrefsElement, mamQueryElement, NS_MAM, parseMamFin, parseMamPrefs, parseMamResult, isStanzaError, type MamPrefs, type MamQuery } from '@switchboard/protocol';
import { ClientError } from './errors.ts';

/** A message read from an archive. */
export interface ArchivedMessage {
  /** The archive's id (its XEP-0359 stanza id). */
  id: string;
  /** The message as it was archived. */
  stanza: Element;
  /** When the archive stored it (XEP-0203 delay of the result). */
  timestamp?: Date;
}

export interface ArchivePage {
  messages: ArchivedMessage[];
  /** §4.3: nothing more in the paging direction. */
  complete: boolean;
  first?: string;
  last?: string;
  count?: number;
}

/** The filters of a query (XEP-0313 §4.1, with #extended); paging is the iterator's. */
export type ArchiveFilter = Omit<MamQuery, 'queryId' | 'max' | 'after' | 'before' | 'flipPage'>;

export interface ArchiveOptions {
  /** The archive to read; the account's own when absent. */
  archive?: string;
  /** Messages per page (default 50). */
  pageSize?: number;
  /** forward: oldest first, from the start; backward: newest first, from the end (default forward). */
  direction?: 'forward' | 'backward';
  /** Start after (forward) or before (backward) this archive id instead of at the end. */
  from?: string;
}

/** What the MAM functions need of the client. */
export interface MamHost {
  readonly jid: string | undefined;
  newId(): string;
  iq(request: Element): Promise<Element>;
  on(event: 'stanza', listener: (el: Element) => void): () => void;
}

/** Fetches one page: `paging` is the RSM part (max, after or before). */
export async function fetchArchivePage(client: MamHost, filter: ArchiveFilter, paging: Pick<MamQuery, 'max' | 'after' | 'before'>, archive?: string): Promise<ArchivePage> {
  const own = client.jid === undefined ? undefined : client.jid.slice(0, client.jid.indexOf('/') < 0 ? undefined : client.jid.indexOf('/'));
  const queryId = client.newId();
  const messages: ArchivedMessage[] = [];
  const off = client.on('stanza', (el) => {
    if (el.name !== 'message') return;
    const from = el.attrs.from;
    if (archive === undefined ? from !== undefined && from !== own : from !== archive) return;
    const result = parseMamResult(el);
    if (!result || result.queryId !== queryId) return;
    messages.push({ id: result.id, stanza: result.forwarded.stanza, ...(result.forwarded.stamp ? { timestamp: result.forwarded.stamp } : {}) });
  });
  try {
    const answer = await client.iq(xml('iq', { type: 'set', to: archive }, mamQueryElement({ ...filter, ...paging, queryId })));
    const fin = parseMamFin(answer.getChild('fin', NS_MAM));
    if (!fin) throw new ClientError('SB_ERR_NEGOTIATION', 'the archive answered without a <fin/>');
    return { messages, complete: fin.complete, ...fin.rsm };
  } finally {
    off();
  }
}

/**
 * Every message of the archive that matches `filter`, in the chosen
 * direction, a page at a time: the next page is asked for only when the
 * loop has taken every message of the previous one. Breaking out of the loop
 * asks for nothing more.
 */
export async function* queryArchive(client: MamHost, filter: ArchiveFilter = {}, options: ArchiveOptions = {}): AsyncGenerator<ArchivedMessage, void, undefined> {
  const max = options.pageSize ?? 50;
  const backward = options.direction === 'backward';
  let cursor = options.from;
  for (;;) {
    const paging = backward ? { max, before: cursor ?? '' } : cursor === undefined ? { max } : { max, after: cursor };
    const page = await fetchArchivePage(client, filter, paging, options.archive);
    const messages = backward ? [...page.messages].reverse() : page.messages;
    for (const m of messages) yield m;
    // A server that says nothing of completeness still ends the walk on an empty page.
    if (page.complete || page.messages.length === 0) return;
    cursor = backward ? (page.first ?? page.messages[0]!.id) : (page.last ?? page.messages.at(-1)!.id);
  }
}

/** §6: the account's archiving preferences. */
export async function getArchivePrefs(client: MamHost): Promise<MamPrefs> {
  const answer = await client.iq(xml('iq', { type: 'get' }, xml('prefs', { xmlns: NS_MAM })));
  return readPrefs(answer);
}

/** §6: sets the preferences; resolves with what the server stored. */
export async function setArchivePrefs(client: MamHost, prefs: MamPrefs): Promise<MamPrefs> {
  const answer = await client.iq(xml('iq', { type: 'set' }, mamPrefsElement(prefs)));
  return readPrefs(answer);
}

function readPrefs(answer: Element): MamPrefs {
  const el = answer.getChild('prefs', NS_MAM);
  const prefs = el && parseMamPrefs(el);
  if (!prefs || isStanzaError(prefs)) throw new ClientError('SB_ERR_NEGOTIATION', 'the archive answered without valid <prefs/>');
  return prefs;
}
