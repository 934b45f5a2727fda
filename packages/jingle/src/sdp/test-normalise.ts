// Test support: the SDP lines a browser needs, per section and order-free,
// for comparing an SDP with its trip through Jingle.

/** Attributes that may sit at session level and then apply to every m-section (RFC 8866 §5, JSEP §5.2). */
const INHERITED = ['a=fingerprint:', 'a=ice-ufrag:', 'a=ice-pwd:', 'a=setup:', 'a=extmap-allow-mixed'];

/**
 * What a browser needs from an SDP, section by section, order-free within a section:
 * - o=, a=msid-semantic: regenerated; unified-plan browsers ignore msid-semantic;
 * - c=, a=rtcp:, m= port: placeholders (9, 0.0.0.0) when candidates trickle;
 * - a=ice-options:trickle: always written, XEP-0176 has no element for it;
 * - a=end-of-candidates: XEP-0176 has no element for it (XEP-0371 does);
 * - a=max-message-size: XEP-0343 v0.3.1 has no element for it (absent means 64 KiB);
 * - direction of a data channel section: meaningless there (Chrome writes none);
 * - candidate network-cost: a Chrome extension XEP-0176 does not carry;
 * - a=rtcp-xr (RFC 3611, Chromium offers rcvr-rtt): no Jingle XEP has an element for it;
 * - candidate transport case: Jingle writes udp/tcp in lower case.
 */
export function normalise(sdp: string): string[][] {
  const sections: string[][] = [[]];
  for (const line of sdp.split(/\r?\n/).filter((l) => l !== '')) {
    if (line.startsWith('m=')) sections.push([]);
    sections.at(-1)!.push(line);
  }
  const [session, ...media] = sections as [string[], ...string[][]];
  const inherited = session.filter((l) => INHERITED.some((p) => l.startsWith(p)));
  const out = [session.filter((l) => l.startsWith('a=group:') || l === 'v=0' || l === 's=-' || l === 't=0 0').sort()];
  for (const m of media) {
    const isData = m[0]!.startsWith('m=application');
    const lines = [...m];
    for (const l of inherited) {
      const key = l.split(':')[0]!;
      if (isData && key === 'a=extmap-allow-mixed') continue;
      if (!lines.some((x) => x.split(':')[0] === key)) lines.push(l);
    }
    out.push(lines
      .filter((l) => !/^(c=|a=rtcp:|a=rtcp-xr:|a=ice-options:|a=end-of-candidates|a=max-message-size:)/.test(l))
      .filter((l) => !(isData && /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l)))
      .map((l) => l.startsWith('m=') ? l.replace(/^(m=\S+) \d+/, '$1 9') : l)
      .map((l) => l.startsWith('a=candidate:') ? l.replace(/ network-cost \d+/, '').replace(/^(a=candidate:\S+ \d+ )(\S+)/, (_, a: string, p: string) => a + p.toLowerCase()) : l)
      .sort());
  }
  return out;
}
