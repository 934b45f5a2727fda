// XEP-0234 v0.19: Jingle File Transfer (namespace version 5).
//   §3 the <description/> with its <file/>, §7 ranges, §8 <checksum/> and
//   <received/> session-info payloads. Hashes are XEP-0300 elements.

import { xml, type Element } from '@switchboard/xml';
import { NS_HASHES, NS_JINGLE_FT } from '../namespaces.ts';
import { child, childText, children, compact, intAttr, nsOf } from './xml-util.ts';
import { hashElement, hashUsedElement, isHashElement, parseHash, parseHashUsed, type Hash } from './xep0300.ts';
import type { Creator } from './xep0166.ts';

export interface FileRange {
  readonly offset?: number;
  readonly length?: number;
  readonly hashes?: readonly Hash[];
}

/** §5, the <file/> metadata. `date` is the wire's XEP-0082 DateTime string. */
export interface FileInfo {
  readonly mediaType?: string;
  readonly name?: string;
  readonly date?: string;
  readonly size?: number;
  readonly desc?: string;
  readonly range?: FileRange;
  readonly hashes?: readonly Hash[];
  /** XEP-0300 §3.1: algorithms whose values will follow in a <checksum/>. */
  readonly hashesUsed?: readonly string[];
}

export interface FileTransferDescription {
  readonly kind: 'file-transfer';
  readonly file: FileInfo;
}

/** §8.1: the sender's hash, sent once known. */
export interface ChecksumInfo {
  readonly kind: 'checksum';
  readonly creator: Creator;
  readonly name: string;
  readonly file: FileInfo;
}

/** §8.2: the receiver tells the sender the file arrived. */
export interface ReceivedInfo {
  readonly kind: 'received';
  readonly creator: Creator;
  readonly name: string;
}

function hashesIn(el: Element, ns: string): Hash[] {
  return el.getChildren().filter((c) => isHashElement(c, ns)).map(parseHash).filter((h): h is Hash => h !== undefined);
}

export function parseFile(el: Element, parentNs: string | undefined = NS_JINGLE_FT): FileInfo {
  const ns = nsOf(el, parentNs) ?? NS_JINGLE_FT;
  const rangeEl = child(el, ns, NS_JINGLE_FT, 'range');
  const range = rangeEl && compact({
    offset: intAttr(rangeEl, 'offset'), length: intAttr(rangeEl, 'length'),
    hashes: nonEmpty(hashesIn(rangeEl, ns)),
  });
  const sizeText = childText(el, ns, NS_JINGLE_FT, 'size');
  const hashesUsed = children(el, ns, NS_HASHES, 'hash-used').map(parseHashUsed).filter((a): a is string => a !== undefined);
  return compact({
    mediaType: childText(el, ns, NS_JINGLE_FT, 'media-type'),
    name: childText(el, ns, NS_JINGLE_FT, 'name'),
    date: childText(el, ns, NS_JINGLE_FT, 'date'),
    size: sizeText !== undefined && /^\d+$/.test(sizeText.trim()) ? Number(sizeText.trim()) : undefined,
    desc: childText(el, ns, NS_JINGLE_FT, 'desc'),
    range,
    hashes: nonEmpty(hashesIn(el, ns)),
    hashesUsed: nonEmpty(hashesUsed),
  });
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}

export function writeFile(f: FileInfo): Element {
  return xml(
    'file',
    {},
    f.mediaType !== undefined && xml('media-type', {}, f.mediaType),
    f.name !== undefined && xml('name', {}, f.name),
    f.date !== undefined && xml('date', {}, f.date),
    f.size !== undefined && xml('size', {}, String(f.size)),
    f.desc !== undefined && xml('desc', {}, f.desc),
    f.range && xml(
      'range',
      { offset: f.range.offset === undefined ? undefined : String(f.range.offset), length: f.range.length === undefined ? undefined : String(f.range.length) },
      (f.range.hashes ?? []).map(hashElement),
    ),
    (f.hashes ?? []).map(hashElement),
    (f.hashesUsed ?? []).map(hashUsedElement),
  );
}

export function parseFileDescription(el: Element, parentNs: string | undefined): FileTransferDescription {
  const ns = nsOf(el, parentNs);
  const fileEl = child(el, ns, NS_JINGLE_FT, 'file');
  return { kind: 'file-transfer', file: fileEl ? parseFile(fileEl, ns) : {} };
}

export function writeFileDescription(d: FileTransferDescription): Element {
  return xml('description', { xmlns: NS_JINGLE_FT }, writeFile(d.file));
}

/** Reads a <checksum/> or <received/> (already known to be in NS_JINGLE_FT). */
export function parseFileInfoPayload(el: Element): ChecksumInfo | ReceivedInfo | undefined {
  const creator = el.attrs.creator === 'responder' ? 'responder' : 'initiator';
  const name = el.attrs.name ?? '';
  if (el.localName === 'received') return { kind: 'received', creator, name };
  if (el.localName === 'checksum') {
    const fileEl = child(el, NS_JINGLE_FT, NS_JINGLE_FT, 'file');
    return { kind: 'checksum', creator, name, file: fileEl ? parseFile(fileEl, NS_JINGLE_FT) : {} };
  }
  return undefined;
}

export function writeFileInfoPayload(info: ChecksumInfo | ReceivedInfo): Element {
  if (info.kind === 'received') return xml('received', { xmlns: NS_JINGLE_FT, creator: info.creator, name: info.name });
  return xml('checksum', { xmlns: NS_JINGLE_FT, creator: info.creator, name: info.name }, writeFile(info.file));
}
