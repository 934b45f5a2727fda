// RFC 6120 §8.1.2.1: the server stamps `from` on every stanza a client sends.
// The stanza goes on as an element, for the sm to route, and, where that is
// cheap, also as text: the client's own text with the attribute written in
// after the name, so that delivering it needs no serialisation.

import { escapeAttr, type Element } from '@switchboard/xml';

/** ` from="…"`, made once per bound full JID. */
export function fromAttribute(fullJid: string): string {
  return ` from="${escapeAttr(fullJid)}"`;
}

/**
 * The stanza as text with `from` stamped: `source`, the client's text exactly
 * as it came, with `fromAttr` after the name. Undefined when there is no
 * source, or when the text carries a `from` to replace or an `xmlns` that the
 * stamped element does not keep; the element is then serialised instead.
 * `unstamped` is the element as parsed, before its own stamping.
 */
export function stampedText(unstamped: Element, source: string | undefined, fromAttr: string): string | undefined {
  if (source === undefined || unstamped.attrs.from !== undefined || unstamped.attrs.xmlns !== undefined) return undefined;
  return `<${unstamped.name}${fromAttr}${source.slice(unstamped.name.length + 1)}`;
}

/**
 * A fan-out's stanza (it has no `to`) as text for each recipient: serialised
 * once, with ` to="…"` written in after the name per recipient.
 */
export function toStamper(stanza: Element): (jid: string) => string {
  let rest: string | undefined;
  return (jid) => {
    rest ??= stanza.toString().slice(stanza.name.length + 1);
    return `<${stanza.name} to="${escapeAttr(jid)}"${rest}`;
  };
}
