// What the admin envelopes of a cluster carry (router/envelope.ts `admin`,
// docs/protocol.md "Administration over the router"): the ops a shard answers
// for its users and sessions, the one op a process answers for itself, and
// the shape of every answer. Both ends check a body against these schemas, so
// a malformed or foreign body is refused, never half-read.

import { z } from 'zod';

/** Ops addressed to an sm shard's address (`sm`, `sm/shard-K`). */
export const shardRequestSchemas = {
  /** The account was stored by the asker: the shard's modules set the user up (`sm:sessions create`'s path). */
  'user.created': z.strictObject({ jid: z.string() }),
  /** `sm:sessions delete`'s path: the user's sessions end (account-removed), then the account and its data go. */
  'user.remove': z.strictObject({ jid: z.string() }),
  /** A bare JID's sessions or one full JID's end with the reason (the asker changed the store already). */
  'sessions.end': z.strictObject({ jid: z.string(), reason: z.enum(['kicked', 'password-changed', 'account-disabled']) }),
  'sessions.list': z.strictObject({}),
  stats: z.strictObject({}),
} as const;

/** Ops addressed to a process's admin address (`admin/<node>`). */
export const processRequestSchemas = {
  'process.stats': z.strictObject({}),
} as const;

const sessionInfo = z.strictObject({
  jid: z.string(),
  sm: z.string(),
  c2s: z.string(),
  available: z.boolean(),
  priority: z.number(),
  show: z.string().optional(),
});

export const answerValueSchemas = {
  'user.created': z.strictObject({ jid: z.string() }),
  'user.remove': z.strictObject({ jid: z.string(), sessionsEnded: z.number() }),
  'sessions.end': z.strictObject({ ended: z.array(z.string()) }),
  'sessions.list': z.array(sessionInfo),
  stats: z.strictObject({ sessions: z.number(), onlineUsers: z.number() }),
  'process.stats': z.strictObject({
    role: z.string(),
    pid: z.number(),
    version: z.string(),
    uptimeSeconds: z.number(),
    rssBytes: z.number(),
    c2sConnections: z.number().optional(),
    shards: z.array(z.number()),
  }),
} as const;

export type ShardOp = keyof typeof shardRequestSchemas;
export type ProcessOp = keyof typeof processRequestSchemas;
export type RouteOp = ShardOp | ProcessOp;
export type RouteArgs<Op extends RouteOp> = z.infer<(typeof shardRequestSchemas & typeof processRequestSchemas)[Op]>;
export type RouteValue<Op extends RouteOp> = z.infer<(typeof answerValueSchemas)[Op]>;

const errorCode = z.enum(['bad-request', 'bad-jid', 'bad-password', 'exists', 'no-such-user', 'no-such-session', 'failed']);

/** An answer's body: the op's result, or a typed refusal. */
export function answerSchema<Op extends RouteOp>(op: Op) {
  return z.union([
    z.strictObject({ ok: z.literal(true), value: answerValueSchemas[op] }),
    z.strictObject({ ok: z.literal(false), code: errorCode, message: z.string() }),
  ]);
}

export type RouteAnswer<Op extends RouteOp> = { ok: true; value: RouteValue<Op> } | { ok: false; code: z.infer<typeof errorCode>; message: string };

export const isShardOp = (op: string): op is ShardOp => Object.hasOwn(shardRequestSchemas, op);
export const isProcessOp = (op: string): op is ProcessOp => Object.hasOwn(processRequestSchemas, op);

/** A JSON body checked against a schema; undefined when it is not JSON or does not match. */
export function parseBody<S extends z.ZodType>(schema: S, body: string): z.infer<S> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
