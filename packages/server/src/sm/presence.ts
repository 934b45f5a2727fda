// RFC 6121 §4.7.2.3: presence priority.

import type { Element } from '@switchboard/xml';

/** An integer from -128 to 127; 0 when absent or invalid. */
export function presencePriority(presence: Element): number {
  const text = presence.getChildText('priority');
  if (text === undefined) return 0;
  const n = Number.parseInt(text.trim(), 10);
  return Number.isInteger(n) && n >= -128 && n <= 127 ? n : 0;
}
