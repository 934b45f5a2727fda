// XEP-0047 v2.0.1: In-Band Bytestreams.
//   §2.1 <open/>, §2.2 <data/> with a 16-bit seq, §2.3 <close/>.

import { xml, type Element } from '@switchboard/xml';
import { NS_IBB } from '../namespaces.ts';
import { compact, enumAttr, intAttr } from './xml-util.ts';

/** §2.1: block-size is a 16-bit value. */
export const MAX_BLOCK_SIZE = 65535;

export type IbbPayload =
  | { readonly kind: 'open'; readonly sid: string; readonly blockSize: number; readonly stanza?: 'iq' | 'message' }
  | { readonly kind: 'data'; readonly sid: string; readonly seq: number; readonly data: string }
  | { readonly kind: 'close'; readonly sid: string };

/** Reads an IBB payload element; undefined when it is not one or is malformed (bad-request). */
export function parseIbb(el: Element): IbbPayload | undefined {
  if ((el.attrs.xmlns ?? '') !== NS_IBB) return undefined;
  const sid = el.attrs.sid;
  if (!sid) return undefined;
  switch (el.localName) {
    case 'open': {
      const blockSize = intAttr(el, 'block-size');
      if (blockSize === undefined || blockSize === 0 || blockSize > MAX_BLOCK_SIZE) return undefined;
      return compact({ kind: 'open' as const, sid, blockSize, stanza: enumAttr(el, 'stanza', ['iq', 'message'] as const) });
    }
    case 'data': {
      const seq = intAttr(el, 'seq');
      if (seq === undefined || seq > 65535) return undefined;
      return { kind: 'data', sid, seq, data: el.text() };
    }
    case 'close':
      return { kind: 'close', sid };
    default:
      return undefined;
  }
}

export function writeIbb(p: IbbPayload): Element {
  switch (p.kind) {
    case 'open':
      return xml('open', { xmlns: NS_IBB, 'block-size': String(p.blockSize), sid: p.sid, stanza: p.stanza });
    case 'data':
      return xml('data', { xmlns: NS_IBB, seq: String(p.seq), sid: p.sid }, p.data);
    case 'close':
      return xml('close', { xmlns: NS_IBB, sid: p.sid });
  }
}

/** §2.2: seq wraps to 0 after 65535. */
export function nextSeq(seq: number): number {
  return (seq + 1) & 0xffff;
}
