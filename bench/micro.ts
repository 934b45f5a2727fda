// Micro-benchmarks of the hot paths: the XML stream parser (our hand-written
// one, side by side with the saxes-based one it replaced, plain ltx and
// xmpp.js's ltx-based parser on the same input, in the same run), element
// serialisation, JID parsing and the envelope codec. Each measure warms up, then runs several rounds of a fixed
// duration and reports the median rate.

import { performance } from 'node:perf_hooks';
import { SaxesParser } from 'saxes';
import { Element as LtxElement } from 'ltx';
import SaxLtx from 'ltx/src/parsers/ltx.js';
import { Parser as XmppJsParser } from '@xmpp/xml';
import { StreamParser, parseElement, xml, type Element } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { SaxesStreamParser } from '../packages/xml/src/reference/saxes-stream-parser.ts';
import { decodeEnvelope, encodeEnvelope } from '../packages/server/src/router/envelope.ts';
import type { BenchRow } from './row.ts';

export interface MeasureOptions {
  warmupMs: number;
  rounds: number;
  roundMs: number;
}

/** About 1.5 s per measure. */
const DEFAULT_MEASURE: MeasureOptions = { warmupMs: 300, rounds: 5, roundMs: 250 };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Calls `fn` (which returns how many operations it did) for a warm-up, then for `rounds` rounds; the median rate per second. */
export function measure(fn: () => number, options: MeasureOptions = DEFAULT_MEASURE): number {
  const warmupEnd = performance.now() + options.warmupMs;
  while (performance.now() < warmupEnd) fn();
  const rates: number[] = [];
  for (let r = 0; r < options.rounds; r++) {
    let ops = 0;
    const start = performance.now();
    let now = start;
    while (now - start < options.roundMs) {
      ops += fn();
      now = performance.now();
    }
    rates.push(ops / ((now - start) / 1000));
  }
  return median(rates);
}

/** 64 bytes of UTF-8 chat text, with a few accents and an entity-worthy character. */
const BODY = 'Ça va? On se voit à 18h près du café & on décide après, ok';

