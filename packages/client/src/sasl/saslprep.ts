// RFC 4013 SASLprep for passwords, as the server applies it: non-ASCII
// spaces become U+0020, "commonly mapped to nothing" characters (RFC 3454
// B.1) go, then NFKC. Prohibited output (controls, private use,
// surrogates, non-characters) is refused. Pure string code, browser-safe.

const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
const MAPPED_TO_NOTHING = new Set<number>([0x00ad, 0x034f, 0x1806, 0x180b, 0x180c, 0x180d, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff]);
const isVariationSelector = (cp: number): boolean => cp >= 0xfe00 && cp <= 0xfe0f;
const PROHIBITED = /[\p{Cc}\p{Co}\p{Cs}\p{Noncharacter_Code_Point}\u2FF0-\u2FFB\u200E\u200F\u202A-\u202E\u206A-\u206F]/u;

export function saslprep(input: string): string {
  let kept = '';
  for (const c of input) {
    const cp = c.codePointAt(0)!;
    if (!MAPPED_TO_NOTHING.has(cp) && !isVariationSelector(cp)) kept += c;
  }
  const out = kept.replace(NON_ASCII_SPACE, ' ').normalize('NFKC');
  if (PROHIBITED.test(out)) throw new Error('the password contains characters SASLprep prohibits');
  return out;
}
