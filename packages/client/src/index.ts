export { Client, type ClientEvents, type ClientOptions } from './client.ts';
export { ClientError, IqError, type ClientErrorCode } from './errors.ts';
export type { ConnectionState } from './states.ts';
export type { TransportOptions, TcpOptions, WebSocketOptions, ClientTransport } from './transport/transport.ts';
export type { MechanismName } from './sasl/mechanism.ts';
export { DEFAULT_RETRY, retryDelay, type RetryPolicy, type Timers } from './timers.ts';
export { xml, Element } from '@switchboard/xml';
