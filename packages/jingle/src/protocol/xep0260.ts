// XEP-0260 v1.0.3: Jingle SOCKS5 Bytestreams Transport Method.
//   §2.1 candidates and priorities, §2.2 dstaddr, §2.4 candidate-used /
//   candidate-error, §2.5 activated / proxy-error for mediated candidates.

import { xml, type Element } from '@switchboard/xml';
import { NS_JINGLE_S5B } from '../namespaces.ts';
import { child, children, compact, enumAttr, intAttr, num } from './xml-util.ts';

export const CANDIDATE_TYPES = ['assisted', 'direct', 'proxy', 'tunnel'] as const;
export type CandidateType = (typeof CANDIDATE_TYPES)[number];

/** §2.1 type preferences, the high 16 bits of a candidate's priority. */
export const TYPE_PREFERENCE: Record<CandidateType, number> = { direct: 126, assisted: 120, tunnel: 110, proxy: 10 };

/** §2.1: priority = 2^16 × type preference + local preference (0..65535). */
export function candidatePriority(type: CandidateType, localPreference = 0): number {
  return TYPE_PREFERENCE[type] * 65536 + Math.max(0, Math.min(65535, localPreference));
}

export interface S5bCandidate {
  readonly cid: string;
  readonly host: string;
  readonly jid: string;
  readonly port?: number;
  readonly priority: number;
  /** Absent means direct (§2.1). */
  readonly type?: CandidateType;
}

export interface S5bTransport {
  readonly kind: 's5b';
  /** The bytestream session id, distinct from the Jingle sid; hashed into DST.ADDR. */
  readonly sid: string;
  readonly dstaddr?: string;
  readonly mode?: 'tcp' | 'udp';
  readonly candidates?: readonly S5bCandidate[];
  /** transport-info: the cid of the peer's candidate we connected to. */
  readonly candidateUsed?: string;
  /** transport-info: none of the peer's candidates worked. */
  readonly candidateError?: true;
  /** transport-info: the proxy candidate with this cid is activated. */
  readonly activated?: string;
  readonly proxyError?: true;
}

export function parseS5bTransport(el: Element): S5bTransport {
  const ns = NS_JINGLE_S5B;
  const candidates = children(el, ns, ns, 'candidate').map((c): S5bCandidate => compact({
    cid: c.attrs.cid ?? '', host: c.attrs.host ?? '', jid: c.attrs.jid ?? '', port: intAttr(c, 'port'),
    priority: intAttr(c, 'priority') ?? 0, type: enumAttr(c, 'type', CANDIDATE_TYPES),
  }));
  return compact({
    kind: 's5b' as const,
    sid: el.attrs.sid ?? '',
    dstaddr: el.attrs.dstaddr,
    mode: enumAttr(el, 'mode', ['tcp', 'udp'] as const),
    candidates: candidates.length > 0 ? candidates : undefined,
    candidateUsed: child(el, ns, ns, 'candidate-used')?.attrs.cid,
    candidateError: child(el, ns, ns, 'candidate-error') ? (true as const) : undefined,
    activated: child(el, ns, ns, 'activated')?.attrs.cid,
    proxyError: child(el, ns, ns, 'proxy-error') ? (true as const) : undefined,
  });
}

export function writeS5bTransport(t: S5bTransport): Element {
  return xml(
    'transport',
    { xmlns: NS_JINGLE_S5B, dstaddr: t.dstaddr, mode: t.mode, sid: t.sid },
    (t.candidates ?? []).map((c) => xml('candidate', { cid: c.cid, host: c.host, jid: c.jid, port: num(c.port), priority: String(c.priority), type: c.type })),
    t.candidateUsed !== undefined && xml('candidate-used', { cid: t.candidateUsed }),
    t.candidateError && xml('candidate-error'),
    t.activated !== undefined && xml('activated', { cid: t.activated }),
    t.proxyError && xml('proxy-error'),
  );
}
