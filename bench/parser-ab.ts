// CPU time of this tree's StreamParser against another build's, on the
// micro-benchmark's corpus, interleaved in one process (CPU time, not wall
// time: it holds on a busy machine). For a parser change:
//   git worktree add /tmp/base main
//   OLD=/tmp/base/packages/xml/src/stream-parser.ts CHUNK=4096 node --import tsx bench/parser-ab.ts

import { StreamParser as NewParser, type StreamParserEvents } from '@switchboard/xml';
import { corpusStanzas } from './micro.ts';

type Parser = { write(text: string): void };
type ParserClass = new (events: StreamParserEvents) => Parser;

const HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
const oldPath = process.env.OLD;
if (!oldPath) throw new Error('OLD=path/to/stream-parser.ts of the build to compare with');
const { StreamParser: OldParser } = (await import(oldPath)) as { StreamParser: ParserClass };
const size = Number(process.env.CHUNK ?? 4096);
const text = corpusStanzas().map((e) => e.toString()).join('');
const pieces: string[] = [];
for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));

function runner(P: ParserClass): () => void {
  return () => {
    const p = new P({ streamOpen: () => {}, element: () => {}, streamClose: () => {}, failure: (f) => { throw new Error(f.text); } });
    p.write(HEADER);
    for (const x of pieces) p.write(x);
  };
}

function cpu(fn: () => void, passes: number): number {
  const t = process.cpuUsage();
  for (let i = 0; i < passes; i++) fn();
  const d = process.cpuUsage(t);
  return d.user + d.system;
}

const before = runner(OldParser);
const after = runner(NewParser as unknown as ParserClass);
for (let i = 0; i < 30; i++) { before(); after(); }
let totalOld = 0;
let totalNew = 0;
for (let r = 0; r < Number(process.env.ROUNDS ?? 40); r++) {
  totalOld += cpu(before, 20);
  totalNew += cpu(after, 20);
}
console.log(`${size}-character reads: CPU old ${(totalOld / 1000).toFixed(0)} ms, new ${(totalNew / 1000).toFixed(0)} ms, new/old ${(totalNew / totalOld).toFixed(3)}`);
