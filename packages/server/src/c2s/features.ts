// RFC 6120 §4.3.2: the features offered at each stage of negotiation.

import { Element, xml } from '@switchboard/xml';
import { NS_BIND, NS_SASL, NS_SESSION, NS_TLS } from '@switchboard/protocol';
import type { MechanismName } from './sasl/mechanisms.ts';

const NS_SASL_CB = 'urn:xmpp:sasl-cb:0';

export function tlsFeatures(required: boolean, mechanisms: readonly MechanismName[], register?: (Element | undefined)[]): Element {
  return xml(
    'stream:features',
    {},
    xml('starttls', { xmlns: NS_TLS }, required && xml('required')),
    mechanisms.length > 0 && saslMechanisms(mechanisms),
    register,
  );
}

export function saslFeatures(mechanisms: readonly MechanismName[], register?: (Element | undefined)[]): Element {
  return xml('stream:features', {}, saslMechanisms(mechanisms), register);
}

function saslMechanisms(mechanisms: readonly MechanismName[]): Element[] {
  const out = [xml('mechanisms', { xmlns: NS_SASL }, mechanisms.map((m) => xml('mechanism', {}, m)))];
  // XEP-0440: say which channel binding types the -PLUS mechanisms use.
  if (mechanisms.some((m) => m.endsWith('-PLUS'))) {
    out.push(xml('sasl-channel-binding', { xmlns: NS_SASL_CB }, xml('channel-binding', { type: 'tls-exporter' })));
  }
  return out;
}

/**
 * After authentication: resource binding, the legacy session element marked
 * optional (RFC 6121 Appendix E), roster versioning (XEP-0237), pre-approval
 * (RFC 6121 §3.4.1), stream
 * management (XEP-0198), client state indication (XEP-0352) and the server's
 * capabilities (XEP-0115).
 */
export function bindFeatures(caps: Element | undefined): Element {
  return xml(
    'stream:features',
    {},
    xml('bind', { xmlns: NS_BIND }),
    xml('session', { xmlns: NS_SESSION }, xml('optional')),
    xml('ver', { xmlns: 'urn:xmpp:features:rosterver' }),
    // RFC 6121 §3.4.1: subscription pre-approval.
    xml('sub', { xmlns: 'urn:xmpp:features:pre-approval' }),
    xml('sm', { xmlns: 'urn:xmpp:sm:3' }),
    // XEP-0352 §3.
    xml('csi', { xmlns: 'urn:xmpp:csi:0' }),
    caps,
  );
}
