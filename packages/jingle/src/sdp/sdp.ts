// RFC 8866 SDP as WebRTC browsers write it (RFC 8829 JSEP), read into typed
// media sections and written back. Only what Jingle can carry is kept
// (XEP-0167/0176/0293/0294/0320/0338/0339/0343); see README for what is not.

import { compact } from '../protocol/xml-util.ts';
import type { HeaderExtension, Parameter, PayloadType, RtcpFeedback, Source, SourceGroup } from '../protocol/xep0167.ts';
import type { Fingerprint, IceCandidate } from '../protocol/xep0176.ts';
import { ICE_CANDIDATE_TYPES } from '../protocol/xep0176.ts';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
const DIRECTIONS: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
const TCP_TYPES = ['active', 'passive', 'so'] as const;

/** An extmap as SDP has it: the direction is the writer's point of view (RFC 8285 §7). */
export interface Extmap extends Omit<HeaderExtension, 'senders'> {
  readonly direction?: Direction;
}

export interface SdpMedia {
  readonly kind: string;
  readonly protocol: string;
  readonly formats: readonly string[];
  readonly mid: string;
  readonly direction?: Direction;
  readonly ufrag?: string;
  readonly pwd?: string;
  readonly fingerprints: readonly Fingerprint[];
  readonly candidates: readonly IceCandidate[];
  readonly rtcpMux: boolean;
  readonly rtcpRsize: boolean;
  readonly codecs: readonly PayloadType[];
  /** `a=rtcp-fb:*`. */
  readonly feedback: readonly RtcpFeedback[];
  readonly extmaps: readonly Extmap[];
  readonly extmapAllowMixed: boolean;
  readonly sources: readonly Source[];
  readonly sourceGroups: readonly SourceGroup[];
  readonly msid?: { readonly stream: string; readonly track?: string };
  readonly sctpPort?: number;
}

export interface SdpSession {
  readonly groups: readonly { readonly semantics: string; readonly mids: readonly string[] }[];
  readonly media: readonly SdpMedia[];
}

/** RFC 8839 §5.1 candidate-attribute value (after `candidate:`). */
export function parseCandidate(value: string): IceCandidate | undefined {
  const t = value.trim().split(/\s+/);
  if (t.length < 8 || t[6] !== 'typ') return undefined;
  const type = ICE_CANDIDATE_TYPES.find((x) => x === t[7]);
  if (!type) return undefined;
  const ext: Record<string, string> = {};
  for (let i = 8; i + 1 < t.length; i += 2) ext[t[i]!] = t[i + 1]!;
  const int = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  return compact({
    component: int(t[1]) ?? 1, foundation: t[0]!, generation: int(ext.generation), ip: t[4]!, network: int(ext['network-id']),
    port: int(t[5]) ?? 0, priority: int(t[3]) ?? 0, protocol: t[2]!.toLowerCase(), relAddr: ext.raddr, relPort: int(ext.rport), type,
    tcptype: TCP_TYPES.find((x) => x === ext.tcptype),
  });
}

/** Writes a candidate-attribute value. `ufrag` is for trickled candidates (RTCIceCandidate.candidate), which carry it after generation. */
export function writeCandidate(c: IceCandidate, ufrag?: string): string {
  let s = `${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.ip} ${c.port} typ ${c.type}`;
  if (c.relAddr !== undefined) s += ` raddr ${c.relAddr} rport ${c.relPort ?? 0}`;
  if (c.tcptype !== undefined) s += ` tcptype ${c.tcptype}`;
  if (c.generation !== undefined) s += ` generation ${c.generation}${ufrag ? ` ufrag ${ufrag}` : ''}`;
  if (c.network !== undefined) s += ` network-id ${c.network}`;
  return s;
}

function parseFmtp(value: string): Parameter[] {
  return value.split(';').map((p) => p.trim()).filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? { name: p } : { name: p.slice(0, eq), value: p.slice(eq + 1) };
  });
}

interface Codec {
  id: number;
  name?: string;
  clockrate?: number;
  channels?: number;
  parameters?: Parameter[];
  rtcpFeedback?: RtcpFeedback[];
}

