// The connection's states and the only transitions allowed between them.
// client.ts is their one writer; README.md draws the diagram.
//
//   Disconnected ─connect()─▶ Connected ─▶ StreamInit ─▶ Authenticate ─▶ Bind ─▶ Binding ─▶ Binded
//     │  (transport fails)        │             │              │           │         │          │
//     ▼                           ▼             ▼              ▼           ▼         ▼          ▼
//   Retrying ◀─────────── any transport error or close, stream error, timeout ─────────────────┘
//     │ waits, then opens the transport again (→ Connected, or → Retrying when that fails)
//     └─▶ Disconnected: disconnect(), fatal errors (wrong credentials …), attempts exhausted;
//         every other state also goes to Disconnected on disconnect() or a fatal error.

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
