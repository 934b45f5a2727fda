// SIGHUP and `switchboard reload`: the configuration is read again (file,
// environment, flags, through the same schema as at start), compared with
// the one in force key by key, and what can change in a running process is
// applied:
//
// - log.level, at once;
// - the TLS certificate and key, always re-read (an ACME client renews the
//   files in place): new connections get the new certificate, established
//   streams keep theirs and are not dropped; a pair that does not load is
//   refused and the old one stays;
// - the per-connection limits of LIVE_LIMITS, for connections made after.
//
// Every other changed key is named as needing a restart. One log line
// (event config.reloaded) says which was which.

import type { ServerConfig } from '../config.ts';
import type { StreamPolicy } from '../c2s/stream-contract.ts';
import type { ReloadReport } from '../admin/protocol.ts';
import type { LogLevel } from '../log.ts';

/** Limits a new connection reads from the c2s policy: changed in place, they apply from the next connection. */
export const LIVE_LIMITS = [
  'limits.maxStanzaSize',
  'limits.maxDepth',
  'limits.maxAttributes',
  'limits.authAttempts',
  'limits.stanzasPerSecond',
  'limits.stanzaBurst',
  'limits.preAuthStanzaSize',
  'limits.bytesPerSecond',
  'limits.burstBytes',
  'limits.maxOutputBytes',
  'limits.smQueueStanzas',
  'limits.smQueueBytes',
  'limits.csiQueueSize',
] as const;

/** Sets the c2s policy's live limits from a configuration (at start and on reload). */
export function applyLiveLimits(policy: StreamPolicy, config: ServerConfig): void {
  const l = config.limits;
  policy.limits = { ...policy.limits, maxStanzaSize: l.maxStanzaSize, maxDepth: l.maxDepth, maxAttributes: l.maxAttributes };
  policy.authAttempts = l.authAttempts;
  policy.stanzaRate = { perSecond: l.stanzasPerSecond, burst: l.stanzaBurst };
  policy.preAuthStanzaSize = l.preAuthStanzaSize;
  policy.bytesPerSecond = l.bytesPerSecond;
  policy.burstBytes = l.burstBytes;
  policy.maxOutputBytes = l.maxOutputBytes;
  policy.smQueue = { stanzas: l.smQueueStanzas, bytes: l.smQueueBytes };
  policy.csiQueueSize = l.csiQueueSize;
}

/** Every leaf of the configuration by dotted path, as JSON (arrays are leaves). */
function leaves(value: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(value) ?? 'undefined');
  }
  return out;
}

/** The dotted paths whose values differ. */
export function changedKeys(a: ServerConfig, b: ServerConfig): string[] {
  const left = leaves(a, '', new Map());
  const right = leaves(b, '', new Map());
  const keys = new Set([...left.keys(), ...right.keys()]);
  return [...keys].filter((k) => left.get(k) !== right.get(k)).sort();
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) node = node[p] as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

function getPath(source: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, p) => (node as Record<string, unknown> | undefined)?.[p], source);
}

export interface ReloadTargets {
  /** This process's c2s, when it runs one. */
  c2s?: { reloadTls(next: ServerConfig): Promise<string[]>; applyLimits(next: ServerConfig): void };
  setLogLevel(level: LogLevel): void;
}

/** Applies what can be of `next`; returns the report and the configuration now in force. */
export async function applyReload(current: ServerConfig, next: ServerConfig, targets: ReloadTargets): Promise<{ report: ReloadReport; config: ServerConfig }> {
  const report: ReloadReport = { applied: [], needsRestart: [], errors: [], warnings: [] };
  const inForce = structuredClone(current) as unknown as Record<string, unknown>;
  const take = (key: string): void => setPath(inForce, key, structuredClone(getPath(next, key)));
  const changed = changedKeys(current, next);

  if (targets.c2s) {
    try {
      report.warnings.push(...(await targets.c2s.reloadTls(next)));
      report.applied.push(`TLS certificate (${next.tlsCert ?? 'self-signed, in dataDir'}; new connections)`);
      take('tlsCert');
      take('tlsKey');
    } catch (err) {
      report.errors.push(`TLS certificate: ${(err as Error).message}; the previous certificate stays in use`);
    }
  }
  // Limits are the c2s's: a process without one (an sm alone) takes none.
  const limits = targets.c2s ? changed.filter((k) => (LIVE_LIMITS as readonly string[]).includes(k)) : [];
  if (targets.c2s && limits.length > 0) {
    targets.c2s.applyLimits(next);
    for (const k of limits) take(k);
    report.applied.push(...limits.map((k) => `${k} ${String(getPath(next, k))} (new connections)`));
  }
  for (const key of changed) {
    if (key === 'log.level') {
      targets.setLogLevel(next.log.level);
      take(key);
      report.applied.push(`log.level ${next.log.level}`);
    } else if (key === 'tlsCert' || key === 'tlsKey') {
      if (!targets.c2s) report.needsRestart.push(key);
    } else if (!limits.includes(key)) {
      report.needsRestart.push(key);
    }
  }
  return { report, config: inForce as unknown as ServerConfig };
}
