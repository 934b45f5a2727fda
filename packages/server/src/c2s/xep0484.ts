// XEP-0484 Fast Authentication Streamlining Tokens, the c2s's wire format:
// the <fast/> inline feature of SASL2 (§4.1), <request-token/> and <fast/>
// inside <authenticate/> (§4.2, §4.4, §4.6), and the <token/> that
// <success/> carries (§4.3, §4.5). The tokens themselves: auth/fast-tokens.ts.

import { xml, type Element } from '@switchboard/xml';
import type { FastMechanism } from '../auth/fast-tokens.ts';

export const NS_FAST = 'urn:xmpp:fast:0';

/** §4.1: no tls-0rtt attribute: we take no authentication in TLS early data. */
export function fastFeature(mechanisms: readonly FastMechanism[]): Element {
  return xml('fast', { xmlns: NS_FAST }, mechanisms.map((m) => xml('mechanism', {}, m)));
}

export interface FastRequest {
  /** §4.4: the client authenticates with a token (a HT-* mechanism), with its replay count and §4.6 invalidate. */
  use: { count: number | undefined; invalidate: boolean } | undefined;
  /** §4.2: the mechanism the client wants a token for. */
  requestToken: string | undefined;
}

const truthy = (v: string | undefined): boolean => v === 'true' || v === '1';

/** The FAST parts of <authenticate/>; a string is why they are malformed. */
export function readFastRequest(authenticate: Element): FastRequest | string {
  const fast = authenticate.getChild('fast', NS_FAST);
  const request = authenticate.getChild('request-token', NS_FAST);
  let use: FastRequest['use'];
  if (fast) {
    const raw = fast.attrs.count;
    // §4.4: a positive integer (we also take 0, which some clients start from after a new token).
    if (raw !== undefined && !/^\d{1,15}$/.test(raw)) return 'the fast count is not a non-negative integer';
    use = { count: raw === undefined ? undefined : Number(raw), invalidate: truthy(fast.attrs.invalidate) };
  }
  if (request && !request.attrs.mechanism) return 'request-token without a mechanism';
  return { use, requestToken: request?.attrs.mechanism };
}

/** §4.3: the new token, in <success/>. */
export function tokenElement(token: string, expiry: Date): Element {
  // XEP-0082 DateTime, to the second.
  return xml('token', { xmlns: NS_FAST, expiry: `${expiry.toISOString().slice(0, 19)}Z`, token });
}
