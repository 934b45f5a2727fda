// Per-user quotas: what one account may make the server hold, set by the
// operator (config `quotas`), each answered with the error its
// specification gives when it is hit:
//
//   resources        RFC 6120 §7.6.2.1   bind refused with <resource-constraint/> (type wait)
//   rosterItems      RFC 6121 §2.3.3     roster set refused with <not-allowed/>
//   privateXmlBytes  XEP-0049            <not-acceptable/> (the XEP names none; the client must store less)
//   vcardBytes       XEP-0054            <not-acceptable/> (likewise)
//   pepNodes         XEP-0060 §7.1.3.?   <not-allowed/> + <max-nodes-exceeded/> on the auto-creating publish
//   pepItemBytes     XEP-0060 §7.1.3.4   <not-acceptable/> + <payload-too-big/>
//   pepMaxItems      XEP-0060 §7.1.5     the largest max_items a node may have ("max" means this)
//   offlineMessages  XEP-0160 / RFC 6121 §8.5.2.2.1  the message bounced with <service-unavailable/>
//   offlineBytes       likewise, counted in bytes of stored XML

export interface UserQuotas {
  resources: number;
  rosterItems: number;
  privateXmlBytes: number;
  vcardBytes: number;
  pepNodes: number;
  pepItemBytes: number;
  pepMaxItems: number;
  offlineMessages: number;
  offlineBytes: number;
}

export const DEFAULT_QUOTAS: UserQuotas = {
  resources: 10,
  rosterItems: 2000,
  privateXmlBytes: 1024 * 1024,
  vcardBytes: 256 * 1024,
  pepNodes: 256,
  pepItemBytes: 256 * 1024,
  pepMaxItems: 256,
  offlineMessages: 1000,
  offlineBytes: 10 * 1024 * 1024,
};

/** Bytes of a stored value (UTF-8), the unit every byte quota counts in. */
export function storedBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
