// Large PEP reads come in pages (issue #18): a request for a whole node gets
// its newest items up to a byte budget, and says so with an XEP-0059 <set/>
// (first, last, count) when it left older ones out; a client pages with RSM
// in the <pubsub/> (XEP-0060 §6.5.4: max, after, before, index), over the
// node's items in publish order, each page also held to the budget.

import type { RsmRequest } from '@switchboard/protocol';

export interface Window {
  /** Positions in the node's id list: from `start` (inclusive) towards `end` (exclusive). */
  start: number;
  end: number;
  /** Fill from the newest end (a request without RSM) or from `start` on. */
  newestFirst: boolean;
}

/** The part of `ids` a request covers; undefined when `after`/`before` names no item (item-not-found). */
export function pageWindow(ids: readonly string[], rsm: RsmRequest | undefined): Window | undefined {
  if (!rsm) return { start: 0, end: ids.length, newestFirst: true };
  const max = rsm.max ?? ids.length;
  if (rsm.after !== undefined) {
    const at = ids.indexOf(rsm.after);
    if (at < 0) return undefined;
    return { start: at + 1, end: Math.min(ids.length, at + 1 + max), newestFirst: false };
  }
  if (rsm.before !== undefined) {
    // §2.5: an empty <before/> asks for the last page.
    const end = rsm.before === '' ? ids.length : ids.indexOf(rsm.before);
    if (end < 0) return undefined;
    return { start: Math.max(0, end - max), end, newestFirst: false };
  }
  const start = Math.min(rsm.index ?? 0, ids.length);
  return { start, end: Math.min(ids.length, start + max), newestFirst: false };
}

/**
 * Reads the window's items with `read` (id → stored XML text, or undefined
 * when gone) until `budgetBytes` would be passed; at least one item when the
 * window has any. Returns the items in publish order and their positions.
 */
export async function readPage(
  ids: readonly string[],
  window: Window,
  budgetBytes: number,
  read: (id: string) => Promise<string | undefined>,
): Promise<{ texts: string[]; first: number; last: number }> {
  const texts: string[] = [];
  let bytes = 0;
  let first = window.start;
  let last = window.start - 1;
  const order = window.newestFirst ? range(window.end - 1, window.start - 1, -1) : range(window.start, window.end, 1);
  for (const i of order) {
    const text = await read(ids[i]!);
    if (text === undefined) continue;
    const size = Buffer.byteLength(text, 'utf8');
    if (texts.length > 0 && bytes + size > budgetBytes) break;
    bytes += size;
    if (window.newestFirst) {
      texts.unshift(text);
      first = i;
      if (last < window.start) last = i;
    } else {
      texts.push(text);
      if (texts.length === 1) first = i;
      last = i;
    }
  }
  return { texts, first, last };
}

function* range(from: number, to: number, step: 1 | -1): Generator<number> {
  for (let i = from; step > 0 ? i < to : i > to; i += step) yield i;
}
