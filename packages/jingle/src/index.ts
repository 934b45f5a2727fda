// @switchboard/jingle: XEP-0166 sessions without a connection. IQs go in
// through JingleManager.process(), iqs to send come out as `send` events.
// Isomorphic; the Node-only parts (SOCKS5 sockets, incremental hashing) are
// in '@switchboard/jingle/node'.

export * from './namespaces.ts';
export { Emitter, type Listener } from './emitter.ts';
export { octetCompare, randomId } from './ids.ts';
export {
  Session,
  type BytestreamOutcome, type ConnectionState, type Done, type Response, type SessionEvents, type SessionHost, type SessionInit, type SessionState,
} from './session.ts';
export { JingleManager, type Application, type IncomingInit, type ManagerEvents, type ManagerOptions, type ProcessOutcome } from './manager.ts';
export { attachJingle, type AttachOptions, type IqAnswer, type JingleConnection } from './attach-client.ts';

// Wire codecs (one module per XEP).
export {
  JINGLE_ACTIONS, JINGLE_ERROR_CONDITIONS, REASON_CONDITIONS, isJingleAction, isReasonCondition, jingleError, jingleErrorCondition,
  parseJingle, parseReason, reasonOf, writeJingle, writeReason,
  type Content, type Creator, type Jingle, type JingleAction, type JingleErrorCondition, type JingleParse, type Reason, type ReasonCondition, type Senders,
} from './protocol/xep0166.ts';
export { payloadNamespace, type Description, type InfoPayload, type Transport, type Unknown } from './protocol/payloads.ts';
export { parseFile, writeFile, type ChecksumInfo, type FileInfo, type FileRange, type FileTransferDescription, type ReceivedInfo } from './protocol/xep0234.ts';
export { HASH_ALGORITHMS, hashElement, isSupportedAlgorithm, parseHash, type Hash, type HashAlgorithm } from './protocol/xep0300.ts';
export { type IbbTransport } from './protocol/xep0261.ts';
export { CANDIDATE_TYPES, candidatePriority, type CandidateType, type S5bCandidate, type S5bTransport } from './protocol/xep0260.ts';
export { MAX_BLOCK_SIZE, parseIbb, writeIbb, type IbbPayload } from './protocol/xep0047.ts';
export { dstAddr } from './protocol/xep0065.ts';
export {
  RTP_INFO_TYPES,
  type HeaderExtension, type Parameter, type PayloadType, type RtcpFeedback, type RtpDescription, type RtpInfo, type RtpInfoType, type Source, type SourceGroup,
} from './protocol/xep0167.ts';
export { type Fingerprint, type IceCandidate, type IceUdpTransport, type SctpMap } from './protocol/xep0176.ts';
export { type Group } from './protocol/xep0338.ts';
export { base64ToBytes, bytesToBase64 } from './protocol/base64.ts';

// File transfer (XEP-0234 over a WebRTC data channel, XEP-0260 or XEP-0261).
export { registerFileTransfer, type FileTransfers } from './file-transfer/application.ts';
export {
  FileTransferSession, type FileOffer, type FileTransferEvents, type FileTransferOptions, type Method,
} from './file-transfer/file-transfer-session.ts';
export { ByteStream, type ByteStreamEvents } from './file-transfer/bytestream.ts';
export { IbbReceiver, IbbSender } from './file-transfer/ibb.ts';
export {
  DataChannelNegotiation, DataChannelStream, dataChannelAvailable, type DataChannelOffer, type DataChannelOptions, type PeerConnectionConstructor,
} from './file-transfer/datachannel.ts';
export { S5bNegotiation, type S5bOptions, type Selected, type Socks5Listener, type Socks5Port } from './file-transfer/s5b.ts';
export { webCryptoHasher, type Hasher, type HasherFactory } from './file-transfer/hash.ts';

// RTP calls (XEP-0167 over XEP-0176 + XEP-0320) on an injected RTCPeerConnection.
export { MEDIA_FEATURES, registerMedia, type CallOptions, type Calls, type MediaOptions } from './media/application.ts';
export { MediaSession, type MediaSessionEvents, type MediaSessionOptions } from './media/media-session.ts';

// SDP ↔ Jingle for RTCPeerConnection (XEP-0167/0176/0320/0338/0343).
export {
  candidateId, directionToSenders, iceCandidateToJingle, jingleCandidateToIce, jingleToSdp, jingleToSession, sdpToJingle, sendersToDirection, sessionToJingle,
  type JingleMedia, type Role,
} from './sdp/jingle-sdp.ts';
export { parseCandidate, parseSdp, writeCandidate, writeSdp, type Direction, type Extmap, type SdpMedia, type SdpSession } from './sdp/sdp.ts';
