// XEP-0059 Result Set Management: the <set/> element a requester pages with
// (§2: max, after, before, index) and the one a responder describes the page
// with (§2.6: first, last, count).

import { Element, xml } from '@switchboard/xml';

export const NS_RSM = 'http://jabber.org/protocol/rsm';

/** What a requester asks for. `before: ''` is an empty <before/>: the last page (§2.5). */
export interface RsmRequest {
  max?: number;
  after?: string;
  before?: string;
  index?: number;
}

/** What a responder says of the page it returned. */
export interface RsmResult {
  first?: string;
  /** §2.6 `<first index='…'>`: the position of the first item in the whole set. */
  firstIndex?: number;
  last?: string;
  count?: number;
}

export type RsmParse = { ok: true; value: RsmRequest } | { ok: false; text: string };

const NON_NEGATIVE = /^[0-9]{1,9}$/;

/** Reads a requester's <set/>; malformed values are refused (the caller answers bad-request). */
export function parseRsmRequest(set: Element): RsmParse {
  const out: RsmRequest = {};
  for (const child of set.getChildren()) {
    const text = child.text();
    switch (child.name) {
      case 'max':
        if (!NON_NEGATIVE.test(text)) return { ok: false, text: 'RSM max is not a non-negative integer' };
        out.max = Number(text);
        break;
      case 'index':
        if (!NON_NEGATIVE.test(text)) return { ok: false, text: 'RSM index is not a non-negative integer' };
        out.index = Number(text);
        break;
      case 'after':
        // §2.3: after names an item; an empty one names none.
        if (text === '') return { ok: false, text: 'RSM after is empty' };
        out.after = text;
        break;
      case 'before':
        out.before = text;
        break;
      default:
        return { ok: false, text: `unknown RSM element ${child.name}` };
    }
  }
  if (out.after !== undefined && out.before !== undefined) return { ok: false, text: 'RSM after and before together' };
  return { ok: true, value: out };
}

export function rsmRequestElement(r: RsmRequest): Element {
  return xml(
    'set',
    { xmlns: NS_RSM },
    r.max !== undefined && xml('max', {}, String(r.max)),
    r.after !== undefined && xml('after', {}, r.after),
    r.before !== undefined && xml('before', {}, r.before),
    r.index !== undefined && xml('index', {}, String(r.index)),
  );
}

export function rsmResultElement(r: RsmResult): Element {
  return xml(
    'set',
    { xmlns: NS_RSM },
    r.first !== undefined && xml('first', { index: r.firstIndex === undefined ? undefined : String(r.firstIndex) }, r.first),
    r.last !== undefined && xml('last', {}, r.last),
    r.count !== undefined && xml('count', {}, String(r.count)),
  );
}

export function parseRsmResult(set: Element | undefined): RsmResult {
  if (!set) return {};
  const out: RsmResult = {};
  const first = set.getChild('first');
  if (first) {
    out.first = first.text();
    const index = first.attrs.index;
    if (index !== undefined && NON_NEGATIVE.test(index)) out.firstIndex = Number(index);
  }
  const last = set.getChildText('last');
  if (last !== undefined) out.last = last;
  const count = set.getChildText('count');
  if (count !== undefined && NON_NEGATIVE.test(count)) out.count = Number(count);
  return out;
}
