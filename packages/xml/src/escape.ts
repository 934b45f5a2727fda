// XML escaping for text nodes and attribute values (XML 1.0 §2.4, §3.1).
// Every byte of XML that leaves Switchboard is built by Element#toString,
// which calls these; nothing else concatenates markup.
//
// Besides the markup characters, whitespace that a parser would otherwise
// normalise is written as a character reference, so that what the peer reads
// is what we had: a literal CR in text becomes LF (XML 1.0 §2.11, end-of-line
// handling), and a literal tab, CR or LF in an attribute value becomes a space
// (§3.3.3, attribute-value normalisation).

const TEXT_SPECIALS = /[&<>\r]/;
const ATTR_SPECIALS = /[&<>"'\t\n\r]/;

const TEXT_REPLACEMENTS: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
const ATTR_REPLACEMENTS: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#x9;',
  '\n': '&#xA;',
  '\r': '&#xD;',
};

export function escapeText(text: string): string {
  if (!TEXT_SPECIALS.test(text)) return text;
  return text.replace(/[&<>\r]/g, (c) => TEXT_REPLACEMENTS[c]!);
}

export function escapeAttr(value: string): string {
  if (!ATTR_SPECIALS.test(value)) return value;
  return value.replace(/[&<>"'\t\n\r]/g, (c) => ATTR_REPLACEMENTS[c]!);
}
