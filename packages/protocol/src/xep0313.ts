// XEP-0313 Message Archive Management (urn:xmpp:mam:2, v1.1 with #extended):
// the query a client sends (§4.1: a XEP-0004 form and XEP-0059 paging), the
// results the server forwards (§4.2), the <fin/> after them (§4.3), the
// archive's metadata (§5, #extended; also inside XEP-0386's <bound/>), and
// preferences (§6). Both the server and the client library use these.

import { Element, xml } from '@switchboard/xml';
import { stanzaError, type StanzaError } from './errors.ts';
import { formElement, NS_DATA_FORMS, readFormFields, type FormField } from './xep0004.ts';
import { NS_RSM, parseRsmRequest, parseRsmResult, rsmRequestElement, rsmResultElement, type RsmResult } from './xep0059.ts';
import { forwardedElement, parseDateTime, parseForwarded, type Forwarded } from './xep0297.ts';

export const NS_MAM = 'urn:xmpp:mam:2';
export const NS_MAM_EXTENDED = 'urn:xmpp:mam:2#extended';
/** ejabberd's full-text search field, which we offer too. */
export const FULLTEXT_FIELD = '{urn:xmpp:fulltext:0}fulltext';

/** A query as the client means it: filters, paging, and its query id. */
export interface MamQuery {
  queryId?: string;
  /** A JID as text: the server checks it (a `with` that is not a JID is bad-request). */
  with?: string;
  start?: Date;
  end?: Date;
  afterId?: string;
  beforeId?: string;
  ids?: string[];
  fullText?: string;
  max?: number;
  /** RSM: after this id; or before this id, or with '' the last page. */
  after?: string;
  before?: string;
  /** §4.1.4 (#extended): the page's messages newest first. */
  flipPage?: boolean;
}

const FIELDS = ['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids', FULLTEXT_FIELD] as const;

/** The form a server offers for `<query/>` gets (§4.1.1, §4.1.3 for the extended fields). */
export function mamQueryForm(fullText = true): Element {
  const field = (v: string, type: string, label?: string): FormField => ({ var: v, type, values: [], ...(label ? { label } : {}) });
  return formElement('form', [
    { var: 'FORM_TYPE', type: 'hidden', values: [NS_MAM] },
    field('with', 'jid-single'),
    field('start', 'text-single'),
    field('end', 'text-single'),
    field('before-id', 'text-single'),
    field('after-id', 'text-single'),
    field('ids', 'text-multi'),
    ...(fullText ? [field(FULLTEXT_FIELD, 'text-single', 'Search for words')] : []),
  ]);
}

export type MamQueryParse = { ok: true; query: MamQuery } | { ok: false; error: StanzaError };

const bad = (text: string): MamQueryParse => ({ ok: false, error: stanzaError('bad-request', { text }) });

/**
 * Reads a `<query xmlns='urn:xmpp:mam:2'>` as a server must: an unknown field,
 * a bad date or bad RSM values are bad-request (§4.1.1, XEP-0059 §2); RSM
 * index paging is feature-not-implemented. The `with` JID is left for the
 * caller to check.
 */
export function parseMamQuery(query: Element): MamQueryParse {
  const out: MamQuery = {};
  if (query.attrs.queryid !== undefined) out.queryId = query.attrs.queryid;
  for (const child of query.getChildren()) {
    if (child.is('x', NS_DATA_FORMS)) {
      const type = child.attrs.type;
      if (type !== undefined && type !== 'submit') return bad('the form is not a submitted form');
      for (const field of readFormFields(child)) {
        const name = field.var as (typeof FIELDS)[number];
        if (!FIELDS.includes(name)) return bad(`unknown field ${field.var}`);
        const one = field.values[0];
        if (name === 'ids') {
          out.ids = field.values;
          continue;
        }
        if (field.values.length > 1) return bad(`field ${name} has more than one value`);
        if (one === undefined) continue;
        switch (name) {
          case 'FORM_TYPE':
            if (one !== NS_MAM) return bad(`FORM_TYPE is not ${NS_MAM}`);
            break;
          case 'with':
            out.with = one;
            break;
          case 'start':
          case 'end': {
            const date = parseDateTime(one);
            if (!date) return bad(`${name} is not a XEP-0082 date and time`);
            out[name] = date;
            break;
          }
          case 'before-id':
            out.beforeId = one;
            break;
          case 'after-id':
            out.afterId = one;
            break;
          case FULLTEXT_FIELD:
            out.fullText = one;
            break;
        }
      }
    } else if (child.is('set', NS_RSM)) {
      const rsm = parseRsmRequest(child);
      if (!rsm.ok) return bad(rsm.text);
      if (rsm.value.index !== undefined) return { ok: false, error: stanzaError('feature-not-implemented', { text: 'RSM index paging is not supported' }) };
      if (rsm.value.max !== undefined) out.max = rsm.value.max;
      if (rsm.value.after !== undefined) out.after = rsm.value.after;
      if (rsm.value.before !== undefined) out.before = rsm.value.before;
    } else if (child.name === 'flip-page' && (child.attrs.xmlns === undefined || child.attrs.xmlns === NS_MAM)) {
      out.flipPage = true;
    } else {
      return bad(`unknown element ${child.name} in the query`);
    }
  }
  if (out.start && out.end && out.start > out.end) return bad('start is after end');
  return { ok: true, query: out };
}

