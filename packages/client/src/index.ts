export { Client, type ClientEvents, type ClientOptions } from './client.ts';
export { ClientError, IqError, type ClientErrorCode, type ClientErrorDetail } from './errors.ts';
export type { ConnectionState } from './states.ts';
export type { TransportOptions, TcpOptions, WebSocketOptions, ClientTransport, TransportEvents } from './transport/transport.ts';
export type { MechanismName } from './sasl/mechanism.ts';
export { DEFAULT_RETRY, retryDelay, type RetryPolicy, type Timers } from './timers.ts';
export { message, presence, iq, xmlSafe, type MessageFields, type PresenceFields } from './stanzas.ts';
export type { IqAnswer, IqHandler } from './iq.ts';
export { xml, Element } from '@switchboard/xml';
