// XEP-0388 Extensible SASL Profile (SASL2) and XEP-0386 Bind 2, the c2s's
// wire format: the <authentication/> feature with what may be inlined, and
// reading <authenticate/> (mechanism, initial response, XEP-0388 §4.2
// user-agent, the inline Bind 2 request with XEP-0198 <enable/>, or an
// inline XEP-0198 <resume/>). The SASL mechanisms themselves are the same
// as RFC 6120's (sasl/negotiation.ts): SASL2 only changes the envelope, and
// there is no stream restart after <success/> (§5.6).

import { xml, type Element } from '@switchboard/xml';
import { NS_SASL } from '@switchboard/protocol';
import { prepareResourcepart } from '@switchboard/jid';
import { NS_SM } from './stream-management.ts';

export const NS_SASL2 = 'urn:xmpp:sasl:2';
export const NS_BIND2 = 'urn:xmpp:bind:0';

/** §3: the feature, with XEP-0386 and XEP-0198 offered inline, and whatever else is (XEP-0484 <fast/>). */
export function sasl2Feature(mechanisms: readonly string[], inline: (Element | undefined)[] = []): Element {
  return xml(
    'authentication',
    { xmlns: NS_SASL2 },
    mechanisms.map((m) => xml('mechanism', {}, m)),
    xml('inline', {}, xml('bind', { xmlns: NS_BIND2 }, xml('inline', {}, xml('feature', { var: NS_SM }))), xml('sm', { xmlns: NS_SM }), inline),
  );
}

export interface Sasl2Request {
  mechanism: string;
  /** The initial response's text (base64, "=" for empty), or undefined when none was sent. */
  initialResponse: string | undefined;
  /** §4.2: a stable id for this client installation (a UUID), when given. */
  userAgentId: string | undefined;
  /** XEP-0386: bind a resource inline; `tag` prefixes the resource the server makes. */
  bind: { tag: string | undefined; enableSm: boolean; resumable: boolean } | undefined;
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
    bind = { tag, enableSm: enable !== undefined, resumable: enable?.attrs.resume === 'true' || enable?.attrs.resume === '1' };
  }
  return { mechanism, initialResponse: initial ? initial.text() || '=' : undefined, userAgentId: uaId, bind, resume: el.getChild('resume', NS_SM) };
}

/** §5.4: a failure carries the RFC 6120 condition in its own namespace. */
export function sasl2Failure(condition: string, text?: string): Element {
  return xml('failure', { xmlns: NS_SASL2 }, xml(condition, { xmlns: NS_SASL }), text !== undefined && xml('text', {}, text));
}

/** XEP-0386 §3: the resource is made by the server: the client's tag, then something unique to this session. */
export function bind2Resource(tag: string | undefined): string {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  const unique = Buffer.from(bytes).toString('base64url');
  return tag ? `${tag}.${unique}` : unique;
}
