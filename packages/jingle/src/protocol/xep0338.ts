// XEP-0338 v0.2: Jingle Grouping Framework (RFC 5888 a=group, e.g. BUNDLE).

import { xml, type Element } from '@switchboard/xml';
import { NS_JINGLE_GROUPING } from '../namespaces.ts';
import { children, nsOf } from './xml-util.ts';

export interface Group {
  readonly semantics: string;
  /** Content names (SDP mids) in the group, in order. */
  readonly contents: readonly string[];
}

export function isGroupElement(el: Element, parentNs: string | undefined): boolean {
  return el.localName === 'group' && nsOf(el, parentNs) === NS_JINGLE_GROUPING;
}

export function parseGroup(el: Element): Group {
  const contents = children(el, NS_JINGLE_GROUPING, NS_JINGLE_GROUPING, 'content')
    .map((c) => c.attrs.name)
    .filter((n): n is string => n !== undefined);
  return { semantics: el.attrs.semantics ?? '', contents };
}

export function writeGroup(g: Group): Element {
  return xml('group', { xmlns: NS_JINGLE_GROUPING, semantics: g.semantics }, g.contents.map((name) => xml('content', { name })));
}
