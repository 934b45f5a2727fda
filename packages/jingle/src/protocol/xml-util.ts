// Namespace-aware reading helpers. Element keeps attributes as written, so a
// child that inherits its parent's default namespace carries no xmlns of its
// own; these helpers resolve the namespace the way an XML parser would, so a
// peer that repeats the xmlns on every child reads the same as one that
// doesn't. Writers set xmlns only where the namespace changes.

import type { Element } from '@switchboard/xml';

/** The namespace `el` is in, given the namespace of its parent. */
export function nsOf(el: Element, parentNs: string | undefined): string | undefined {
  return el.attrs.xmlns ?? parentNs;
}

/** Child elements of `el` (which is in `elNs`) that are in namespace `ns`, optionally with local name `name`. */
export function children(el: Element, elNs: string | undefined, ns: string, name?: string): Element[] {
  const out: Element[] = [];
  for (const child of el.children) {
    if (typeof child === 'string') continue;
    if (nsOf(child, elNs) !== ns) continue;
    if (name !== undefined && child.localName !== name) continue;
    out.push(child);
  }
  return out;
}

export function child(el: Element, elNs: string | undefined, ns: string, name: string): Element | undefined {
  return children(el, elNs, ns, name)[0];
}

export function childText(el: Element, elNs: string | undefined, ns: string, name: string): string | undefined {
  return child(el, elNs, ns, name)?.text();
}

/** A non-negative decimal integer attribute; anything else reads as undefined. */
export function intAttr(el: Element, name: string): number | undefined {
  const raw = el.attrs[name];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Decimal string for an optional number attribute. */
export function num(n: number | undefined): string | undefined {
  return n === undefined ? undefined : String(n);
}

/** Reads an attribute constrained to a closed set of values. */
export function enumAttr<T extends string>(el: Element, name: string, values: readonly T[]): T | undefined {
  const raw = el.attrs[name];
  return raw !== undefined && (values as readonly string[]).includes(raw) ? (raw as T) : undefined;
}

/** Drops undefined members so values compare and serialise cleanly. */
export function compact<T extends object>(o: T): T {
  const out = {} as T;
  for (const key of Object.keys(o) as (keyof T)[]) if (o[key] !== undefined) out[key] = o[key];
  return out;
}
