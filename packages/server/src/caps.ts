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

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_DATA_FORMS = 'jabber:x:data';

/** The hash functions of the IANA registry XEP-0115 §5.1 names, as node:crypto knows them. */
const HASHES: Record<string, string> = { 'sha-1': 'sha1', 'sha-224': 'sha224', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };

/**
 * XEP-0115 §5.4: checks an entity's disco#info answer against the `ver` it
 * advertised under `hash`, and returns its features only if the answer
 * hashes to it (identities, features and extended forms, §5.1 steps 1–9)
 * and breaks none of §5.4's rules (a repeated identity, feature or form
 * type). Only then may the features be cached under `ver` for everyone
 * who advertises it; otherwise anybody could announce another client's
 * `ver` and answer for it.
 */
export function verifiedCapsFeatures(query: Element, hash: string, ver: string): Set<string> | undefined {
  const algorithm = HASHES[hash.toLowerCase()];
  if (!algorithm) return undefined;
  const identities = query.getChildren('identity').map((i) => `${i.attrs.category ?? ''}/${i.attrs.type ?? ''}/${i.attrs['xml:lang'] ?? ''}/${i.attrs.name ?? ''}`);
  const features = query.getChildren('feature').map((f) => f.attrs.var ?? '');
  if (new Set(identities).size !== identities.length || new Set(features).size !== features.length) return undefined;
  const forms: { type: string; text: string }[] = [];
  for (const x of query.getChildren('x', NS_DATA_FORMS)) {
    const fields = x.getChildren('field');
    const formType = fields.find((f) => f.attrs.var === 'FORM_TYPE');
    // §5.4 3.6: a form without a hidden FORM_TYPE is left out of the string.
    if (!formType || formType.attrs.type !== 'hidden') continue;
    const type = formType.getChildText('value') ?? '';
    const rest = fields
      .filter((f) => f !== formType)
      .map((f) => ({ var: f.attrs.var ?? '', values: f.getChildren('value').map((v) => v.text()).sort() }))
      .sort((a, b) => cmp(a.var, b.var));
    forms.push({ type, text: `${type}<${rest.map((f) => `${f.var}<${f.values.map((v) => `${v}<`).join('')}`).join('')}` });
  }
  if (new Set(forms.map((f) => f.type)).size !== forms.length) return undefined;
  forms.sort((a, b) => cmp(a.type, b.type));
  const s = [...identities.sort(cmp), ...[...features].sort(cmp)].map((x) => `${x}<`).join('') + forms.map((f) => f.text).join('');
  const computed = createHash(algorithm).update(s, 'utf8').digest('base64');
  return computed === ver ? new Set(features) : undefined;
}

/** §5.1: "sort … using 'i;octet' collation" — by UTF-8 bytes, not by locale. */
function cmp(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
