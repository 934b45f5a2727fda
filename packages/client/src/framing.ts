// How stream opens, closes and stanzas look on each transport:
// RFC 6120 §4.2 (TCP) and RFC 7395 §3.3 (WebSocket).

import { Element, xml, type Framing } from '@switchboard/xml';
import { NS_CLIENT, NS_FRAMING, NS_STREAMS } from '@switchboard/protocol';

export function streamOpen(framing: Framing, domain: string, lang = 'en'): string {
  if (framing === 'websocket') return xml('open', { xmlns: NS_FRAMING, to: domain, version: '1.0', 'xml:lang': lang }).toString();
  const header = xml('stream:stream', { to: domain, version: '1.0', 'xml:lang': lang, xmlns: NS_CLIENT, 'xmlns:stream': NS_STREAMS });
  return `<?xml version='1.0'?>${header.openTag()}`;
}

export function streamClose(framing: Framing): string {
  return framing === 'websocket' ? xml('close', { xmlns: NS_FRAMING }).toString() : '</stream:stream>';
}

/** Over WebSocket each element is a document of its own and must carry its namespace. */
export function serialize(framing: Framing, el: Element): string {
  if (framing === 'websocket' && el.attrs.xmlns === undefined && (el.name === 'message' || el.name === 'presence' || el.name === 'iq')) {
    return el.withAttrs({ xmlns: NS_CLIENT }).toString();
  }
  return el.toString();
}
