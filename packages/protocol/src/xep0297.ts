// XEP-0297 Stanza Forwarding (with a XEP-0203 delay) and XEP-0359 unique and
// stable stanza ids: the wrappers the archive (XEP-0313) and carbons
// (XEP-0280) put around a message.

import { Element, xml } from '@switchboard/xml';
import { NS_DELAY } from './namespaces.ts';

export const NS_FORWARD = 'urn:xmpp:forward:0';
export const NS_STANZA_ID = 'urn:xmpp:sid:0';

/**
 * `<forwarded><delay stamp/>?<message/></forwarded>` (XEP-0297 §3). The
 * stanza inside says `xmlns='jabber:client'`: without it, it would inherit
 * urn:xmpp:forward:0 and a namespace-aware client (StanzaJS) finds no message.
 */
export function forwardedElement(stanza: Element, stamp?: Date): Element {
  const inner = stanza.attrs.xmlns === undefined ? stanza.withAttrs({ xmlns: 'jabber:client' }) : stanza;
  return xml('forwarded', { xmlns: NS_FORWARD }, stamp && xml('delay', { xmlns: NS_DELAY, stamp: stamp.toISOString() }), inner);
}

export interface Forwarded {
  stanza: Element;
  /** From the XEP-0203 delay, when it has a valid stamp. */
  stamp?: Date;
}

/** Reads a <forwarded/>: the one message, iq or presence in it, and its delay. */
export function parseForwarded(forwarded: Element | undefined): Forwarded | undefined {
  if (!forwarded || !forwarded.is('forwarded', NS_FORWARD)) return undefined;
  const stanza = forwarded.getChildren().find((c) => c.name === 'message' || c.name === 'presence' || c.name === 'iq');
  if (!stanza) return undefined;
  const stamp = parseDateTime(forwarded.getChild('delay', NS_DELAY)?.attrs.stamp ?? '');
  return stamp ? { stanza, stamp } : { stanza };
}

/** XEP-0082 §3.2 DateTime (CCYY-MM-DDThh:mm:ss[.sss]TZD); undefined when it is not one. */
export function parseDateTime(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** XEP-0359 §3: `<stanza-id by id/>`. */
export function stanzaIdElement(by: string, id: string): Element {
  return xml('stanza-id', { xmlns: NS_STANZA_ID, by, id });
}

/** The stanza id that `by` put on the stanza, if any. */
export function stanzaIdBy(stanza: Element, by: string): string | undefined {
  for (const child of stanza.children) {
    if (typeof child !== 'string' && child.name === 'stanza-id' && child.attrs.xmlns === NS_STANZA_ID && child.attrs.by === by) return child.attrs.id;
  }
  return undefined;
}

/**
 * XEP-0359 §5: a stanza id claiming to come from `by` that `by` did not put
 * there is removed before the stanza goes further. Returns the stanza
 * unchanged when there was none (the common case), else a copy without them.
 */
export function withoutStanzaIdsBy(stanza: Element, by: string): Element {
  if (stanzaIdBy(stanza, by) === undefined) return stanza;
  const kept = stanza.children.filter((c) => typeof c === 'string' || !(c.name === 'stanza-id' && c.attrs.xmlns === NS_STANZA_ID && c.attrs.by === by));
  return new Element(stanza.name, stanza.withAttrs({}).attrs, kept);
}
