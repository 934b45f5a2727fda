// RFC 4013 SASLprep for passwords, in pure string code so it runs in
// browsers (the `saslprep` npm package reads a table file with node:fs).
// Steps as RFC 4013 §2 orders them: map (§2.1: non-ASCII spaces, RFC 3454
// C.1.2, to U+0020 first, then the B.1 "commonly mapped to nothing"
// characters removed), normalise with NFKC (§2.2), refuse prohibited output
// (§2.3: RFC 3454 C.1.2–C.9) and check bidi (§2.4: RFC 3454 §6).
// Unassigned code points are allowed, as for any query (RFC 4013 §2.5).
// Differentially tested against the npm package the server uses.

/** RFC 3454 C.1.2. */
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
/** RFC 3454 B.1 (combining characters among them, so a set rather than a character class). */
const MAPPED_TO_NOTHING = new Set<number>([0x00ad, 0x034f, 0x1806, 0x180b, 0x180c, 0x180d, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff]);
const mapsToNothing = (cp: number): boolean => MAPPED_TO_NOTHING.has(cp) || (cp >= 0xfe00 && cp <= 0xfe0f);

/** RFC 3454 C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9. */
const PROHIBITED = new RegExp(
  [
    '[\\u00A0\\u1680\\u2000-\\u200B\\u202F\\u205F\\u3000]', // C.1.2 (only left when NFKC made one)
    '[\\u0000-\\u001F\\u007F]', // C.2.1
    '[\\u0080-\\u009F\\u06DD\\u070F\\u180E\\u2028\\u2029\\u2060-\\u2063\\u206A-\\u206F\\uFEFF\\uFFF9-\\uFFFC\\u{1D173}-\\u{1D17A}]', // C.2.2 (U+200C and U+200D are B.1, already mapped to nothing)
    '[\\uE000-\\uF8FF\\u{F0000}-\\u{FFFFD}\\u{100000}-\\u{10FFFD}]', // C.3
    '[\\uFDD0-\\uFDEF\\p{Noncharacter_Code_Point}]', // C.4
    '[\\uD800-\\uDFFF]', // C.5: lone surrogates (the u flag reads pairs as one code point)
    '[\\uFFF9-\\uFFFD]', // C.6
    '[\\u2FF0-\\u2FFB]', // C.7
    '[\\u0340\\u0341\\u200E\\u200F\\u202A-\\u202E\\u206A-\\u206F]', // C.8
    '[\\u{E0001}\\u{E0020}-\\u{E007F}]', // C.9
  ].join('|'),
  'u',
);

/**
 * RFC 3454 D.1 (bidi R and AL) approximated by the right-to-left scripts of
 * Unicode 3.2 plus the RTL marks and presentation forms; D.2 (bidi L) by
 * the letters and spacing marks of every other script.
 */
const RAND_AL = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\u200F\uFB1D-\uFDFF\uFE70-\uFEFC]/u;
const L_CAT = /[\p{L}\p{Mc}]/u;
const isRandAl = (c: string): boolean => RAND_AL.test(c) && /[\p{L}\p{Lo}\u200F]/u.test(c);

export function saslprep(input: string): string {
  let mapped = '';
  for (const c of input.replace(NON_ASCII_SPACE, ' ')) if (!mapsToNothing(c.codePointAt(0)!)) mapped += c;
  const out = mapped.normalize('NFKC');
  if (PROHIBITED.test(out)) throw new Error('the password contains a character SASLprep prohibits (RFC 4013 §2.3)');
  const chars = [...out];
  if (chars.some(isRandAl)) {
    // RFC 3454 §6: no left-to-right character, and a right-to-left character first and last.
    const hasL = chars.some((c) => L_CAT.test(c) && !isRandAl(c));
    if (hasL || !isRandAl(chars[0]!) || !isRandAl(chars[chars.length - 1]!)) {
      throw new Error('the password mixes directions in a way SASLprep prohibits (RFC 4013 §2.4)');
    }
  }
  return out;
}
