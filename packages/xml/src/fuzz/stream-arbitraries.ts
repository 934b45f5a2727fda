// Test-only: fast-check arbitraries for XMPP streams, valid and broken, and
// for the ways a stream can be cut into reads.

import fc from 'fast-check';

export const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

const names = fc.constantFrom('message', 'iq', 'presence', 'body', 'a', 'x:y', 'é', '𐀀', 'query', 'item', 'c');
const attrNames = fc.constantFrom('to', 'type', 'id', 'xmlns', 'xml:lang', 'jid', 'a', 'é');
/** Pieces of character data: mostly well-formed (references, CR LF, surrogate pairs, CDATA), sometimes not. */
const textPieces = fc.oneof(
  { arbitrary: fc.constantFrom('hi', ' ', '\t', '\r\n', '\r', 'é', '😀', '&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#65;', '&#x263A;', '&#x1F600;', ']', ']]', '<![CDATA[ <&]] ]]>', '>'), weight: 20 },
  { arbitrary: fc.constantFrom(']]>', '&', '&nbsp;', '&#0;', '\u0001', '<!-- c -->', '<?pi x?>', '<!DOCTYPE x>'), weight: 1 },
);
const valuePieces = fc.oneof(
  { arbitrary: fc.constantFrom('v', ' ', 'é', '😀', '&amp;', '&#x263A;', '\r\n', '\t', '&lt;', '>'), weight: 20 },
  { arbitrary: fc.constantFrom('<', '&', '&bogus;'), weight: 1 },
);

const text = fc.array(textPieces, { maxLength: 6 }).map((p) => p.join(''));
const attrs = fc
  .uniqueArray(fc.tuple(attrNames, fc.array(valuePieces, { maxLength: 4 }), fc.constantFrom("'", '"')), { maxLength: 4, selector: ([n]) => n })
  .map((list) => list.map(([n, v, q]) => ` ${n}=${q}${v.join('')}${q}`).join(''));

/** An element as text, sometimes with a wrong close tag or an empty-element tag. */
export const element: fc.Arbitrary<string> = fc.letrec<{ el: string }>((tie) => ({
  el: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(names, attrs).map(([n, a]) => `<${n}${a}/>`),
    fc.tuple(names, attrs, fc.array(fc.oneof(text, tie('el')), { maxLength: 4 }), fc.constantFrom('same', 'same', 'same', 'same', 'same', 'same', 'same', 'same', 'same', 'other', 'spaced')).map(
      ([n, a, children, close]) => `<${n}${a}>${children.join('')}</${close === 'other' ? 'b' : n}${close === 'spaced' ? ' ' : ''}>`,
    ),
  ),
})).el;

/** A corruption: a character inserted, one removed, or the text cut short. */
const corruption = fc.oneof(
  fc.tuple(fc.constant('insert' as const), fc.nat(), fc.constantFrom('<', '>', '&', '/', '"', "'", '\u0000', '\uFFFE', '\uD800', 'x', ' ', ']]>', '<?', '<!')),
  fc.tuple(fc.constant('delete' as const), fc.nat(), fc.constant('')),
  fc.tuple(fc.constant('truncate' as const), fc.nat(), fc.constant('')),
);

function corrupt(text: string, [kind, at, what]: ['insert' | 'delete' | 'truncate', number, string]): string {
  const i = text.length === 0 ? 0 : at % text.length;
  if (kind === 'insert') return text.slice(0, i) + what + text.slice(i);
  if (kind === 'delete') return text.slice(0, i) + text.slice(i + 1);
  return text.slice(0, i);
}

/** What follows the stream header: stanzas with whitespace between them, perhaps the close, perhaps corrupted. */
export const streamBody = fc
  .tuple(fc.array(fc.tuple(fc.constantFrom('', ' ', '\n', '\r\n  '), element), { maxLength: 5 }), fc.boolean(), fc.option(corruption, { freq: 2 }))
  .map(([stanzas, close, bad]) => {
    const body = stanzas.map(([ws, el]) => ws + el).join('') + (close ? '</stream:stream>' : '');
    return bad === null ? body : corrupt(body, bad);
  });

/** Cuts `text` at the given points (taken modulo its length), in order. */
export function cut(text: string, points: number[]): string[] {
  if (text.length < 2) return [text];
  const at = [...new Set(points.map((p) => 1 + (p % (text.length - 1))))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of at) {
    out.push(text.slice(last, p));
    last = p;
  }
  out.push(text.slice(last));
  return out;
}

export const cutPoints = fc.array(fc.nat(), { maxLength: 12 });
