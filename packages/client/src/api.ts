// Everything the package exports but the Client class, which each entry point (index.ts for Node,
// browser.ts for browsers) gives with its own platform.

export type { ClientEvents } from './client-events.ts';
export type { ClientOptions } from './client-options.ts';
export { ClientError, IqError, type ClientErrorCode, type ClientErrorDetail, type Downgrade } from './errors.ts';
export type { ConnectionState } from './states.ts';
export type { TransportOptions, TcpOptions, WebSocketOptions, ClientTransport, TransportEvents, OwnTlsVersion } from './transport/transport.ts';
export type { MechanismName } from './sasl/mechanism.ts';
export { DEFAULT_RETRY, retryDelay, type RetryPolicy, type Timers } from './timers.ts';
export { message, presence, iq, xmlSafe, type MessageFields, type PresenceFields } from './stanzas.ts';
export type { IqAnswer, IqHandler } from './iq.ts';
export { xml, Element } from '@switchboard/xml';
export { readMessage, markPrivate, NS_CARBONS, type IncomingMessage } from './carbons.ts';
export { NS_CSI } from './csi.ts';
export { fetchArchivePage, queryArchive, getArchivePrefs, setArchivePrefs, type ArchivedMessage, type ArchiveFilter, type ArchiveOptions, type ArchivePage, type MamHost } from './mam.ts';
export { Muc, MucError, NS_MUC, type GroupchatMessage, type HistoryRequest, type JoinOptions, type JoinedRoom, type MucAffiliation, type MucEvents, type MucHost, type MucRole, type Occupant, type RoomConfig } from './muc.ts';
export { NS_HATS, type Hat, type HatAssignment } from './muc-hats.ts';
export type { RegistrationDetails, RegistrationOutcome, RegistrationRequest } from './muc-registration.ts';
export type { Platform, WebSocketClass } from './transport/platform.ts';
export type { FastToken, FastTokenStorage, FastMechanismName } from './fast.ts';
export type { MamMetadata } from '@switchboard/protocol';
export type { UserAgent } from './sasl2.ts';
