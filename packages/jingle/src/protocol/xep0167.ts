// XEP-0167 v1.2.2: Jingle RTP Sessions — the <description/> (§4), with the
// extensions browsers need: XEP-0293 rtcp-fb, XEP-0294 rtp-hdrext and
// extmap-allow-mixed, XEP-0339 sources and ssrc-groups, and the msid <stream/>.
// Also the §7 session-info payloads (active, hold, mute, ringing, …).

import { xml, type Element } from '@switchboard/xml';
import {
  NS_JINGLE_MSID, NS_JINGLE_RTCP_FB, NS_JINGLE_RTP, NS_JINGLE_RTP_HDREXT, NS_JINGLE_RTP_INFO, NS_JINGLE_SSMA,
} from '../namespaces.ts';
import { child, children, compact, enumAttr, intAttr, nsOf, num } from './xml-util.ts';
import type { Senders } from './xep0166.ts';

export interface Parameter {
  readonly name: string;
  readonly value?: string;
}

/** XEP-0293 §3. */
export interface RtcpFeedback {
  readonly type: string;
  readonly subtype?: string;
}

export interface PayloadType {
  readonly id: number;
  readonly name?: string;
  readonly clockrate?: number;
  readonly channels?: number;
  readonly ptime?: number;
  readonly maxptime?: number;
  readonly parameters?: readonly Parameter[];
  readonly rtcpFeedback?: readonly RtcpFeedback[];
}

/** XEP-0294 §3. */
export interface HeaderExtension {
  readonly id: number;
  readonly uri: string;
  readonly senders?: Senders;
}

/** XEP-0339 §3.1. */
export interface Source {
  readonly ssrc: string;
  readonly parameters: readonly Parameter[];
}

/** XEP-0339 §3.2. */
export interface SourceGroup {
  readonly semantics: string;
  readonly sources: readonly string[];
}

export interface RtpDescription {
  readonly kind: 'rtp';
  readonly media: string;
  readonly ssrc?: string;
  readonly payloadTypes: readonly PayloadType[];
  /** XEP-0293 §3: feedback for every payload type (SDP `a=rtcp-fb:*`). */
  readonly rtcpFeedback?: readonly RtcpFeedback[];
  readonly headerExtensions?: readonly HeaderExtension[];
  readonly extmapAllowMixed?: true;
  readonly rtcpMux?: true;
  /** RFC 5506 reduced-size RTCP (XEP-0167 §4 <rtcp-rsize/>). */
  readonly rtcpReducedSize?: true;
  readonly sources?: readonly Source[];
  readonly sourceGroups?: readonly SourceGroup[];
  /** The media stream and track ids of `a=msid`. */
  readonly msid?: { readonly stream: string; readonly track?: string };
  /** §8 encryption preconditions, kept as written. */
  readonly encryption?: Element;
}

const SENDERS = ['both', 'initiator', 'responder', 'none'] as const;

function parseParameters(el: Element, ns: string | undefined, paramNs: string): Parameter[] {
  return children(el, ns, paramNs, 'parameter').map((p) => compact({ name: p.attrs.name ?? '', value: p.attrs.value }));
}

function parseFeedback(el: Element, ns: string | undefined): RtcpFeedback[] {
  return children(el, ns, NS_JINGLE_RTCP_FB, 'rtcp-fb').map((f) => compact({ type: f.attrs.type ?? '', subtype: f.attrs.subtype }));
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}

