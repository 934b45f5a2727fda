// The connection's states and the only transitions allowed between them.
//
//   Disconnected ──connect()──▶ (transport opens) ──▶ Connected ──▶ StreamInit ──▶ Authenticate
//        ▲                          │ fails                                             │
//        │                          ▼                                                   ▼
//        │                       Retrying ◀── any transport error or close ──  Bind ──▶ Binding ──▶ Binded
//        │                          │ (wait, then open again)
//        └── disconnect(), wrong credentials, attempts exhausted

export type ConnectionState =
  | 'Disconnected'
  | 'Connected'
  | 'StreamInit'
  | 'Authenticate'
  | 'Bind'
  | 'Binding'
  | 'Binded'
  | 'Retrying';

const TRANSITIONS: Record<ConnectionState, readonly ConnectionState[]> = {
  Disconnected: ['Connected', 'Retrying'],
  Retrying: ['Connected', 'Retrying', 'Disconnected'],
  Connected: ['StreamInit', 'Retrying', 'Disconnected'],
  StreamInit: ['Authenticate', 'Retrying', 'Disconnected'],
  // STARTTLS and SASL restart the stream without leaving Authenticate.
  Authenticate: ['Bind', 'Retrying', 'Disconnected'],
  Bind: ['Binding', 'Retrying', 'Disconnected'],
  Binding: ['Binded', 'Retrying', 'Disconnected'],
  Binded: ['Retrying', 'Disconnected'],
};

export function canTransition(from: ConnectionState, to: ConnectionState): boolean {
  return TRANSITIONS[from].includes(to);
}
