// XEP-0261 v1.0: Jingle In-Band Bytestreams Transport Method.
//   §2 <transport block-size sid stanza/>; the data path itself is XEP-0047.

import { xml, type Element } from '@switchboard/xml';
import { NS_JINGLE_IBB } from '../namespaces.ts';
import { compact, enumAttr, intAttr, num } from './xml-util.ts';

export interface IbbTransport {
  readonly kind: 'ibb';
  /** The IBB session id (XEP-0047 sid), distinct from the Jingle sid. */
  readonly sid: string;
  /** Largest chunk, in bytes before base64 (XEP-0047 §2.1: at most 65535). */
  readonly blockSize?: number;
  /** Advisory (§2): whether data goes in iq (default) or message stanzas. */
  readonly stanza?: 'iq' | 'message';
}

export function parseIbbTransport(el: Element): IbbTransport {
  return compact({ kind: 'ibb' as const, sid: el.attrs.sid ?? '', blockSize: intAttr(el, 'block-size'), stanza: enumAttr(el, 'stanza', ['iq', 'message'] as const) });
}

export function writeIbbTransport(t: IbbTransport): Element {
  return xml('transport', { xmlns: NS_JINGLE_IBB, 'block-size': num(t.blockSize), sid: t.sid, stanza: t.stanza });
}
