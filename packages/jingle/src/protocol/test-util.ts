// Helpers shared by the codec tests: a canonical XML form (sorted attributes,
// indentation dropped) and a JSON-safe copy of a value (elements as strings).

import { Element } from '@switchboard/xml';

export function canonical(el: Element): string {
  const attrs = Object.keys(el.attrs).sort().map((k) => ` ${k}="${el.attrs[k]}"`).join('');
  const inner = el.children
    .filter((c) => typeof c !== 'string' || c.trim() !== '')
    .map((c) => (typeof c === 'string' ? c : canonical(c)))
    .join('');
  return `<${el.name}${attrs}>${inner}</${el.name}>`;
}

export function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (v instanceof Element ? canonical(v) : v)));
}
