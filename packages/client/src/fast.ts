// XEP-0484 FAST, the client's half: the token the application keeps (a
// storage callback, so a browser can use localStorage/IndexedDB and Node a
// file or keychain), the HT-SHA-256-* mechanism that logs in with it in one
// message (draft-schmaus-kitten-sasl-ht: authcid NUL HMAC(token,
// "Initiator" || cb-data), checked back with HMAC(token, "Responder" ||
// cb-data)), and the elements SASL2's <authenticate/> and <success/> carry.

import { xml, type Element } from '@switchboard/xml';
import { concat, equalBytes, hmac, utf8 } from './sasl/bytes.ts';
import type { ClientMechanism } from './sasl/mechanism.ts';

export const NS_FAST = 'urn:xmpp:fast:0';

export type FastMechanismName = 'HT-SHA-256-EXPR' | 'HT-SHA-256-NONE';

/** A token as the server issued it, with the count of its uses so far (§4.4). */
export interface FastToken {
  mechanism: FastMechanismName;
  token: string;
  /** XEP-0082 DateTime. */
  expiry: string;
  /** Uses so far; the next login sends count + 1. */
  count: number;
}

/**
 * Where the application keeps its token (treat it as a password: §5.1). `save(undefined)` means
 * the token was refused and is to be forgotten. The same user agent id (ClientOptions.userAgent)
 * must come with it: tokens are bound to it.
 */
export interface FastTokenStorage {
  load(): Promise<FastToken | undefined>;
  save(token: FastToken | undefined): Promise<void>;
}

/** §4.1: the HT mechanisms the server's <fast/> lists, inside SASL2's <inline/>. */
export function fastMechanisms(sasl2: Element): FastMechanismName[] {
  const fast = sasl2.getChild('inline')?.getChild('fast', NS_FAST);
  return (fast?.getChildren('mechanism').map((m) => m.text().trim()) ?? []).filter((m): m is FastMechanismName => m === 'HT-SHA-256-EXPR' || m === 'HT-SHA-256-NONE');
}

/** The mechanism to ask a token for: bound to the channel (-EXPR) when this connection has tls-exporter and the server lists it. */
export function chooseFastMechanism(offered: readonly FastMechanismName[], channelBinding: Uint8Array | undefined, bindingTypes: readonly string[] | undefined): FastMechanismName | undefined {
  if (channelBinding && bindingTypes?.includes('tls-exporter') && offered.includes('HT-SHA-256-EXPR')) return 'HT-SHA-256-EXPR';
  return offered.includes('HT-SHA-256-NONE') ? 'HT-SHA-256-NONE' : undefined;
}

/** Can this saved token be used on this connection? */
export function tokenUsable(token: FastToken, offered: readonly FastMechanismName[], channelBinding: Uint8Array | undefined): boolean {
  if (!offered.includes(token.mechanism) || Date.parse(token.expiry) <= Date.now()) return false;
  return token.mechanism === 'HT-SHA-256-NONE' || channelBinding !== undefined;
}

export class HtClient implements ClientMechanism {
  private readonly cbData: Uint8Array;

  constructor(
    readonly name: FastMechanismName,
    private readonly username: string,
    private readonly token: string,
    channelBinding: Uint8Array | undefined,
  ) {
    this.cbData = name === 'HT-SHA-256-EXPR' ? channelBinding! : new Uint8Array();
  }

  async initial(): Promise<Uint8Array> {
    const proof = await hmac('SHA-256', utf8(this.token), concat(utf8('Initiator'), this.cbData));
    return concat(utf8(this.username), new Uint8Array([0]), proof);
  }

  async challenge(): Promise<Uint8Array> {
    throw new Error('HT: the server sent a challenge to a one-message mechanism');
  }

  /** The server proves it held the token too. */
  async success(data: Uint8Array | undefined): Promise<void> {
    const expected = await hmac('SHA-256', utf8(this.token), concat(utf8('Responder'), this.cbData));
    if (!data || !equalBytes(data, expected)) throw new Error('HT: the server did not prove it knows the token');
  }
}

/** §4.2 and §4.4: what <authenticate/> carries for FAST. */
export function fastRequestElements(options: { use?: { count: number }; request?: FastMechanismName }): (Element | undefined)[] {
  return [
    options.use && xml('fast', { xmlns: NS_FAST, count: String(options.use.count) }),
    options.request && xml('request-token', { xmlns: NS_FAST, mechanism: options.request }),
  ];
}

/** §4.3: a <token/> in <success/>. */
export function readToken(success: Element): { token: string; expiry: string } | undefined {
  const el = success.getChild('token', NS_FAST);
  const token = el?.attrs.token;
  const expiry = el?.attrs.expiry;
  return token && expiry && !Number.isNaN(Date.parse(expiry)) ? { token, expiry } : undefined;
}
