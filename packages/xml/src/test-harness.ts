// Test-only: drives a StreamParser and records what it reports, in order.

import { StreamParser, type Framing } from './stream-parser.ts';
import type { Attrs, Element } from './element.ts';
import type { ParseFailure, ParserLimits } from './limits.ts';

export const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

export type Event = { open: Attrs } | { element: Element; source: string | undefined } | { close: true } | { failure: ParseFailure };

export interface Run {
  events: Event[];
  opened: Attrs | undefined;
  elements: Element[];
  /** The source text reported with each of `elements`. */
  sources: (string | undefined)[];
  closed: boolean;
  failures: ParseFailure[];
}

/** Feeds `chunks` (TCP writes, or one WebSocket message each) and returns what came out. */
export function run(chunks: readonly string[], framing: Framing = 'stream', limits: Partial<ParserLimits> = {}): Run {
  const events: Event[] = [];
  const parser = new StreamParser(
    {
      streamOpen: (open) => events.push({ open }),
      element: (element, source) => events.push({ element, source }),
      streamClose: () => events.push({ close: true }),
      failure: (failure) => events.push({ failure }),
    },
    framing,
    limits,
  );
  for (const chunk of chunks) {
    if (framing === 'websocket') parser.writeMessage(chunk);
    else parser.write(chunk);
  }
  return {
    events,
    opened: events.flatMap((e) => ('open' in e ? [e.open] : []))[0],
    elements: events.flatMap((e) => ('element' in e ? [e.element] : [])),
    sources: events.flatMap((e) => ('element' in e ? [e.source] : [])),
    closed: events.some((e) => 'close' in e),
    failures: events.flatMap((e) => ('failure' in e ? [e.failure] : [])),
  };
}

/** Splits `text` into pieces of `size` UTF-16 code units (which may cut a surrogate pair). */
export function slices(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Encodes `text` as UTF-8, cuts the bytes every `size` bytes and decodes them as a socket reader does. */
export function decodedChunks(text: string, size: number): string[] {
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(decoder.decode(bytes.subarray(i, i + size), { stream: true }));
  out.push(decoder.decode());
  return out;
}