/** The realistic mix: chat messages with 64-byte bodies, presence with caps, a 50-item roster result. */
export function corpusStanzas(): Element[] {
  if (Buffer.byteLength(BODY) !== 64) throw new Error(`body is ${Buffer.byteLength(BODY)} bytes`);
  const roster = xml(
    'iq',
    { type: 'result', id: 'r1', to: 'alice@localhost/phone' },
    xml('query', { xmlns: 'jabber:iq:roster', ver: 'v42' },
      Array.from({ length: 50 }, (_, i) => xml('item', { jid: `contact${i}@example.org`, name: `Contact ${i}`, subscription: 'both' }, xml('group', {}, 'Friends')))),
  );
  const out: Element[] = [];
  for (let i = 0; i < 200; i++) {
    out.push(xml('message', { to: `bob${i}@localhost`, from: 'alice@localhost/phone', type: 'chat', id: `m${i}` }, xml('body', {}, BODY), xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' })));
    if (i % 4 === 0) {
      out.push(xml('presence', { from: `carol${i}@localhost/desk` }, xml('show', {}, 'away'), xml('status', {}, 'In a meeting & busy'),
        xml('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node: 'https://example.org', ver: 'QgayPKawpkPSDYmwT/WM94uAlu0=' })));
    }
    if (i % 50 === 0) out.push(roster);
  }
  return out;
}

const HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

/** Cuts the stream into 4 KiB pieces, as socket reads deliver it. */
function chunks(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 4096) out.push(text.slice(i, i + 4096));
  return out;
}

type StreamRunner = (pieces: readonly string[]) => number;

/** Ours: hand-written, with the RFC 6120 §11 restrictions and §13.12 limits, Element trees. */
const switchboard: StreamRunner = (pieces) => {
  let n = 0;
  const p = new StreamParser({ streamOpen: () => {}, element: () => n++, streamClose: () => {}, failure: (f) => { throw new Error(f.text); } });
  p.write(HEADER);
  for (const piece of pieces) p.write(piece);
  return n;
};

/**
 * The saxes-based parser it replaced, with the same checks and the same
 * Element trees: the reason to keep a hand-written parser rather than a
 * library is that this ratio stays well above 1.
 */
const saxesReference: StreamRunner = (pieces) => {
  let n = 0;
  const p = new SaxesStreamParser({ streamOpen: () => {}, element: () => n++, streamClose: () => {}, failure: (f) => { throw new Error(f.text); } });
  p.write(HEADER);
  for (const piece of pieces) p.write(piece);
  return n;
};

/** saxes alone, counting top-level closes: the floor under ours. */
const saxesBare: StreamRunner = (pieces) => {
  let n = 0;
  let depth = 0;
  const sax = new SaxesParser();
  sax.on('opentag', () => depth++);
  sax.on('closetag', () => { if (--depth === 1) n++; });
  sax.on('error', (e) => { throw e; });
  sax.write(HEADER);
  for (const piece of pieces) sax.write(piece);
  return n;
};

/** Plain ltx: its own SAX parser building ltx Elements, one tree per stanza, no checks. */
const ltxPlain: StreamRunner = (pieces) => {
  let n = 0;
  let cursor: LtxElement | undefined;
  let depth = 0;
  const sax = new SaxLtx();
  sax.on('startElement', (name: string, attrs: Record<string, string>) => {
    if (++depth === 1) return; // the stream header
    const el = new LtxElement(name, attrs);
    cursor = cursor ? cursor.cnode(el) : el;
  });
  sax.on('endElement', () => {
    if (--depth === 1) { n++; cursor = undefined; } else if (cursor) cursor = cursor.parent ?? undefined;
  });
  sax.on('text', (text: string) => { if (cursor) cursor.t(text); });
  sax.write(HEADER);
  for (const piece of pieces) sax.write(piece);
  return n;
};

/** xmpp.js's parser (@xmpp/xml, over ltx's SAX), as @xmpp/client uses it. */
const xmppJs: StreamRunner = (pieces) => {
  let n = 0;
  const p = new XmppJsParser();
  p.on('element', () => n++);
  p.write(HEADER);
  for (const piece of pieces) p.write(piece);
  return n;
};

async function parserRows(options: MeasureOptions): Promise<BenchRow[]> {
  const stanzas = corpusStanzas();
  const text = stanzas.map((s) => s.toString()).join('');
  const bytes = Buffer.byteLength(text);
  const pieces = chunks(text);
  const group = 'XML stream parser';
  const note = `${stanzas.length} stanzas, ${(bytes / 1024).toFixed(0)} KiB, 4 KiB chunks`;
  const parsers: [string, StreamRunner, string?][] = [
    ['Switchboard StreamParser (hand-written, RFC 6120 checks)', switchboard, note],
    ['saxes StreamParser (reference, same checks)', saxesReference, 'the saxes-based parser it replaced (packages/xml/src/reference)'],
    ['saxes alone (no tree, no checks)', saxesBare],
    ['ltx 3 (plain, no checks)', ltxPlain, 'no RFC 6120 §11 checks or limits; not a validating parser'],
    ['@xmpp/xml (xmpp.js, ltx SAX)', xmppJs, 'no RFC 6120 §11 checks or limits'],
  ];
  const rows: BenchRow[] = [];
  const rates = new Map<string, number>();
  for (const [name, runner, why] of parsers) {
    const got = runner(pieces);
    if (got !== stanzas.length) throw new Error(`${name} saw ${got} stanzas, expected ${stanzas.length}`);
    const passes = measure(() => { runner(pieces); return 1; }, options);
    rates.set(name, passes);
    rows.push(
      { group, name: `${name}: MB/s`, value: (passes * bytes) / 1e6, unit: 'MB/s', ...(why ? { note: why } : {}) },
      { group, name: `${name}: stanzas/s`, value: passes * stanzas.length, unit: '/s' },
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
  const ours = rates.get(parsers[0]![0])!;
  rows.push(
    { group, name: 'ratio Switchboard / saxes StreamParser', value: ours / rates.get(parsers[1]![0])!, unit: '×', note: '> 1: the hand-written parser is faster than the one it replaced' },
    { group, name: 'ratio Switchboard / plain ltx', value: ours / rates.get(parsers[3]![0])!, unit: '×', note: '> 1: ours is faster' },
    { group, name: 'ratio Switchboard / @xmpp/xml', value: ours / rates.get(parsers[4]![0])!, unit: '×' },
    { group, name: 'ratio Switchboard / saxes alone', value: ours / rates.get(parsers[2]![0])!, unit: '×', note: '> 1: faster than saxes without trees or checks' },
  );
  return rows;
}

function serialisationRows(options: MeasureOptions): BenchRow[] {
  const stanzas = corpusStanzas();
  const message = stanzas[0]!;
  let sink = 0;
  const mix = measure(() => { for (const s of stanzas) sink += s.toString().length; return stanzas.length; }, options);
  const chat = measure(() => { sink += message.toString().length; return 1; }, options);
  if (sink === 0) throw new Error('unreachable');
  return [
    { group: 'Element serialisation', name: 'realistic mix toString', value: mix, unit: 'stanzas/s', note: 'same mix as the parser' },
    { group: 'Element serialisation', name: 'chat message toString', value: chat, unit: 'stanzas/s' },
  ];
}

function jidRows(options: MeasureOptions): BenchRow[] {
  const ascii = ['alice@localhost/phone', 'Bob@Example.COM', 'room@conference.example.org/Nick Name'];
  const unicode = ['ｊｕｌｉｅｔ@例え.テスト/Ｒｅｓ', 'josé@exämple.org/café', 'σ@xn--bcher-kva.example/♚'];
  for (const j of [...ascii, ...unicode]) if (!parseJid(j).ok) throw new Error(`${j} does not parse`);
  return [
    { group: 'JID', name: 'parseJid (ASCII)', value: measure(() => { for (const j of ascii) parseJid(j); return ascii.length; }, options), unit: 'ops/s' },
    { group: 'JID', name: 'parseJid (non-ASCII, PRECIS + IDNA)', value: measure(() => { for (const j of unicode) parseJid(j); return unicode.length; }, options), unit: 'ops/s' },
  ];
}

function envelopeRows(options: MeasureOptions): BenchRow[] {
  const message = corpusStanzas()[0]!;
  const envelope = { to: 'sm', from: 'c2s/node1', c2s: 'k1', sm: 's1', payload: message };
  const value = measure(() => {
    const parsed = parseElement(encodeEnvelope(envelope).toString()) as Element;
    return decodeEnvelope(parsed) ? 1 : 0;
  }, options);
  return [{ group: 'envelope codec (NATS wire form)', name: 'encode + serialise + parse + decode', value, unit: 'ops/s' }];
}

/**
 * What the c2s does with each chat message of the paced loads, in a hot
 * loop: one read holding one message (as the yardstick's tsung writes it),
 * parsed, `from` stamped, serialised for the recipient. With our parser and
 * with the saxes one it replaced.
 */
function chatPathRows(options: MeasureOptions): BenchRow[] {
  const reads = Array.from({ length: 1000 }, (_, i) =>
    `<message id='${i}' to='user${i}@localhost' type='chat'><body>@@@14161793,1796;524391;833825@@@qxvmvtglimieyhemzlxcmieyhemzlxc</body></message>`);
  const run = (Parser: typeof StreamParser | typeof SaxesStreamParser) => (): number => {
    let bytes = 0;
    const stamp = (el: Element): void => { bytes += el.withAttrs({ from: 'user1@localhost/tsung', xmlns: undefined }).toString().length; };
    const p = new Parser({ streamOpen: () => {}, element: stamp, streamClose: () => {}, failure: (f) => { throw new Error(f.text); } });
    p.write(HEADER);
    for (const read of reads) p.write(read);
    if (bytes === 0) throw new Error('unreachable');
    return reads.length;
  };
  const ours = measure(run(StreamParser), options);
  const saxes = measure(run(SaxesStreamParser), options);
  const group = 'chat message: parse one read, stamp from, serialise';
  return [
    { group, name: 'Switchboard StreamParser', value: 1e6 / ours, unit: 'µs', note: 'per message' },
    { group, name: 'saxes StreamParser (reference)', value: 1e6 / saxes, unit: 'µs', note: 'per message' },
    { group, name: 'ratio Switchboard / saxes', value: saxes / ours, unit: '×', note: '< 1: less time per message' },
  ];
}

export async function runMicroBenchmarks(options: MeasureOptions = DEFAULT_MEASURE): Promise<BenchRow[]> {
  return [...(await parserRows(options)), ...chatPathRows(options), ...serialisationRows(options), ...jidRows(options), ...envelopeRows(options)];
}
