// XEP-0388 Extensible SASL Profile (SASL2) and XEP-0386 Bind 2, the c2s's
// wire format: the <authentication/> feature with what may be inlined, and
// reading <authenticate/> (mechanism, initial response, XEP-0388 §4.2
// user-agent, the inline Bind 2 request with XEP-0198 <enable/>, XEP-0280
// <enable/> and XEP-0352 <active/>/<inactive/>, or an inline XEP-0198
// <resume/>), and the resource Bind 2 makes (XEP-0386 §3.1). The SASL mechanisms themselves are the same
// as RFC 6120's (sasl/negotiation.ts): SASL2 only changes the envelope, and
// there is no stream restart after <success/> (§5.6).

import { createHmac } from 'node:crypto';
import { xml, type Element } from '@switchboard/xml';
import { NS_SASL } from '@switchboard/protocol';
import { prepareResourcepart } from '@switchboard/jid';
import { NS_SM } from './stream-management.ts';
import { NS_CSI } from './csi.ts';

export const NS_SASL2 = 'urn:xmpp:sasl:2';
export const NS_BIND2 = 'urn:xmpp:bind:0';
export const NS_CARBONS = 'urn:xmpp:carbons:2';

/**
 * §3: the feature, with XEP-0386 and XEP-0198 offered inline, and whatever else is (XEP-0484 <fast/>).
 * XEP-0386 §3.1: Bind 2 lists what it enables inline: XEP-0198, XEP-0280 carbons, XEP-0352 client state.
 */
export function sasl2Feature(mechanisms: readonly string[], inline: (Element | undefined)[] = []): Element {
  const bindInline = [NS_CARBONS, NS_CSI, NS_SM].map((ns) => xml('feature', { var: ns }));
  return xml(
    'authentication',
    { xmlns: NS_SASL2 },
    mechanisms.map((m) => xml('mechanism', {}, m)),
    xml('inline', {}, xml('bind', { xmlns: NS_BIND2 }, xml('inline', {}, bindInline)), xml('sm', { xmlns: NS_SM }), inline),
  );
}

/** XEP-0386 §3.2: what the client asked Bind 2 to do along with binding. */
export interface Bind2Request {
  /** Prefixes the resource the server makes. */
  tag: string | undefined;
  /** XEP-0198 <enable/>, and whether it asked for resumption. */
  enableSm: boolean;
  resumable: boolean;
  /** XEP-0280 <enable/>: carbons on before the session is announced. */
  carbons: boolean;
  /** XEP-0352: the state the session starts in (active when not said). */
  inactive: boolean;
}

export interface Sasl2Request {
  mechanism: string;
  /** The initial response's text (base64, "=" for empty), or undefined when none was sent. */
  initialResponse: string | undefined;
  /** §4.2: a stable id for this client installation (a UUID), when given. */
  userAgentId: string | undefined;
  /** XEP-0386: bind a resource inline, with the features asked for. */
  bind: Bind2Request | undefined;
  /** XEP-0198 §5 inline: resume this session instead of binding. */
  resume: Element | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads <authenticate/>; a string is the reason it is malformed. */
export function readAuthenticate(el: Element): Sasl2Request | string {
  const mechanism = el.attrs.mechanism;
  if (!mechanism) return 'no mechanism';
  const initial = el.getChild('initial-response');
  const ua = el.getChild('user-agent');
  const uaId = ua?.attrs.id;
  // §4.2: the id is a UUID (RFC 4122); anything else is refused rather than trusted as a key.
  if (uaId !== undefined && !UUID.test(uaId)) return 'user-agent id is not a UUID';
  const bindEl = el.getChild('bind', NS_BIND2);
  let bind: Sasl2Request['bind'];
  if (bindEl) {
    const rawTag = bindEl.getChildText('tag');
    const tag = rawTag === undefined || rawTag.trim() === '' ? undefined : prepareResourcepart(rawTag.trim());
    if (rawTag !== undefined && rawTag.trim() !== '' && tag === undefined) return 'invalid bind tag';
    const enable = bindEl.getChild('enable', NS_SM);
    bind = {
      tag,
      enableSm: enable !== undefined,
      resumable: enable?.attrs.resume === 'true' || enable?.attrs.resume === '1',
      carbons: bindEl.getChild('enable', NS_CARBONS) !== undefined,
      // XEP-0386 §3.2: <active/> or <inactive/>; both sent, the last one counts, as if sent in turn.
      inactive: bindEl.getChildren().filter((c) => c.attrs.xmlns === NS_CSI && (c.name === 'active' || c.name === 'inactive')).at(-1)?.name === 'inactive',
    };
  }
  return { mechanism, initialResponse: initial ? initial.text() || '=' : undefined, userAgentId: uaId, bind, resume: el.getChild('resume', NS_SM) };
}

/** §5.4: a failure carries the RFC 6120 condition in its own namespace. */
export function sasl2Failure(condition: string, text?: string): Element {
  return xml('failure', { xmlns: NS_SASL2 }, xml(condition, { xmlns: NS_SASL }), text !== undefined && xml('text', {}, text));
}

/**
 * XEP-0386 §3.1: the resource is made by the server, `[tag]/[generated]`, the RECOMMENDED form. With a
 * XEP-0388 user-agent id the generated part is stable for that client (an HMAC of the account and the id under
 * a server secret, so the id itself is never shown), and a client that binds again replaces its earlier session
 * (RFC 6120 §7.7.2.2 conflict), as §3.2 asks ("SHOULD terminate any earlier sessions from the same client").
 * Without an id, or without a secret, it is random.
 */
export function bind2Resource(tag: string | undefined, stable?: { secret: Buffer; bare: string; userAgentId: string }): string {
  let unique: string;
  if (stable) {
    unique = createHmac('sha256', stable.secret).update(`${stable.bare}\0${stable.userAgentId.toLowerCase()}`).digest('base64url').slice(0, 12);
  } else {
    const bytes = new Uint8Array(9);
    crypto.getRandomValues(bytes);
    unique = Buffer.from(bytes).toString('base64url');
  }
  if (!tag) return unique;
  // A tag so long that the whole would pass RFC 7622's 1023 bytes is left out rather than cut.
  return prepareResourcepart(`${tag}/${unique}`) ?? unique;
}