export function parseRtpDescription(el: Element, parentNs: string | undefined): RtpDescription {
  const ns = nsOf(el, parentNs);
  const payloadTypes = children(el, ns, NS_JINGLE_RTP, 'payload-type').map((p): PayloadType => compact({
    id: intAttr(p, 'id') ?? 0,
    name: p.attrs.name,
    clockrate: intAttr(p, 'clockrate'),
    channels: intAttr(p, 'channels'),
    ptime: intAttr(p, 'ptime'),
    maxptime: intAttr(p, 'maxptime'),
    parameters: nonEmpty(parseParameters(p, ns, NS_JINGLE_RTP)),
    rtcpFeedback: nonEmpty(parseFeedback(p, ns)),
  }));
  const headerExtensions = children(el, ns, NS_JINGLE_RTP_HDREXT, 'rtp-hdrext').map((h): HeaderExtension => compact({
    id: intAttr(h, 'id') ?? 0, uri: h.attrs.uri ?? '', senders: enumAttr(h, 'senders', SENDERS),
  }));
  const sources = children(el, ns, NS_JINGLE_SSMA, 'source').map((s): Source => ({
    ssrc: s.attrs.ssrc ?? '', parameters: parseParameters(s, NS_JINGLE_SSMA, NS_JINGLE_SSMA),
  }));
  const sourceGroups = children(el, ns, NS_JINGLE_SSMA, 'ssrc-group').map((g): SourceGroup => ({
    semantics: g.attrs.semantics ?? '',
    sources: children(g, NS_JINGLE_SSMA, NS_JINGLE_SSMA, 'source').map((s) => s.attrs.ssrc ?? ''),
  }));
  const stream = child(el, ns, NS_JINGLE_MSID, 'stream');
  return compact({
    kind: 'rtp' as const,
    media: el.attrs.media ?? '',
    ssrc: el.attrs.ssrc,
    payloadTypes,
    rtcpFeedback: nonEmpty(parseFeedback(el, ns)),
    headerExtensions: nonEmpty(headerExtensions),
    extmapAllowMixed: child(el, ns, NS_JINGLE_RTP_HDREXT, 'extmap-allow-mixed') ? (true as const) : undefined,
    rtcpMux: child(el, ns, NS_JINGLE_RTP, 'rtcp-mux') ? (true as const) : undefined,
    rtcpReducedSize: child(el, ns, NS_JINGLE_RTP, 'rtcp-rsize') ? (true as const) : undefined,
    sources: nonEmpty(sources),
    sourceGroups: nonEmpty(sourceGroups),
    msid: stream && compact({ stream: stream.attrs.id ?? '', track: stream.attrs.track }),
    encryption: child(el, ns, NS_JINGLE_RTP, 'encryption'),
  });
}

function writeFeedback(f: RtcpFeedback): Element {
  return xml('rtcp-fb', { xmlns: NS_JINGLE_RTCP_FB, type: f.type, subtype: f.subtype });
}

function writeParameter(p: Parameter): Element {
  return xml('parameter', { name: p.name, value: p.value });
}

export function writeRtpDescription(d: RtpDescription): Element {
  return xml(
    'description',
    { xmlns: NS_JINGLE_RTP, media: d.media, ssrc: d.ssrc },
    d.payloadTypes.map((p) => xml(
      'payload-type',
      { channels: num(p.channels), clockrate: num(p.clockrate), id: String(p.id), maxptime: num(p.maxptime), name: p.name, ptime: num(p.ptime) },
      (p.parameters ?? []).map(writeParameter),
      (p.rtcpFeedback ?? []).map(writeFeedback),
    )),
    (d.rtcpFeedback ?? []).map(writeFeedback),
    (d.headerExtensions ?? []).map((h) => xml('rtp-hdrext', { xmlns: NS_JINGLE_RTP_HDREXT, id: String(h.id), senders: h.senders, uri: h.uri })),
    d.extmapAllowMixed && xml('extmap-allow-mixed', { xmlns: NS_JINGLE_RTP_HDREXT }),
    d.rtcpMux && xml('rtcp-mux'),
    d.rtcpReducedSize && xml('rtcp-rsize'),
    (d.sources ?? []).map((s) => xml('source', { xmlns: NS_JINGLE_SSMA, ssrc: s.ssrc }, s.parameters.map(writeParameter))),
    (d.sourceGroups ?? []).map((g) => xml('ssrc-group', { xmlns: NS_JINGLE_SSMA, semantics: g.semantics }, g.sources.map((ssrc) => xml('source', { ssrc })))),
    d.msid && xml('stream', { xmlns: NS_JINGLE_MSID, id: d.msid.stream, track: d.msid.track }),
    d.encryption,
  );
}

/** §7 informational messages. */
export const RTP_INFO_TYPES = ['active', 'hold', 'unhold', 'mute', 'unmute', 'ringing'] as const;
export type RtpInfoType = (typeof RTP_INFO_TYPES)[number];

export interface RtpInfo {
  readonly kind: 'rtp-info';
  readonly type: RtpInfoType;
  /** mute/unmute name the content they apply to. */
  readonly creator?: 'initiator' | 'responder';
  readonly name?: string;
}

export function parseRtpInfo(el: Element): RtpInfo | undefined {
  if (!(RTP_INFO_TYPES as readonly string[]).includes(el.localName)) return undefined;
  return compact({
    kind: 'rtp-info' as const, type: el.localName as RtpInfoType,
    creator: enumAttr(el, 'creator', ['initiator', 'responder'] as const), name: el.attrs.name,
  });
}

export function writeRtpInfo(info: RtpInfo): Element {
  return xml(info.type, { xmlns: NS_JINGLE_RTP_INFO, creator: info.creator, name: info.name });
}
