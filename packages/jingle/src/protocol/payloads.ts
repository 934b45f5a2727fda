// Dispatch from a <description/>, <transport/> or informational child of
// <jingle/> to the codec of its namespace. Anything we do not know is kept as
// the element itself, so it survives a round trip and a session can refuse it.

import type { Element } from '@switchboard/xml';
import { NS_JINGLE_FT, NS_JINGLE_IBB, NS_JINGLE_ICE_UDP, NS_JINGLE_RTP, NS_JINGLE_RTP_INFO, NS_JINGLE_S5B } from '../namespaces.ts';
import { nsOf } from './xml-util.ts';
import {
  parseFileDescription, parseFileInfoPayload, writeFileDescription, writeFileInfoPayload,
  type ChecksumInfo, type FileTransferDescription, type ReceivedInfo,
} from './xep0234.ts';
import { parseRtpDescription, parseRtpInfo, writeRtpDescription, writeRtpInfo, type RtpDescription, type RtpInfo } from './xep0167.ts';
import { parseIbbTransport, writeIbbTransport, type IbbTransport } from './xep0261.ts';
import { parseS5bTransport, writeS5bTransport, type S5bTransport } from './xep0260.ts';
import { parseIceUdpTransport, writeIceUdpTransport, type IceUdpTransport } from './xep0176.ts';

export interface Unknown {
  readonly kind: 'unknown';
  readonly xmlns: string;
  readonly element: Element;
}

export type Description = FileTransferDescription | RtpDescription | Unknown;
export type Transport = IbbTransport | S5bTransport | IceUdpTransport | Unknown;
export type InfoPayload = ChecksumInfo | ReceivedInfo | RtpInfo | Unknown;

function unknown(el: Element, parentNs: string | undefined): Unknown {
  return { kind: 'unknown', xmlns: nsOf(el, parentNs) ?? '', element: el };
}

/** The namespace that names a description's application type or a transport's method. */
export function payloadNamespace(p: Description | Transport): string {
  switch (p.kind) {
    case 'file-transfer': return NS_JINGLE_FT;
    case 'rtp': return NS_JINGLE_RTP;
    case 'ibb': return NS_JINGLE_IBB;
    case 's5b': return NS_JINGLE_S5B;
    case 'ice-udp': return NS_JINGLE_ICE_UDP;
    case 'unknown': return p.xmlns;
  }
}

export function parseDescription(el: Element, parentNs: string | undefined): Description {
  switch (nsOf(el, parentNs)) {
    case NS_JINGLE_FT: return parseFileDescription(el, parentNs);
    case NS_JINGLE_RTP: return parseRtpDescription(el, parentNs);
    default: return unknown(el, parentNs);
  }
}

export function writeDescription(d: Description): Element {
  switch (d.kind) {
    case 'file-transfer': return writeFileDescription(d);
    case 'rtp': return writeRtpDescription(d);
    case 'unknown': return d.element;
  }
}

export function parseTransport(el: Element, parentNs: string | undefined): Transport {
  switch (nsOf(el, parentNs)) {
    case NS_JINGLE_IBB: return parseIbbTransport(el);
    case NS_JINGLE_S5B: return parseS5bTransport(el);
    case NS_JINGLE_ICE_UDP: return parseIceUdpTransport(el);
    default: return unknown(el, parentNs);
  }
}

export function writeTransport(t: Transport): Element {
  switch (t.kind) {
    case 'ibb': return writeIbbTransport(t);
    case 's5b': return writeS5bTransport(t);
    case 'ice-udp': return writeIceUdpTransport(t);
    case 'unknown': return t.element;
  }
}

export function parseInfo(el: Element, parentNs: string | undefined): InfoPayload {
  const ns = nsOf(el, parentNs);
  if (ns === NS_JINGLE_FT) return parseFileInfoPayload(el) ?? unknown(el, parentNs);
  if (ns === NS_JINGLE_RTP_INFO) return parseRtpInfo(el) ?? unknown(el, parentNs);
  return unknown(el, parentNs);
}

export function writeInfo(info: InfoPayload): Element {
  switch (info.kind) {
    case 'checksum':
    case 'received':
      return writeFileInfoPayload(info);
    case 'rtp-info':
      return writeRtpInfo(info);
    case 'unknown':
      return info.element;
  }
}
