// Prometheus metrics (prom-client), made from the diagnostics channels the
// c2s and sm publish on (diagnostics.ts), so the message path carries no
// metrics code beyond a plain counter per stanza (diagnostics.ts
// stanzaCounts). docs/operations.md lists every metric;
// docs/grafana/switchboard.json is a dashboard over them.

import { subscribe } from 'node:diagnostics_channel';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  channels,
  stanzaCounts,
  type BackendStateMessage,
  type C2sAuthenticatedMessage,
  type C2sCloseMessage,
  type C2sOpenMessage,
  type ComponentStateMessage,
  type SmStanzaTimedMessage,
  type StorageCallMessage,
  type ArchiveWriteFailedMessage,
} from '../diagnostics.ts';
import type { AuthFailure } from '../auth/auth-log.ts';
import type { StoreSizeSource } from './store-sizes.ts';

export interface Metrics {
  readonly registry: Registry;
  /** Where the store-size gauges read from (the process that holds the sm's store); none: they have no sample. */
  watchStoreSizes(source: StoreSizeSource | undefined): void;
  /** The exposition text for /metrics. */
  text(): Promise<string>;
  readonly contentType: string;
}

let metrics: Metrics | undefined;

/** The process's metrics, subscribed to the channels on first use (one registry per process). */
export function processMetrics(): Metrics {
  if (metrics) return metrics;
  const registry = new Registry();
  // Event-loop lag, heap, RSS, GC, handles: prom-client's defaults (nodejs_*, process_*).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

  const connections = new Map<string, { transport: string; state: 'negotiating' | 'authenticated' }>();
  new Gauge({
    name: 'switchboard_c2s_connections',
    help: 'Client connections by transport and state (negotiating: before SASL succeeded; authenticated: after).',
    labelNames: ['transport', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of ['tcp', 'websocket']) for (const s of ['negotiating', 'authenticated']) this.set({ transport: t, state: s }, 0);
      for (const c of connections.values()) this.inc({ transport: c.transport, state: c.state });
    },
  });
  const sessions = new Gauge({ name: 'switchboard_sm_sessions', help: 'Sessions the sm holds (bound resources, hibernating ones included).', registers: [registry] });
  const logins = new Counter({ name: 'switchboard_logins_total', help: 'SASL outcomes by mechanism and result (success, or the failure reason: not-authorized, throttled, …).', labelNames: ['mechanism', 'result'], registers: [registry] });
  // The stanza counts are plain numbers the c2s keeps (diagnostics.ts stanzaCounts), read here when scraped.
  for (const [direction, name, help] of [
    ['in', 'switchboard_stanzas_in_total', 'Stanzas received from clients, by kind.'],
    ['out', 'switchboard_stanzas_out_total', 'Stanzas delivered to clients, by kind.'],
  ] as const) {
    new Counter({
      name,
      help,
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [kind, n] of Object.entries(stanzaCounts[direction])) this.inc({ kind }, n);
      },
    });
  }
  const streamErrors = new Counter({ name: 'switchboard_stream_errors_total', help: 'Streams closed with a stream error, by condition.', labelNames: ['condition'], registers: [registry] });
  const tlsFailures = new Counter({ name: 'switchboard_tls_failures_total', help: 'Failed TLS handshakes.', registers: [registry] });
  const components = new Gauge({ name: 'switchboard_component_up', help: '1 while a component (XEP-0114, service) is connected, 0 after it left.', labelNames: ['kind', 'name'], registers: [registry] });
  const backends = new Gauge({ name: 'switchboard_backend_up', help: '1 while a backend connection (nats, postgres) is up.', labelNames: ['backend'], registers: [registry] });
  const archiveFailures = new Counter({ name: 'switchboard_archive_write_failures_total', help: 'Archive entries (XEP-0313) whose transaction failed: delivered, not archived.', registers: [registry] });

  // Sizes of the shared store: every process reading the same store reports the same value (max(), not sum(), across processes).
  let sizes: StoreSizeSource | undefined;
  for (const [name, key, help] of [
    ['switchboard_offline_messages', 'offlineMessages', 'Messages stored offline for all users (XEP-0160), counted at most once a minute and up to 1,000,000 (ops/store-sizes.ts).'],
    ['switchboard_archive_messages', 'archiveMessages', 'Messages in every user\'s archive (XEP-0313), the sum of the per-user counts the store keeps, read at most once a minute.'],
  ] as const) {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.reset();
        const read = await sizes?.read();
        if (read) this.set(read[key]);
      },
    });
  }

  const storageSeconds = new Histogram({
    name: 'switchboard_storage_call_seconds',
    help: 'Storage calls by port and method, to their settling (storage/timed.ts).',
    labelNames: ['port', 'op'],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const smSeconds = new Histogram({
    name: 'switchboard_sm_stanza_seconds',
    help: "One stanza in 16 from a session, from its arrival at the sm to its chain's end (the session's queue wait included), by kind.",
    labelNames: ['kind'],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [registry],
  });

  subscribe(channels.c2sOpen.name, (m) => {
    const { id, transport } = m as C2sOpenMessage;
    connections.set(id, { transport, state: 'negotiating' });
  });
  subscribe(channels.c2sAuthenticated.name, (m) => {
    const { id, mechanism } = m as C2sAuthenticatedMessage;
    const c = connections.get(id);
    if (c) c.state = 'authenticated';
    logins.inc({ mechanism, result: 'success' });
  });
  subscribe(channels.c2sAuthFailed.name, (m) => {
    const f = m as AuthFailure;
    logins.inc({ mechanism: f.mechanism ?? 'none', result: f.reason });
  });
  subscribe(channels.c2sClose.name, (m) => {
    const { id } = m as C2sCloseMessage;
    connections.delete(id);
    const reason = (m as C2sCloseMessage).reason as { stream?: { condition: string }; socket?: string };
    if (reason.stream) streamErrors.inc({ condition: reason.stream.condition });
    if (reason.socket === 'tls-failed') tlsFailures.inc();
  });
  subscribe(channels.tlsFailed.name, () => tlsFailures.inc());
  subscribe(channels.smSessionStarted.name, () => sessions.inc());
  subscribe(channels.smSessionEnded.name, () => sessions.dec());
  subscribe(channels.componentState.name, (m) => {
    const { kind, name, state } = m as ComponentStateMessage;
    components.set({ kind, name }, state === 'up' ? 1 : 0);
  });
  subscribe(channels.storageCall.name, (m) => {
    const { port, op, seconds } = m as StorageCallMessage;
    storageSeconds.observe({ port, op }, seconds);
  });
  subscribe(channels.smStanzaTimed.name, (m) => {
    const { kind, seconds } = m as SmStanzaTimedMessage;
    smSeconds.observe({ kind }, seconds);
  });
  subscribe(channels.backendState.name, (m) => {
    const { backend, state } = m as BackendStateMessage;
    backends.set({ backend }, state === 'connected' ? 1 : 0);
  });

  subscribe(channels.archiveWriteFailed.name, (m) => archiveFailures.inc((m as ArchiveWriteFailedMessage).entries));

  metrics = { registry, text: () => registry.metrics(), contentType: registry.contentType, watchStoreSizes: (source) => void (sizes = source) };
  return metrics;
}