/** The `<query/>` payload of a client's iq set. */
export function mamQueryElement(q: MamQuery): Element {
  const fields: FormField[] = [{ var: 'FORM_TYPE', type: 'hidden', values: [NS_MAM] }];
  const one = (v: string, value: string | undefined) => value !== undefined && fields.push({ var: v, values: [value] });
  one('with', q.with);
  one('start', q.start?.toISOString());
  one('end', q.end?.toISOString());
  one('before-id', q.beforeId);
  one('after-id', q.afterId);
  if (q.ids) fields.push({ var: 'ids', values: q.ids });
  one(FULLTEXT_FIELD, q.fullText);
  const paging = q.max !== undefined || q.after !== undefined || q.before !== undefined;
  return xml(
    'query',
    { xmlns: NS_MAM, queryid: q.queryId },
    formElement('submit', fields),
    paging && rsmRequestElement({ ...(q.max !== undefined ? { max: q.max } : {}), ...(q.after !== undefined ? { after: q.after } : {}), ...(q.before !== undefined ? { before: q.before } : {}) }),
    q.flipPage === true && xml('flip-page'),
  );
}

/** §4.2: one archived message, forwarded to the requester inside a `<message/>`. */
export function mamResultMessage(to: string, from: string | undefined, queryId: string | undefined, id: string, stamp: Date, archived: Element): Element {
  return xml('message', { to, from }, xml('result', { xmlns: NS_MAM, queryid: queryId, id }, forwardedElement(archived, stamp)));
}

export interface MamResult {
  queryId?: string;
  /** The archive's id of the message (its XEP-0359 stanza id). */
  id: string;
  forwarded: Forwarded;
}

/** Reads a result message (§4.2); undefined when the message is not one. */
export function parseMamResult(message: Element): MamResult | undefined {
  const result = message.getChild('result', NS_MAM);
  const id = result?.attrs.id;
  if (!result || id === undefined) return undefined;
  const forwarded = parseForwarded(result.getChild('forwarded'));
  if (!forwarded) return undefined;
  return { id, forwarded, ...(result.attrs.queryid !== undefined ? { queryId: result.attrs.queryid } : {}) };
}

export interface MamFin {
  complete: boolean;
  rsm: RsmResult;
}

/** §4.3: the `<fin/>` payload of the query's result iq. */
export function mamFinElement(fin: MamFin): Element {
  return xml('fin', { xmlns: NS_MAM, complete: fin.complete ? 'true' : undefined }, rsmResultElement(fin.rsm));
}

export function parseMamFin(payload: Element | undefined): MamFin | undefined {
  if (!payload || !payload.is('fin', NS_MAM)) return undefined;
  const complete = payload.attrs.complete;
  return { complete: complete === 'true' || complete === '1', rsm: parseRsmResult(payload.getChild('set', NS_RSM)) };
}

/**
 * §5 (archive metadata, #extended): the first and last message of an archive, each by its id and XEP-0082 time
 * (with milliseconds, as the archive's <delay/> stamps: a client can use it as a query's start or end as it is).
 * Both are absent for an empty archive (the XEP says nothing of that case; an empty `<metadata/>` is what
 * Prosody answers and QXmpp reads).
 */
export interface MamMetadata {
  start?: { id: string; timestamp: Date };
  end?: { id: string; timestamp: Date };
}

/** `<metadata xmlns='urn:xmpp:mam:2'>`: the answer to a metadata get, and XEP-0386's child of `<bound/>`. */
export function mamMetadataElement(m: MamMetadata): Element {
  const edge = (name: 'start' | 'end', e: { id: string; timestamp: Date } | undefined): Element | undefined =>
    e && xml(name, { id: e.id, timestamp: e.timestamp.toISOString() });
  return xml('metadata', { xmlns: NS_MAM }, edge('start', m.start), edge('end', m.end));
}

/** Reads a `<metadata/>`; an edge without an id or a valid timestamp is left out. */
export function parseMamMetadata(el: Element | undefined): MamMetadata | undefined {
  if (!el || !el.is('metadata', NS_MAM)) return undefined;
  const edge = (name: 'start' | 'end'): { id: string; timestamp: Date } | undefined => {
    const child = el.getChild(name);
    const id = child?.attrs.id;
    const timestamp = child?.attrs.timestamp === undefined ? undefined : parseDateTime(child.attrs.timestamp);
    return id !== undefined && timestamp !== undefined ? { id, timestamp } : undefined;
  };
  const start = edge('start');
  const end = edge('end');
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

/** §6: archiving preferences. */
export interface MamPrefs {
  default: 'always' | 'never' | 'roster';
  always: string[];
  never: string[];
}

export function mamPrefsElement(p: MamPrefs): Element {
  return xml(
    'prefs',
    { xmlns: NS_MAM, default: p.default },
    xml('always', {}, p.always.map((j) => xml('jid', {}, j))),
    xml('never', {}, p.never.map((j) => xml('jid', {}, j))),
  );
}

/** Reads a `<prefs/>` (a set from a client, or a server's answer); an invalid one is a bad-request error. */
export function parseMamPrefs(prefs: Element): MamPrefs | StanzaError {
  const d = prefs.attrs.default;
  if (d !== 'always' && d !== 'never' && d !== 'roster') return stanzaError('bad-request', { text: "default is not 'always', 'never' or 'roster'" });
  const list = (name: string) => prefs.getChild(name)?.getChildren('jid').map((j) => j.text().trim()) ?? [];
  for (const child of prefs.getChildren()) if (child.name !== 'always' && child.name !== 'never') return stanzaError('bad-request', { text: `unknown element ${child.name}` });
  return { default: d, always: list('always'), never: list('never') };
}
