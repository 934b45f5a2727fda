// The admin socket's protocol: JSON lines over a local Unix socket. The
// client writes one request a line, the server answers each with one line
// carrying the same id, in order. Who may connect is decided by the socket
// file's permissions (0600, the server's user), so requests carry no
// credentials. docs/operations.md shows a session.
//
//   → {"id":1,"op":"user.remove","jid":"carol@localhost"}
//   ← {"id":1,"ok":true,"result":{"jid":"carol@localhost","sessionsEnded":2}}
//   ← {"id":2,"ok":false,"error":{"code":"no-such-user","message":"no such account: dave@localhost"}}

import { z } from 'zod';
import type { AdminErrorCode } from './operations.ts';
import type { SessionsReport, StatsReport } from './endpoint.ts';

/** Bumped when a request or answer changes shape; the CLI says so instead of misreading. */
export const ADMIN_PROTOCOL_VERSION = 2;

/** Longest request line accepted (a password, a JID and a little JSON). */
export const MAX_REQUEST_BYTES = 64 * 1024;

export const adminRequestSchema = z.discriminatedUnion('op', [
  z.strictObject({ id: z.number().int(), op: z.literal('hello') }),
  z.strictObject({ id: z.number().int(), op: z.literal('user.add'), jid: z.string(), password: z.string() }),
  z.strictObject({ id: z.number().int(), op: z.literal('user.remove'), jid: z.string() }),
  z.strictObject({ id: z.number().int(), op: z.literal('user.passwd'), jid: z.string(), password: z.string() }),
  z.strictObject({ id: z.number().int(), op: z.literal('user.list'), domain: z.string().optional() }),
  z.strictObject({ id: z.number().int(), op: z.literal('sessions.list') }),
  z.strictObject({ id: z.number().int(), op: z.literal('session.kick'), jid: z.string() }),
  z.strictObject({ id: z.number().int(), op: z.literal('stats') }),
  z.strictObject({ id: z.number().int(), op: z.literal('reload') }),
]);

export type AdminRequest = z.infer<typeof adminRequestSchema>;
export type AdminOp = AdminRequest['op'];

/** What `reload` reports (ops/reload.ts). */
export interface ReloadReport {
  /** Settings now in force. */
  applied: string[];
  /** Settings that changed in the file but take effect only at the next start. */
  needsRestart: string[];
  /** What could not be applied (a certificate that does not load): the old value stays. */
  errors: string[];
  /** Applied, with a warning (a certificate that does not cover the domain, or expires soon). */
  warnings: string[];
}

export interface ProcessStats {
  version: string;
  pid: number;
  role: string;
  /** Client connections this process holds (when it runs a c2s). */
  c2sConnections?: number;
}

/** The result of each request, by op. */
export interface AdminResults {
  hello: { protocol: number; version: string; domain: string; pid: number };
  'user.add': { jid: string };
  'user.remove': { jid: string; sessionsEnded: number };
  'user.passwd': { jid: string; sessionsEnded: number };
  'user.list': string[];
  /** Version 2: with the shards that did not answer (a cluster). */
  'sessions.list': SessionsReport;
  'session.kick': { ended: string[] };
  /** Version 2: each component's own figures, and who did not answer (a cluster). */
  stats: StatsReport & ProcessStats;
  reload: ReloadReport;
}

export type AdminReplyError = { code: AdminErrorCode | 'unknown-op' | 'bad-json' | 'too-long'; message: string };

export type AdminReply<Op extends AdminOp = AdminOp> = { id: number; ok: true; result: AdminResults[Op] } | { id: number; ok: false; error: AdminReplyError };
