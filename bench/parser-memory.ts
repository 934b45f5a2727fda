// Bytes of heap the XML stream parser holds per byte received, for stanzas
// left unfinished (RFC 6120 §13.12: what a peer can make the server hold by
// sending part of a stanza and waiting). Many parsers are each fed a stream
// header and part of a stanza in socket-sized reads, then the heap is
// measured after a full GC, with all the parsers still alive.
//
// `npm run bench -- parser-memory` (also part of `micro`).

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { StreamParser, type ParserLimits } from '@switchboard/xml';
import type { BenchRow } from './row.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

/** The shapes of unfinished stanza measured: the attack's empty-element flood, attribute-heavy, text-heavy. */
export const SHAPES: Record<string, (bytes: number) => string> = {
  'empty elements (<a/>×N)': (bytes) => '<message>' + '<a/>'.repeat(Math.floor(bytes / 4)),
  'elements with attributes': (bytes) => "<iq type='set' id='x'><query xmlns='jabber:iq:roster'>" + "<item jid='u@example.org' name='n' subscription='both'/>".repeat(Math.floor(bytes / 56)),
  'text (a base64 vCard photo)': (bytes) => "<iq type='set' id='v'><vCard xmlns='vcard-temp'><PHOTO><BINVAL>" + 'QUJD'.repeat(Math.floor(bytes / 4)),
};

/** Feeds `parsers` parsers with `text` in reads of `read` characters; heap bytes held per character fed. */
export function heldPerByte(text: string, parsers: number, read = 16 * 1024, limits: Partial<ParserLimits> = {}): { perByte: number; failures: number } {
  let failures = 0;
  const events = { streamOpen: () => {}, element: () => {}, streamClose: () => {}, failure: () => void failures++ };
  const reads: Buffer[] = [];
  // Bytes, outside the heap measured: what is held is what the parsers made of them.
  for (let i = 0; i < text.length; i += read) reads.push(Buffer.from(text.slice(i, i + read)));
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const alive: StreamParser[] = [];
  for (let p = 0; p < parsers; p++) {
    const parser = new StreamParser(events, 'stream', limits);
    parser.write(HEADER);
    // Each read is its own string, decoded from bytes as a socket's reads are.
    for (const r of reads) parser.write(r.toString('utf8'));
    alive.push(parser);
  }
  reads.length = 0;
  gc();
  gc();
  const held = process.memoryUsage().heapUsed - before;
  if (alive.length !== parsers) throw new Error('unreachable');
  return { perByte: held / (parsers * text.length), failures };
}

export function parserMemoryRows(): BenchRow[] {
  const group = 'XML stream parser: memory held by unfinished stanzas';
  const rows: BenchRow[] = [];
  for (const [shape, make] of Object.entries(SHAPES)) {
    for (const bytes of [1024, 248 * 1024]) {
      const parsers = bytes > 4096 ? 40 : 2000;
      const { perByte, failures } = heldPerByte(make(bytes), parsers);
      if (failures > 0) throw new Error(`${shape}: the parser refused the input`);
      rows.push({ group, name: `${shape}, ${bytes / 1024} KiB unfinished`, value: perByte, unit: 'B/B', note: `heap held per byte received, ${parsers} streams, 16 KiB reads` });
    }
  }
  return rows;
}
