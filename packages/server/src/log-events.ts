// The log lines an operator acts on, made from the diagnostics channels the
// c2s and sm already publish on (diagnostics.ts), so no hot path carries
// logging code. Each line has a stable `event` field (docs/logging.md):
//
//   auth.succeeded  info   conn, remote, transport, mechanism, user
//   auth.failed     warn   conn, remote, transport, mechanism, account, reason  ← fail2ban (logAuthFailure)
//   tls.failed      warn   conn, remote, transport
//   stream.error    info   conn, remote, condition, direction (warn when we sent it)
//   session.started info   jid, sm
//   session.ended   info   jid, reason
//   component.up / component.down   info / warn
//   backend.<state> info / warn (NATS, PostgreSQL)
//
// Connections are logged at debug when they open and close without error.
// No line carries a password, SASL payload, token or stanza: the channels do
// not carry them.

import { subscribe } from 'node:diagnostics_channel';
import {
  channels,
  type BackendStateMessage,
  type C2sAuthenticatedMessage,
  type C2sCloseMessage,
  type C2sOpenMessage,
  type ComponentStateMessage,
  type SmSessionEndedMessage,
  type SmSessionStartedMessage,
  type TlsFailedMessage,
} from './diagnostics.ts';
import type { StopReason } from './c2s/stream-contract.ts';
import { moduleLogger } from './log.ts';
import { formatAuthFailure, type AuthFailure } from './auth/auth-log.ts';

/**
 * The c2s's sink for failed logins (config `logAuthFailures`): one warn line,
 * its fields for machines and its msg in the fixed shape docs/hardening.md's
 * fail2ban filter matches.
 */
export function logAuthFailure(f: AuthFailure): void {
  moduleLogger('c2s').warn(
    { event: 'auth.failed', conn: f.stream, remote: f.address, transport: f.transport, mechanism: f.mechanism ?? null, account: f.account ?? null, reason: f.reason, retryAfterMs: f.retryAfterMs },
    formatAuthFailure(f),
  );
}

let installed = false;
/** Open connections' addresses, so lines about a connection's end can name it. */
const remotes = new Map<string, { remote: string; transport: string }>();

/** Subscribes the logger to the diagnostics channels (once per process; later calls do nothing). */
export function installLogEvents(): void {
  if (installed) return;
  installed = true;

  subscribe(channels.c2sOpen.name, (m) => {
    const { id, remote, transport } = m as C2sOpenMessage;
    remotes.set(id, { remote, transport });
    moduleLogger('c2s').debug({ event: 'conn.opened', conn: id, remote, transport }, 'connection opened');
  });

  subscribe(channels.c2sAuthenticated.name, (m) => {
    const { id, username, mechanism, transport, remote } = m as C2sAuthenticatedMessage;
    moduleLogger('c2s').info({ event: 'auth.succeeded', conn: id, remote: remote ?? remotes.get(id)?.remote, transport, mechanism, user: username }, 'login succeeded');
  });

  subscribe(channels.c2sClose.name, (m) => {
    const { id, jid } = m as C2sCloseMessage;
    const reason = (m as C2sCloseMessage).reason as StopReason;
    const where = remotes.get(id);
    remotes.delete(id);
    const context = { conn: id, remote: where?.remote, transport: where?.transport, jid };
    const log = moduleLogger('c2s');
    if ('socket' in reason && reason.socket === 'tls-failed') {
      log.warn({ event: 'tls.failed', ...context }, 'TLS handshake failed');
    } else if ('stream' in reason) {
      const condition = reason.stream.condition;
      // direction: 'in' when the client's data was at fault (bad XML, wrong namespace), 'out' for our policy (limits, timeouts).
      log.warn({ event: 'stream.error', ...context, condition, direction: reason.direction }, `stream error: ${condition}`);
    } else {
      log.debug({ event: 'conn.closed', ...context, reason: describeStop(reason) }, 'connection closed');
    }
  });

  subscribe(channels.tlsFailed.name, (m) => {
    const { remote, transport, detail } = m as TlsFailedMessage;
    moduleLogger('c2s').warn({ event: 'tls.failed', remote, transport, detail }, 'TLS handshake failed');
  });

  subscribe(channels.smSessionStarted.name, (m) => {
    const { jid, sm } = m as SmSessionStartedMessage;
    moduleLogger('sm').info({ event: 'session.started', jid, sm }, 'session started');
  });

  subscribe(channels.smSessionEnded.name, (m) => {
    const { jid, reason } = m as SmSessionEndedMessage;
    moduleLogger('sm').info({ event: 'session.ended', jid, reason }, 'session ended');
  });

  subscribe(channels.componentState.name, (m) => {
    const { kind, name, state, detail } = m as ComponentStateMessage;
    const fields = { event: `component.${state}`, kind, name, detail };
    if (state === 'up') moduleLogger('router').info(fields, `${kind} ${name} up`);
    else moduleLogger('router').warn(fields, `${kind} ${name} down`);
  });

  subscribe(channels.backendState.name, (m) => {
    const { backend, state, detail } = m as BackendStateMessage;
    const fields = { event: `backend.${state}`, backend, detail };
    if (state === 'connected' || state === 'closed') moduleLogger('backend').info(fields, `${backend} ${state}`);
    else moduleLogger('backend').warn(fields, `${backend} ${state}`);
  });
}

function describeStop(reason: StopReason): string {
  if ('socket' in reason) return `socket-${reason.socket}`;
  if ('sm' in reason) return `sm-${reason.sm}`;
  if ('clientClosed' in reason) return 'client-closed';
  if ('shutdown' in reason) return 'shutdown';
  return 'stream-error';
}
