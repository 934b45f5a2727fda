// XEP-0115 entity capabilities for the server itself: the verification
// string of its disco#info (§5.1), advertised in the stream features so
// clients can skip a disco round trip.

import { createHash } from 'node:crypto';
import { xml, type Element } from '@switchboard/xml';

export const NS_CAPS = 'http://jabber.org/protocol/caps';
export const CAPS_NODE = 'https://switchboard.invalid/server';

export interface Identity {
  category: string;
  type: string;
  lang?: string;
  name?: string;
}

/** §5.1: identities sorted by category/type/lang, then features sorted, each followed by '<'. */
export function capsVerification(identities: Identity[], features: string[]): string {
  const ids = identities
    .map((i) => `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`)
    .sort();
  const s = [...ids, ...[...new Set(features)].sort()].map((x) => `${x}<`).join('');
  return createHash('sha1').update(s, 'utf8').digest('base64');
}

export function capsElement(ver: string): Element {
  return xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: CAPS_NODE, ver });
}