/** SdpMedia while it is being read. */
interface MutableMedia {
  kind: string;
  protocol: string;
  formats: string[];
  mid: string;
  direction?: Direction;
  ufrag?: string;
  pwd?: string;
  fingerprints: Fingerprint[];
  candidates: IceCandidate[];
  rtcpMux: boolean;
  rtcpRsize: boolean;
  codecs: Codec[];
  feedback: RtcpFeedback[];
  extmaps: Extmap[];
  extmapAllowMixed: boolean;
  sources: { ssrc: string; parameters: Parameter[] }[];
  sourceGroups: SourceGroup[];
  msid?: { stream: string; track?: string };
  sctpPort?: number;
}

export function parseSdp(text: string): SdpSession {
  const groups: { semantics: string; mids: string[] }[] = [];
  const media: MutableMedia[] = [];
  const session: { ufrag?: string; pwd?: string; extmapAllowMixed?: boolean; fingerprints: Fingerprint[]; setup?: Fingerprint['setup'] } = { fingerprints: [] };
  const setups = new Map<MutableMedia, Fingerprint['setup']>();
  let m: MutableMedia | undefined;
  const codec = (pt: string): Codec => {
    const c = m!.codecs.find((x) => String(x.id) === pt);
    if (c) return c;
    const created: Codec = { id: Number(pt) };
    m!.codecs.push(created);
    return created;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      const [kind, , protocol, ...formats] = line.slice(2).split(/\s+/);
      m = {
        kind: kind ?? '', protocol: protocol ?? '', formats, mid: '', fingerprints: [], candidates: [], rtcpMux: false, rtcpRsize: false,
        codecs: formats.filter((f) => /^\d+$/.test(f)).map((f) => ({ id: Number(f) })), feedback: [], extmaps: [], extmapAllowMixed: false,
        sources: [], sourceGroups: [],
      };
      media.push(m);
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line.slice(2) : line.slice(2, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    const [first = '', ...rest] = value.split(' ');
    const target = m;
    switch (name) {
      case 'group': groups.push({ semantics: first, mids: rest.filter((x) => x !== '') }); break;
      case 'ice-ufrag': if (target) target.ufrag = value; else session.ufrag = value; break;
      case 'ice-pwd': if (target) target.pwd = value; else session.pwd = value; break;
      case 'fingerprint': (target ?? session).fingerprints.push({ hash: first.toLowerCase(), value: rest.join(' ') }); break;
      case 'setup': if (target) setups.set(target, value as Fingerprint['setup']); else session.setup = value as Fingerprint['setup']; break;
      case 'extmap-allow-mixed': if (target) target.extmapAllowMixed = true; else session.extmapAllowMixed = true; break;
      default: break;
    }
    if (!target) continue;
    switch (name) {
      case 'mid': target.mid = value; break;
      case 'candidate': { const c = parseCandidate(value); if (c) target.candidates.push(c); break; }
      case 'rtcp-mux': target.rtcpMux = true; break;
      case 'rtcp-rsize': target.rtcpRsize = true; break;
      case 'msid': target.msid = compact({ stream: first, track: rest[0] }); break;
      case 'sctp-port': target.sctpPort = Number(value); break;
      case 'rtpmap': {
        const [enc = '', clock, channels] = (rest[0] ?? '').split('/');
        Object.assign(codec(first), compact({ name: enc, clockrate: clock ? Number(clock) : undefined, channels: channels ? Number(channels) : undefined }));
        break;
      }
      case 'fmtp': codec(first).parameters = parseFmtp(rest.join(' ')); break;
      case 'rtcp-fb': {
        const fb = compact({ type: rest[0] ?? '', subtype: rest[1] });
        if (first === '*') target.feedback.push(fb);
        else (codec(first).rtcpFeedback ??= []).push(fb);
        break;
      }
      case 'extmap': {
        const [id = '0', dir] = first.split('/');
        target.extmaps.push(compact({ id: Number(id), uri: rest[0] ?? '', direction: dir && DIRECTIONS.includes(dir) ? (dir as Direction) : undefined }));
        break;
      }
      case 'ssrc': {
        const attr = rest.join(' ');
        const c = attr.indexOf(':');
        const p = c < 0 ? { name: attr } : { name: attr.slice(0, c), value: attr.slice(c + 1) };
        let s = target.sources.find((x) => x.ssrc === first);
        if (!s) target.sources.push((s = { ssrc: first, parameters: [] }));
        s.parameters.push(p);
        break;
      }
      case 'ssrc-group': target.sourceGroups.push({ semantics: first, sources: rest.filter((x) => x !== '') }); break;
      default:
        if (DIRECTIONS.includes(name)) target.direction = name as Direction;
    }
  }
  // Session-level ICE credentials, fingerprints and setup apply to every section without its own (RFC 8866 §5).
  for (const x of media) {
    x.ufrag ??= session.ufrag;
    x.pwd ??= session.pwd;
    if (x.fingerprints.length === 0) x.fingerprints.push(...session.fingerprints);
    const setup = setups.get(x) ?? session.setup;
    if (setup) x.fingerprints = x.fingerprints.map((f) => ({ ...f, setup }));
    if (session.extmapAllowMixed && x.kind !== 'application') x.extmapAllowMixed = true;
  }
  return { groups, media };
}

/** Writes a complete SDP in the shape browsers accept (JSEP §5.2). */
export function writeSdp(s: SdpSession, options: { sessionId?: string; sessionVersion?: number } = {}): string {
  const rtp = s.media.filter((m) => m.kind !== 'application');
  const mixedEverywhere = rtp.length > 0 && rtp.every((m) => m.extmapAllowMixed);
  const out = ['v=0', `o=- ${options.sessionId ?? '0'} ${options.sessionVersion ?? 2} IN IP4 127.0.0.1`, 's=-', 't=0 0'];
  for (const g of s.groups) out.push(`a=group:${g.semantics} ${g.mids.join(' ')}`);
  if (mixedEverywhere) out.push('a=extmap-allow-mixed');
  out.push('a=msid-semantic: WMS *');
  for (const m of s.media) {
    out.push(`m=${m.kind} 9 ${m.protocol} ${m.formats.join(' ')}`, 'c=IN IP4 0.0.0.0');
    if (m.kind !== 'application') out.push('a=rtcp:9 IN IP4 0.0.0.0');
    for (const c of m.candidates) out.push(`a=candidate:${writeCandidate(c)}`);
    if (m.ufrag !== undefined) out.push(`a=ice-ufrag:${m.ufrag}`);
    if (m.pwd !== undefined) out.push(`a=ice-pwd:${m.pwd}`);
    out.push('a=ice-options:trickle');
    for (const f of m.fingerprints) out.push(`a=fingerprint:${f.hash} ${f.value}`);
    const setup = m.fingerprints[0]?.setup;
    if (setup) out.push(`a=setup:${setup}`);
    out.push(`a=mid:${m.mid}`);
    for (const e of m.extmaps) out.push(`a=extmap:${e.id}${e.direction ? `/${e.direction}` : ''} ${e.uri}`);
    if (m.extmapAllowMixed && !mixedEverywhere) out.push('a=extmap-allow-mixed');
    if (m.direction && m.kind !== 'application') out.push(`a=${m.direction}`);
    if (m.msid) out.push(`a=msid:${m.msid.stream}${m.msid.track !== undefined ? ` ${m.msid.track}` : ''}`);
    if (m.rtcpMux) out.push('a=rtcp-mux');
    if (m.rtcpRsize) out.push('a=rtcp-rsize');
    for (const c of m.codecs) {
      if (c.name !== undefined) out.push(`a=rtpmap:${c.id} ${c.name}/${c.clockrate ?? 90000}${c.channels !== undefined ? `/${c.channels}` : ''}`);
      for (const fb of c.rtcpFeedback ?? []) out.push(`a=rtcp-fb:${c.id} ${fb.type}${fb.subtype ? ` ${fb.subtype}` : ''}`);
      if (c.parameters?.length) out.push(`a=fmtp:${c.id} ${c.parameters.map((p) => (p.value === undefined ? p.name : `${p.name}=${p.value}`)).join(';')}`);
    }
    for (const fb of m.feedback) out.push(`a=rtcp-fb:* ${fb.type}${fb.subtype ? ` ${fb.subtype}` : ''}`);
    for (const g of m.sourceGroups) out.push(`a=ssrc-group:${g.semantics} ${g.sources.join(' ')}`);
    for (const src of m.sources) for (const p of src.parameters) out.push(`a=ssrc:${src.ssrc} ${p.name}${p.value !== undefined ? `:${p.value}` : ''}`);
    if (m.sctpPort !== undefined) out.push(`a=sctp-port:${m.sctpPort}`);
  }
  return out.join('\r\n') + '\r\n';
}
