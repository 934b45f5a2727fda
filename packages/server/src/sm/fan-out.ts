// The sm's side of a fan-out (docs/protocol.md "Fan-out"): the copies of one
// stanza that pkt-user delivered unchanged, grouped by the c2s that holds
// each session, so that each c2s gets the stanza once with the list of its
// recipients instead of one envelope per copy.

import type { Element } from '@switchboard/xml';
import { fanOutPayload, type FanOutTarget } from '../router/envelope.ts';
import type { ComponentAddress, Route } from '../router/router.ts';
import type { SmSession } from './session.ts';

interface Group {
  route: Route;
  sessions: SmSession[];
  /** Each session's seq in its resumption copy (Envelope.seq), when it has one. */
  seqs: (number | undefined)[];
}

export class FanOutBatch {
  /** The copy being decided now; sendTo adds a stanza to the batch only when it is this one. */
  current: Element | undefined;
  private readonly groups = new Map<Route, Group>();

  constructor(
    /** The stanza without `to`. */
    private readonly stanza: Element,
    private readonly from: ComponentAddress,
  ) {}

  add(session: SmSession, seq: number | undefined): void {
    let group = this.groups.get(session.c2s);
    if (!group) this.groups.set(session.c2s, (group = { route: session.c2s, sessions: [], seqs: [] }));
    group.sessions.push(session);
    group.seqs.push(seq);
  }

  /** One envelope per c2s; a c2s with one recipient gets the plain stanza, as any delivery. */
  flush(): void {
    for (const { route, sessions, seqs } of this.groups.values()) {
      if (sessions.length === 1) {
        const s = sessions[0]!;
        route.send({ to: route.to, from: this.from, c2s: s.c2sId, sm: s.smId, payload: this.stanza.withAttrs({ to: s.fullJid }), text: undefined, seq: seqs[0] });
        continue;
      }
      const targets: FanOutTarget[] = sessions.map((s, i) => ({ jid: s.fullJid, c2s: s.c2sId, sm: s.smId, seq: seqs[i] }));
      route.send({ to: route.to, from: this.from, c2s: undefined, sm: undefined, payload: fanOutPayload(this.stanza, targets), text: undefined });
    }
    this.groups.clear();
  }
}
