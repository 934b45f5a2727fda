// Micro-benchmarks of the hot paths: the XML stream parser (ours over saxes,
// side by side with xmpp.js's ltx-based parser on the same input), element
// serialisation, JID parsing, and the envelope codec. Medians of several
// timed rounds after a warm-up.

import { performance } from 'node:perf_hooks';
import { StreamParser, xml, type Element } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { Parser as XmppJsParser } from '@xmpp/xml';
import { decodeEnvelope, encodeEnvelope } from '../packages/server/src/router/envelope.ts';
import { parseElement } from '@switchboard/xml';
import type { BenchRow } from './row.ts';

const ROUNDS = 7;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs `fn` repeatedly for about `ms`, returning operations per second (median of rounds). */
function opsPerSecond(fn: () => number, ms = 150): number {
  fn(); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let ops = 0;
    const start = performance.now();
    while (performance.now() - start < ms) ops += fn();
    rates.push(ops / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

/** A realistic mix: chat messages, presence with caps, and a 50-item roster result. */
function corpus(): { text: string; stanzas: number } {
  const parts: string[] = [];
  let stanzas = 0;
  const roster = xml('iq', { type: 'result', id: 'r1', to: 'alice@localhost/phone' }, xml('query', { xmlns: 'jabber:iq:roster', ver: 'v42' },
    Array.from({ length: 50 }, (_, i) => xml('item', { jid: `contact${i}@example.org`, name: `Contact ${i}`, subscription: 'both' }, xml('group', {}, 'Friends')))));
  for (let i = 0; i < 200; i++) {
    parts.push(xml('message', { to: `bob${i}@localhost`, from: 'alice@localhost/phone', type: 'chat', id: `m${i}` }, xml('body', {}, 'x'.repeat(64)), xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' })).toString());
    stanzas++;
    if (i % 4 === 0) {
      parts.push(xml('presence', { from: `carol${i}@localhost/desk` }, xml('show', {}, 'away'), xml('status', {}, 'In a meeting & busy'), xml('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node: 'https://example.org', ver: 'QgayPKawpkPSDYmwT/WM94uAlu0=' })).toString());
      stanzas++;
    }
    if (i % 50 === 0) {
      parts.push(roster.toString());
      stanzas++;
    }
  }
  return { text: parts.join(''), stanzas };
}

const HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

/** Feeds the corpus in 4 KiB chunks, as sockets deliver it. */
function chunks(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 4096) out.push(text.slice(i, i + 4096));
  return out;
}

export async function runMicroBenchmarks(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { text, stanzas } = corpus();
  const bytes = Buffer.byteLength(text);
  const pieces = chunks(text);

  let count = 0;
  const ours = opsPerSecond(() => {
    const p = new StreamParser({ streamOpen: () => {}, element: () => count++, streamClose: () => {}, failure: (f) => { throw new Error(f.text); } });
    p.write(HEADER);
    for (const piece of pieces) p.write(piece);
    return 1;
  });
  const theirs = opsPerSecond(() => {
    const p = new XmppJsParser();
    p.on('element', () => count++);
    p.write(HEADER);
    for (const piece of pieces) p.write(piece);
    return 1;
  });
  rows.push(
    { group: 'XML stream parser', name: 'Switchboard (saxes + limits): MB/s', value: (ours * bytes) / 1e6, unit: 'MB/s' },
    { group: 'XML stream parser', name: 'Switchboard (saxes + limits): stanzas/s', value: ours * stanzas, unit: '/s' },
    { group: 'XML stream parser', name: 'xmpp.js @xmpp/xml (ltx): MB/s', value: (theirs * bytes) / 1e6, unit: 'MB/s', note: 'no RFC 6120 §11 checks or limits' },
    { group: 'XML stream parser', name: 'ratio Switchboard / ltx', value: ours / theirs, unit: '×' },
  );

  const message = xml('message', { to: 'bob@localhost', from: 'alice@localhost/phone', type: 'chat', id: 'abc' }, xml('body', {}, 'Hello <world> & "friends"'.repeat(3)));
  rows.push({ group: 'serialisation', name: 'chat message toString', value: opsPerSecond(() => (message.toString().length > 0 ? 1 : 0)), unit: '/s' });

  const ascii = ['alice@localhost/phone', 'Bob@Example.COM', 'room@conference.example.org/Nick Name'];
  rows.push({ group: 'JID', name: 'parseJid (ASCII)', value: opsPerSecond(() => { for (const j of ascii) parseJid(j); return ascii.length; }), unit: '/s' });
  const unicode = ['ｊｕｌｉｅｔ@例え.テスト/Ｒｅｓ', 'josé@exämple.org/café'];
  rows.push({ group: 'JID', name: 'parseJid (non-ASCII, PRECIS + IDNA)', value: opsPerSecond(() => { for (const j of unicode) parseJid(j); return unicode.length; }), unit: '/s' });

  const envelope = { to: 'sm', from: 'c2s/node1', c2s: 'k1', sm: 's1', payload: message };
  rows.push({
    group: 'envelope codec (NATS wire form)',
    name: 'encode + serialise + parse + decode',
    value: opsPerSecond(() => {
      const parsed = parseElement(encodeEnvelope(envelope).toString()) as Element;
      return decodeEnvelope(parsed) ? 1 : 0;
    }),
    unit: '/s',
  });
  void count;
  return rows;
}
