// PRECIS (RFC 8264) profiles as RFC 7622 applies them to JIDs, using the
// Unicode tables that every JavaScript engine already ships (normalize() and
// \p{…} property escapes), so this stays usable in a browser.
//
// - localpart: UsernameCaseMapped (RFC 8265 §3.3): width mapping, case
//   mapping, NFC, IdentifierClass; plus RFC 7622 §3.3.1's extra exclusions.
// - resourcepart: OpaqueString (RFC 8265 §4.2): non-ASCII spaces to U+0020,
//   NFC, FreeformClass.

/** Code points no PRECIS string class admits: controls, unassigned, surrogates, private use, default ignorables and noncharacters. */
const ALWAYS_DISALLOWED = /[\p{Cc}\p{Cn}\p{Cs}\p{Co}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u;
/** IdentifierClass additionally refuses spaces and the symbol classes outside ASCII (RFC 8264 §9.11–9.12, 9.17). */
const IDENTIFIER_DISALLOWED = /[\p{Zs}\p{Zl}\p{Zp}]|[^\p{ASCII}](?<=[\p{Sm}\p{Sc}\p{Sk}\p{So}\p{Pc}\p{Pd}\p{Ps}\p{Pe}\p{Pi}\p{Pf}\p{Po}])/u;
/** RFC 7622 §3.3.1: characters a localpart may never contain. */
const LOCALPART_EXCLUDED = /["&'/:<>@]/;
/** RFC 8264 §9.14: spaces other than U+0020 are mapped to it by OpaqueString. */
const NON_ASCII_SPACE = /[\p{Zs}\u2028\u2029]/gu;
/** Fullwidth and halfwidth forms, mapped to their decompositions (RFC 8264 §9.5). */
const WIDE_OR_NARROW = /[\uFF01-\uFFEE]/g;

export const MAX_PART_BYTES = 1023;

const encoder = new TextEncoder();

export function byteLength(s: string): number {
  return encoder.encode(s).length;
}

/** Printable ASCII minus the RFC 7622 exclusions: the common case, which needs no Unicode tables. */
const SIMPLE_LOCALPART = /^[!#-%(-.0-9;=?A-~]+$/;
const SIMPLE_RESOURCE = /^[ -~]+$/;

export function prepareLocalpart(input: string): string | undefined {
  if (SIMPLE_LOCALPART.test(input)) return input.length <= MAX_PART_BYTES ? input.toLowerCase() : undefined;
  const mapped = input.replace(WIDE_OR_NARROW, (c) => c.normalize('NFKC')).toLowerCase().normalize('NFC');
  if (mapped.length === 0 || byteLength(mapped) > MAX_PART_BYTES) return undefined;
  if (ALWAYS_DISALLOWED.test(mapped) || IDENTIFIER_DISALLOWED.test(mapped) || LOCALPART_EXCLUDED.test(mapped)) return undefined;
  // RFC 8264 §9.17 (HasCompat): IdentifierClass refuses characters with a compatibility decomposition.
  for (const c of mapped) if (c.normalize('NFKC') !== c) return undefined;
  return mapped;
}

export function prepareResourcepart(input: string): string | undefined {
  if (SIMPLE_RESOURCE.test(input)) return input.length <= MAX_PART_BYTES ? input : undefined;
  const mapped = input.replace(NON_ASCII_SPACE, ' ').normalize('NFC');
  if (mapped.length === 0 || byteLength(mapped) > MAX_PART_BYTES) return undefined;
  if (ALWAYS_DISALLOWED.test(mapped)) return undefined;
  return mapped;
}
