// XEP-0045 §7.2.13–14: the room's recent messages, bounded by the room's
// history length (itself bounded by the service), and the slice a joining
// occupant asks for with maxchars, maxstanzas, seconds and since — all of
// them at once when several are given.

import { Element, xml } from '@switchboard/xml';
import { NS_DELAY } from '@switchboard/protocol';

interface Entry {
  /** The groupchat message as broadcast, without `to`. */
  stanza: Element;
  /** Its size as sent, for maxchars (§7.2.14: the complete XML). */
  chars: number;
  at: number;
}

export interface HistoryRequest {
  maxchars?: number;
  maxstanzas?: number;
  seconds?: number;
  since?: number;
}

export class History {
  private entries: Entry[] = [];

  constructor(private readonly limit: () => number) {}

  get size(): number {
    return this.entries.length;
  }

  add(stanza: Element, at = Date.now()): void {
    this.entries.push({ stanza, chars: stanza.toString().length, at });
    const over = this.entries.length - this.limit();
    if (over > 0) this.entries.splice(0, over);
  }

  /** Restores stored entries, oldest first (a persistent room loaded from its archive). */
  restore(entries: { stanza: Element; at: number }[]): void {
    for (const e of entries) this.add(e.stanza, e.at);
  }

  clear(): void {
    this.entries = [];
  }

  /** The newest entries that fit every limit, oldest first, each with its XEP-0203 delay from the room. */
  select(request: HistoryRequest, roomJid: string, now = Date.now()): Element[] {
    const out: Element[] = [];
    let chars = 0;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (request.maxstanzas !== undefined && out.length >= request.maxstanzas) break;
      if (request.seconds !== undefined && e.at < now - request.seconds * 1000) break;
      if (request.since !== undefined && e.at < request.since) break;
      if (request.maxchars !== undefined && chars + e.chars > request.maxchars) break;
      chars += e.chars;
      out.push(new Element(e.stanza.name, e.stanza.withAttrs({}).attrs, [...e.stanza.children, xml('delay', { xmlns: NS_DELAY, from: roomJid, stamp: new Date(e.at).toISOString() })]));
    }
    return out.reverse();
  }

  /** Every entry, oldest first (for saving or inspection). */
  all(): readonly { stanza: Element; at: number }[] {
    return this.entries;
  }
}

/** Reads `<history/>` from a join's `<x xmlns='…muc'/>`; invalid numbers are ignored, as §7.2.14 leaves them to the service. */
export function readHistoryRequest(history: Element | undefined): HistoryRequest {
  if (!history) return {};
  const request: HistoryRequest = {};
  const int = (name: string): number | undefined => {
    const v = history.attrs[name];
    if (v === undefined || !/^\d+$/.test(v)) return undefined;
    return Number(v);
  };
  const maxchars = int('maxchars');
  const maxstanzas = int('maxstanzas');
  const seconds = int('seconds');
  if (maxchars !== undefined) request.maxchars = maxchars;
  if (maxstanzas !== undefined) request.maxstanzas = maxstanzas;
  if (seconds !== undefined) request.seconds = seconds;
  const since = history.attrs.since !== undefined ? Date.parse(history.attrs.since) : NaN;
  if (!Number.isNaN(since)) request.since = since;
  return request;
}
