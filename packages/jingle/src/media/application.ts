// Wires XEP-0167 RTP sessions into a JingleManager: incoming RTP offers
// become MediaSessions on a peer connection the application makes, outgoing
// calls are started here, and the disco features name what the SDP mapping
// carries (XEP-0167 §11, XEP-0176 §9, XEP-0320 §4, XEP-0293/0294/0338/0339).

import type { Jid } from '@switchboard/jid';
import type { JingleManager } from '../manager.ts';
import type { SessionInit } from '../session.ts';
import {
  NS_JINGLE_DTLS, NS_JINGLE_GROUPING, NS_JINGLE_ICE_UDP, NS_JINGLE_RTCP_FB, NS_JINGLE_RTP, NS_JINGLE_RTP_AUDIO, NS_JINGLE_RTP_HDREXT,
  NS_JINGLE_RTP_VIDEO, NS_JINGLE_SSMA,
} from '../namespaces.ts';
import { MediaSession } from './media-session.ts';

export interface MediaOptions {
  /** Makes the RTCPeerConnection of a session (ICE servers from XEP-0215, …); the session closes it when it ends. */
  readonly peerConnection: (init: SessionInit) => RTCPeerConnection;
}

export interface CallOptions {
  /** Tracks to send, added to the peer connection before the offer is made. */
  readonly stream?: MediaStream;
  /** A peer connection prepared by the caller (transceivers, data channels) instead of one from `peerConnection`. */
  readonly peerConnection?: RTCPeerConnection;
}

export interface Calls {
  /** Calls a full JID; resolves once session-initiate is out. */
  call(peer: string | Jid, options?: CallOptions): Promise<MediaSession>;
}

export const MEDIA_FEATURES: readonly string[] = [
  NS_JINGLE_RTP, NS_JINGLE_RTP_AUDIO, NS_JINGLE_RTP_VIDEO, NS_JINGLE_ICE_UDP, NS_JINGLE_DTLS,
  NS_JINGLE_RTCP_FB, NS_JINGLE_RTP_HDREXT, NS_JINGLE_GROUPING, NS_JINGLE_SSMA,
];

export function registerMedia(manager: JingleManager, options: MediaOptions): Calls {
  manager.registerApplication({
    namespace: NS_JINGLE_RTP,
    features: MEDIA_FEATURES,
    create: (init) => new MediaSession(init, { peerConnection: options.peerConnection(init) }),
  });
  return {
    async call(peer, call = {}) {
      const init: SessionInit = { peer, initiator: true, requestTimeoutMs: manager.requestTimeoutMs };
      const pc = call.peerConnection ?? options.peerConnection(init);
      const stream = call.stream;
      for (const track of stream?.getTracks() ?? []) pc.addTrack(track, stream!);
      const session = manager.addSession(new MediaSession(init, { peerConnection: pc }));
      await session.start();
      return session;
    },
  };
}
