// Every namespace the Jingle stack reads or writes, one constant each, named
// after the specification that defines it.

export { NS_JINGLE, NS_JINGLE_ERRORS } from '@switchboard/protocol';

/** XEP-0234 v0.19 (namespace version 5). */
export const NS_JINGLE_FT = 'urn:xmpp:jingle:apps:file-transfer:5';
/** XEP-0234 errors (§9). */
export const NS_JINGLE_FT_ERRORS = 'urn:xmpp:jingle:apps:file-transfer:errors:0';
/** XEP-0261 Jingle In-Band Bytestreams. */
export const NS_JINGLE_IBB = 'urn:xmpp:jingle:transports:ibb:1';
/** XEP-0260 Jingle SOCKS5 Bytestreams. */
export const NS_JINGLE_S5B = 'urn:xmpp:jingle:transports:s5b:1';
/** XEP-0047 In-Band Bytestreams. */
export const NS_IBB = 'http://jabber.org/protocol/ibb';
/** XEP-0065 SOCKS5 Bytestreams. */
export const NS_BYTESTREAMS = 'http://jabber.org/protocol/bytestreams';
/** XEP-0300 Use of Cryptographic Hash Functions in XMPP. */
export const NS_HASHES = 'urn:xmpp:hashes:2';
/** XEP-0300 §4: feature advertised per supported algorithm. */
export const nsHashAlgorithm = (algo: string): string => `urn:xmpp:hash-function-text-names:${algo}`;
/** XEP-0167 Jingle RTP Sessions. */
export const NS_JINGLE_RTP = 'urn:xmpp:jingle:apps:rtp:1';
export const NS_JINGLE_RTP_INFO = 'urn:xmpp:jingle:apps:rtp:info:1';
export const NS_JINGLE_RTP_AUDIO = 'urn:xmpp:jingle:apps:rtp:audio';
export const NS_JINGLE_RTP_VIDEO = 'urn:xmpp:jingle:apps:rtp:video';
/** XEP-0293 RTP feedback negotiation. */
export const NS_JINGLE_RTCP_FB = 'urn:xmpp:jingle:apps:rtp:rtcp-fb:0';
/** XEP-0294 RTP header extensions negotiation. */
export const NS_JINGLE_RTP_HDREXT = 'urn:xmpp:jingle:apps:rtp:rtp-hdrext:0';
/** XEP-0339 Source-specific media attributes. */
export const NS_JINGLE_SSMA = 'urn:xmpp:jingle:apps:rtp:ssma:0';
/** Media stream identification (the `a=msid` line), as StanzaJS and Jitsi write it. */
export const NS_JINGLE_MSID = 'urn:xmpp:jingle:apps:rtp:msid:0';
/** XEP-0338 Jingle Grouping Framework. */
export const NS_JINGLE_GROUPING = 'urn:xmpp:jingle:apps:grouping:0';
/** XEP-0176 Jingle ICE-UDP Transport Method. */
export const NS_JINGLE_ICE_UDP = 'urn:xmpp:jingle:transports:ice-udp:1';
/** XEP-0320 DTLS fingerprints in Jingle. */
export const NS_JINGLE_DTLS = 'urn:xmpp:jingle:apps:dtls:0';
/** XEP-0343 WebRTC data channels (SCTP over DTLS) in Jingle. */
export const NS_JINGLE_DTLS_SCTP = 'urn:xmpp:jingle:transports:dtls-sctp:1';
