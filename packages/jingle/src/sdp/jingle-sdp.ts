// SDP ↔ Jingle, so a browser's RTCPeerConnection can drive a Jingle session:
// one content per m-section (name = a=mid, XEP-0338 §3), an XEP-0167 RTP
// description per audio/video section, an XEP-0176 ICE-UDP transport with
// XEP-0320 fingerprints and, for a data channel, the XEP-0343 sctpmap.
// Directions are relative to the party whose SDP it is (XEP-0167 §5: the
// initiator's sendonly is senders='initiator').

import { compact } from '../protocol/xml-util.ts';
import type { Content, Creator, Senders } from '../protocol/xep0166.ts';
import type { RtpDescription } from '../protocol/xep0167.ts';
import type { IceCandidate, IceUdpTransport } from '../protocol/xep0176.ts';
import type { Group } from '../protocol/xep0338.ts';
import { parseCandidate, parseSdp, writeCandidate, writeSdp, type Direction, type SdpMedia, type SdpSession } from './sdp.ts';

export type Role = 'initiator' | 'responder';

export interface JingleMedia {
  readonly contents: readonly Content[];
  readonly groups?: readonly Group[];
}

export function directionToSenders(direction: Direction, role: Role): Senders {
  switch (direction) {
    case 'sendrecv': return 'both';
    case 'inactive': return 'none';
    case 'sendonly': return role;
    case 'recvonly': return role === 'initiator' ? 'responder' : 'initiator';
  }
}

export function sendersToDirection(senders: Senders, role: Role): Direction {
  if (senders === 'both') return 'sendrecv';
  if (senders === 'none') return 'inactive';
  return senders === role ? 'sendonly' : 'recvonly';
}

/** XEP-0176 wants an id per candidate; SDP has none, so one is derived from the candidate itself (FNV-1a). */
export function candidateId(c: IceCandidate): string {
  let h = 0x811c9dc5;
  for (const ch of writeCandidate({ ...c, id: undefined })) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `c${h.toString(16).padStart(8, '0')}`;
}

function nonEmpty<T>(list: readonly T[]): T[] | undefined {
  return list.length > 0 ? [...list] : undefined;
}

function mediaToContent(m: SdpMedia, role: Role, creator: Creator): Content {
  const transport: IceUdpTransport = compact({
    kind: 'ice-udp' as const,
    ufrag: m.ufrag,
    pwd: m.pwd,
    fingerprints: nonEmpty(m.fingerprints),
    sctp: m.kind === 'application' && m.sctpPort !== undefined ? { number: m.sctpPort, protocol: m.formats[0] ?? 'webrtc-datachannel' } : undefined,
    candidates: nonEmpty(m.candidates.map((c) => ({ ...c, id: candidateId(c) }))),
  });
  if (m.kind === 'application') return { creator, name: m.mid, senders: directionToSenders(m.direction ?? 'sendrecv', role), transport };
  const byFormat = m.formats.map((f) => m.codecs.find((c) => String(c.id) === f)).filter((c) => c !== undefined);
  const description: RtpDescription = compact({
    kind: 'rtp' as const,
    media: m.kind,
    payloadTypes: byFormat.map((c) => compact({ ...c, parameters: nonEmpty(c.parameters ?? []), rtcpFeedback: nonEmpty(c.rtcpFeedback ?? []) })),
    rtcpFeedback: nonEmpty(m.feedback),
    headerExtensions: nonEmpty(m.extmaps.map((e) => compact({ id: e.id, uri: e.uri, senders: e.direction && directionToSenders(e.direction, role) }))),
    extmapAllowMixed: m.extmapAllowMixed ? (true as const) : undefined,
    rtcpMux: m.rtcpMux ? (true as const) : undefined,
    rtcpReducedSize: m.rtcpRsize ? (true as const) : undefined,
    sources: nonEmpty(m.sources),
    sourceGroups: nonEmpty(m.sourceGroups),
    msid: m.msid,
  });
  return { creator, name: m.mid, senders: directionToSenders(m.direction ?? 'sendrecv', role), description, transport };
}

function contentToMedia(c: Content, role: Role): SdpMedia {
  const t = c.transport?.kind === 'ice-udp' ? c.transport : undefined;
  const common = {
    mid: c.name,
    ufrag: t?.ufrag,
    pwd: t?.pwd,
    fingerprints: t?.fingerprints ?? [],
    candidates: (t?.candidates ?? []).map((x) => ({ ...x, id: undefined })),
  };
  const d = c.description?.kind === 'rtp' ? c.description : undefined;
  if (!d) {
    const protocol = t?.sctp?.protocol ?? 'webrtc-datachannel';
    return {
      ...common, kind: 'application', protocol: 'UDP/DTLS/SCTP', formats: [protocol], rtcpMux: false, rtcpRsize: false, codecs: [],
      feedback: [], extmaps: [], extmapAllowMixed: false, sources: [], sourceGroups: [], sctpPort: t?.sctp?.number ?? 5000,
    };
  }
  return {
    ...common,
    kind: d.media,
    protocol: common.fingerprints.length > 0 ? 'UDP/TLS/RTP/SAVPF' : 'RTP/AVPF',
    formats: d.payloadTypes.map((p) => String(p.id)),
    direction: sendersToDirection(c.senders ?? 'both', role),
    rtcpMux: d.rtcpMux === true,
    rtcpRsize: d.rtcpReducedSize === true,
    codecs: d.payloadTypes,
    feedback: d.rtcpFeedback ?? [],
    extmaps: (d.headerExtensions ?? []).map((h) => compact({ id: h.id, uri: h.uri, direction: h.senders && sendersToDirection(h.senders, role) })),
    extmapAllowMixed: d.extmapAllowMixed === true,
    sources: d.sources ?? [],
    sourceGroups: d.sourceGroups ?? [],
    msid: d.msid,
  };
}

export function sessionToJingle(s: SdpSession, role: Role, creator: Creator = 'initiator'): JingleMedia {
  const groups = s.groups.map((g) => ({ semantics: g.semantics, contents: g.mids }));
  return compact({ contents: s.media.map((m) => mediaToContent(m, role, creator)), groups: nonEmpty(groups) });
}

export function jingleToSession(j: JingleMedia, role: Role): SdpSession {
  return {
    groups: (j.groups ?? []).map((g) => ({ semantics: g.semantics, mids: g.contents })),
    media: j.contents.map((c) => contentToMedia(c, role)),
  };
}

/** A browser's offer or answer as the contents of session-initiate / session-accept. `role`: whose SDP it is. */
export function sdpToJingle(sdp: string, role: Role, creator: Creator = 'initiator'): JingleMedia {
  return sessionToJingle(parseSdp(sdp), role, creator);
}

/** The contents of a Jingle offer or answer as SDP for setRemoteDescription. `role`: who sent the Jingle. */
export function jingleToSdp(j: JingleMedia, role: Role, options: { sessionId?: string; sessionVersion?: number } = {}): string {
  return writeSdp(jingleToSession(j, role), options);
}

/** Trickle ICE: an RTCIceCandidate's `candidate` string to the XEP-0176 candidate of a transport-info. */
export function iceCandidateToJingle(candidate: string): IceCandidate | undefined {
  const c = parseCandidate(candidate.replace(/^a=/, '').replace(/^candidate:/, ''));
  return c && { ...c, id: candidateId(c) };
}

/** Trickle ICE: an XEP-0176 candidate to the `candidate` string of an RTCIceCandidateInit. */
export function jingleCandidateToIce(c: IceCandidate, ufrag?: string): string {
  return `candidate:${writeCandidate(c, ufrag)}`;
}
