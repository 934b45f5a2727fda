// XEP-0176 v1.1: Jingle ICE-UDP Transport Method (§5 <transport/> and
// <candidate/>), carrying XEP-0320 v1.0 DTLS fingerprints (§3) and the
// XEP-0343 v0.3.1 <sctpmap/> for WebRTC data channels.

import { xml, type Element } from '@switchboard/xml';
import { NS_JINGLE_DTLS, NS_JINGLE_DTLS_SCTP, NS_JINGLE_ICE_UDP } from '../namespaces.ts';
import { child, children, compact, enumAttr, intAttr, num } from './xml-util.ts';

export const ICE_CANDIDATE_TYPES = ['host', 'prflx', 'relay', 'srflx'] as const;
export type IceCandidateType = (typeof ICE_CANDIDATE_TYPES)[number];

export interface IceCandidate {
  readonly component: number;
  readonly foundation: string;
  readonly generation?: number;
  readonly id?: string;
  readonly ip: string;
  readonly network?: number;
  readonly port: number;
  readonly priority: number;
  readonly protocol: string;
  readonly relAddr?: string;
  readonly relPort?: number;
  readonly type: IceCandidateType;
  /** RFC 6544 ICE-TCP candidate type. */
  readonly tcptype?: 'active' | 'passive' | 'so';
}

/** XEP-0320 §3: the certificate fingerprint and the DTLS role (RFC 4145 setup). */
export interface Fingerprint {
  readonly hash: string;
  readonly setup?: 'actpass' | 'active' | 'passive' | 'holdconn';
  readonly value: string;
}

/** XEP-0343 §4: the SCTP association a data channel content runs over. */
export interface SctpMap {
  readonly number: number;
  readonly protocol: string;
  readonly streams?: number;
}

export interface IceUdpTransport {
  readonly kind: 'ice-udp';
  readonly ufrag?: string;
  readonly pwd?: string;
  readonly candidates?: readonly IceCandidate[];
  readonly fingerprints?: readonly Fingerprint[];
  readonly sctp?: SctpMap;
  /** §5.2 the remote candidate the controlling agent nominated. */
  readonly remoteCandidate?: { readonly component: number; readonly ip: string; readonly port: number };
  /** End of trickled candidates (XEP-0371 <gathering-complete/>, which StanzaJS also sends in ice-udp:1). */
  readonly gatheringComplete?: true;
}

const SETUPS = ['actpass', 'active', 'passive', 'holdconn'] as const;

export function parseIceUdpTransport(el: Element): IceUdpTransport {
  const ns = NS_JINGLE_ICE_UDP;
  const candidates = children(el, ns, ns, 'candidate').map((c): IceCandidate => compact({
    component: intAttr(c, 'component') ?? 1,
    foundation: c.attrs.foundation ?? '',
    generation: intAttr(c, 'generation'),
    id: c.attrs.id,
    ip: c.attrs.ip ?? '',
    network: intAttr(c, 'network'),
    port: intAttr(c, 'port') ?? 0,
    priority: intAttr(c, 'priority') ?? 0,
    protocol: c.attrs.protocol ?? 'udp',
    relAddr: c.attrs['rel-addr'],
    relPort: intAttr(c, 'rel-port'),
    type: enumAttr(c, 'type', ICE_CANDIDATE_TYPES) ?? 'host',
    tcptype: enumAttr(c, 'tcptype', ['active', 'passive', 'so'] as const),
  }));
  const fingerprints = children(el, ns, NS_JINGLE_DTLS, 'fingerprint').map((f): Fingerprint => compact({
    hash: f.attrs.hash ?? '', setup: enumAttr(f, 'setup', SETUPS), value: f.text().trim(),
  }));
  const sctpEl = child(el, ns, NS_JINGLE_DTLS_SCTP, 'sctpmap');
  const remote = child(el, ns, ns, 'remote-candidate');
  return compact({
    kind: 'ice-udp' as const,
    ufrag: el.attrs.ufrag,
    pwd: el.attrs.pwd,
    candidates: candidates.length > 0 ? candidates : undefined,
    fingerprints: fingerprints.length > 0 ? fingerprints : undefined,
    sctp: sctpEl && compact({ number: intAttr(sctpEl, 'number') ?? 5000, protocol: sctpEl.attrs.protocol ?? 'webrtc-datachannel', streams: intAttr(sctpEl, 'streams') }),
    remoteCandidate: remote && { component: intAttr(remote, 'component') ?? 1, ip: remote.attrs.ip ?? '', port: intAttr(remote, 'port') ?? 0 },
    gatheringComplete: child(el, ns, ns, 'gathering-complete') ? (true as const) : undefined,
  });
}

export function writeIceUdpTransport(t: IceUdpTransport): Element {
  return xml(
    'transport',
    { xmlns: NS_JINGLE_ICE_UDP, pwd: t.pwd, ufrag: t.ufrag },
    (t.fingerprints ?? []).map((f) => xml('fingerprint', { xmlns: NS_JINGLE_DTLS, hash: f.hash, setup: f.setup }, f.value)),
    t.sctp && xml('sctpmap', { xmlns: NS_JINGLE_DTLS_SCTP, number: String(t.sctp.number), protocol: t.sctp.protocol, streams: num(t.sctp.streams) }),
    (t.candidates ?? []).map((c) => xml('candidate', {
      component: String(c.component), foundation: c.foundation, generation: num(c.generation), id: c.id, ip: c.ip,
      network: num(c.network), port: String(c.port), priority: String(c.priority), protocol: c.protocol,
      'rel-addr': c.relAddr, 'rel-port': num(c.relPort), tcptype: c.tcptype, type: c.type,
    })),
    t.remoteCandidate && xml('remote-candidate', { component: String(t.remoteCandidate.component), ip: t.remoteCandidate.ip, port: String(t.remoteCandidate.port) }),
    t.gatheringComplete && xml('gathering-complete'),
  );
}
