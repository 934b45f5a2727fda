// XML escaping for text nodes and attribute values (XML 1.0 §2.4, §3.1).
// Every byte of XML that leaves Switchboard is built by Element#toString,
// which calls these; nothing else concatenates markup.

const TEXT_SPECIALS = /[&<>]/;
const ATTR_SPECIALS = /[&<>"']/;

export function escapeText(text: string): string {
  if (!TEXT_SPECIALS.test(text)) return text;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttr(value: string): string {
  if (!ATTR_SPECIALS.test(value)) return value;
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
