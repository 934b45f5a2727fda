// An sm shard's side of the administration over the router (admin/cluster.ts
// asks): each request is checked, carried out on this shard's own sessions
// through admin/operations.ts (removal through the one `sm:sessions delete`
// path), and answered to the asker with the request's id, from the shard's
// address. A request this shard cannot read is answered `bad-request`, so the
// asker is not left to its timeout.

import type { Envelope } from '../router/envelope.ts';
import { adminRoutePayload, type AdminRoutePayload } from '../router/envelope.ts';
import type { ComponentAddress } from '../router/router.ts';
import type { AdminActor, AdminOperations } from './operations.ts';
import { isShardOp, parseBody, shardRequestSchemas, type RouteAnswer, type ShardOp } from './route-protocol.ts';

async function perform(op: ShardOp, body: string, ops: AdminOperations, actor: AdminActor): Promise<RouteAnswer<ShardOp>> {
  const bad = { ok: false, code: 'bad-request', message: `malformed ${op} request` } as const;
  switch (op) {
    case 'user.created': {
      const args = parseBody(shardRequestSchemas[op], body);
      return args ? ops.userCreated(args.jid) : bad;
    }
    case 'user.remove': {
      const args = parseBody(shardRequestSchemas[op], body);
      return args ? ops.removeUser(args.jid, actor) : bad;
    }
    case 'sessions.end': {
      const args = parseBody(shardRequestSchemas[op], body);
      if (!args) return bad;
      return args.reason === 'kicked' ? ops.kick(args.jid, actor) : ops.endSessions(args.jid, args.reason);
    }
    case 'sessions.list':
      return { ok: true, value: ops.listSessions() };
    case 'stats':
      return { ok: true, value: { sessions: ops.sessionCount(), onlineUsers: ops.onlineUsers().length } };
  }
}

/** Answers one admin request that reached the shard at `self`. */
export async function answerShardRequest(envelope: Envelope, request: AdminRoutePayload, ops: AdminOperations, self: ComponentAddress, route: (envelope: Envelope) => void): Promise<void> {
  if (request.action !== 'request') return; // answers go to admin/<node> addresses, never to a shard
  const actor: AdminActor = { via: 'router', from: envelope.from };
  let answer: RouteAnswer<ShardOp>;
  try {
    answer = isShardOp(request.op) ? await perform(request.op, request.body, ops, actor) : { ok: false, code: 'bad-request', message: `an sm shard does not answer ${request.op}` };
  } catch (err) {
    answer = { ok: false, code: 'failed', message: (err as Error).message };
  }
  route({ to: envelope.from, from: self, payload: adminRoutePayload({ action: 'answer', id: request.id, op: request.op, body: JSON.stringify(answer) }) });
}
