// The only c2s file that speaks the internal protocol (as jabberd2's c2s/sm.c):
// it builds every envelope the c2s sends to the sm and reads every one it
// gets back, turning them into calls on the c2s.

import type { Element } from '@switchboard/xml';
import {
  encodeSeqs,
  readControl,
  readFanOut,
  resumeControl,
  sessionControl,
  sessionsControl,
  type Control,
  type EndReason,
  type Envelope,
} from '../router/envelope.ts';
import type { AckReport } from './stream-management.ts';
import type { ComponentAddress, LivenessEvent, Route, Router, UndeliverableReason } from '../router/router.ts';
import { isSmAddress, ShardMap } from '../router/shards.ts';
import { toStamper } from './stamp.ts';

/** What the c2s does with what the sm says. */
export interface SmLinkHandler {
  /** The session is up; `bound`: what the sm's modules put in XEP-0386's `<bound/>` (for a Bind 2 start). */
  started(c2sId: string, smId: string, bound: readonly Element[]): void;
  /** The bind failed; `condition` when the sm gave one (resource-constraint), else internal-server-error. */
  startFailed(c2sId: string, condition?: 'resource-constraint'): void;
  /** The session is over; `reason` is set when the sm ended it on its own, `returned` holds client stanzas it did not take. */
  ended(c2sId: string, reason: EndReason | undefined, returned: readonly Element[]): void;
  /** A stanza for the session's client, its text if the sm has it, and its seq in the sm's copy; false if the c2s has no such connection. */
  deliver(c2sId: string, stanza: Element, text: string | undefined, seq: number | undefined): boolean;
  /** The sm's answer to a resumption through it: the session's id and the answer, or undefined for both when it failed unasked. */
  resumeAnswered(c2sId: string, smId: string | undefined, answer: Extract<Control, { ns: 'resume' }> | undefined): void;
  /** A stanza from the client that could not reach the sm: the client gets an error for it. */
  bounce(c2sId: string, stanza: Element, reason: UndeliverableReason): void;
  /** The sm of `address` went away (goodbye, silence past the bound, or a restart with a new epoch): every session with it is over. */
  smGone(address: ComponentAddress, why: string): void;
}

export class SmLink {
  private readonly pendingUserActions = new Map<string, (ok: boolean) => void>();
  /** Each session's way to the sm owning its user's shard, chosen once at `start`. */
  private readonly sessionRoutes = new Map<string, Route>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly router: Router,
    readonly address: ComponentAddress,
    private readonly handler: SmLinkHandler,
    /** The cluster's shards: a user's envelopes go to the sm of the user's shard (docs/protocol.md "Shards"). */
    readonly shards: ShardMap = new ShardMap(1),
  ) {}

  /** The route to the sm of the shard of `jid`'s user. */
  private smFor(jid: string): Route {
    return this.router.routeTo(this.shards.addressOf(jid));
  }

  /** The sm address the session of `c2sId` is with, if it started one. */
  smOf(c2sId: string): ComponentAddress | undefined {
    return this.sessionRoutes.get(c2sId)?.to;
  }

  /** The connection is gone for good: its route is forgotten. */
  forget(c2sId: string): void {
    this.sessionRoutes.delete(c2sId);
  }

  async attach(): Promise<void> {
    await this.router.attach(this.address, (envelope) => this.receive(envelope), { undeliverable: (envelope, reason) => this.undeliverable(envelope, reason) });
    this.unwatch = this.router.watch((event) => this.liveness(event));
  }

  detach(): Promise<void> {
    this.unwatch?.();
    return this.router.detach(this.address);
  }

  /** The sm's liveness: when it goes down or comes back with a new epoch, its sessions are gone. */
  private liveness(event: LivenessEvent): void {
    if (event.state === 'down' && isSmAddress(event.address)) this.handler.smGone(event.address, event.why);
  }

  /** An envelope of ours the router could not hand to the sm: nothing is dropped silently. */
  private undeliverable(envelope: Envelope, reason: UndeliverableReason): void {
    const control = readControl(envelope.payload);
    if (!control) {
      if (envelope.c2s !== undefined) this.handler.bounce(envelope.c2s, envelope.payload, reason);
      return;
    }
    if (control.ns === 'sessions') {
      const key = `${control.action} ${control.target}`;
      this.pendingUserActions.get(key)?.(false);
      this.pendingUserActions.delete(key);
      return;
    }
    if (control.ns === 'session' && control.action === 'start' && envelope.c2s !== undefined) this.handler.startFailed(envelope.c2s);
    if (control.ns === 'resume' && control.action === 'resume' && envelope.c2s !== undefined) this.handler.resumeAnswered(envelope.c2s, undefined, undefined);
    // A lost `end`: the sm is unreachable, and learns of the session's end from our goodbye or silence.
  }

  /** `sm:session start`: bind this connection's full JID, with the features to turn on as it starts (XEP-0386). */
  start(c2sId: string, fullJid: string, features?: readonly Element[]): void {
    const route = this.smFor(fullJid);
    this.sessionRoutes.set(c2sId, route);
    this.send(route, c2sId, undefined, sessionControl('start', fullJid, { features }));
  }

  /** `sm:session end`: the connection is gone or closing (`disconnected` is jabberd's 510). */
  end(c2sId: string, smId: string, target: string, reason: EndReason, returned?: readonly Element[]): void {
    this.send(this.sessionRoutes.get(c2sId) ?? this.smFor(target), c2sId, smId, sessionControl('end', target, { reason, returned }));
  }

  /** XEP-0198 through the sm: the session may be resumed through any c2s; the sm keeps a copy from now on. */
  resumable(c2sId: string, smId: string, target: string, secret: string, maxSeconds: number): void {
    this.send(this.sessionRoutes.get(c2sId) ?? this.smFor(target), c2sId, smId, resumeControl('resumable', target, { secret, max: maxSeconds }));
  }

  /** XEP-0198 through the sm: a batch of what the client acknowledged and what entered the queue. */
  acked(c2sId: string, smId: string, target: string, report: AckReport): void {
    const fields = { h: report.h, written: encodeSeqs(report.written), dropped: encodeSeqs(report.dropped), local: report.local };
    this.send(this.sessionRoutes.get(c2sId) ?? this.smFor(target), c2sId, smId, resumeControl('acked', target, fields));
  }

  /** XEP-0198 through the sm: this connection asks to resume the session `smId` of `bareJid`; the answer is `resumed`. */
  resume(c2sId: string, smId: string, bareJid: string, secret: string, h: number): void {
    const route = this.smFor(bareJid);
    this.sessionRoutes.set(c2sId, route);
    this.send(route, c2sId, smId, resumeControl('resume', bareJid, { secret, h }));
  }

  /** A stanza from the client, `from` already stamped, and its text when the stream has it. */
  forward(c2sId: string, smId: string, stanza: Element, text: string | undefined): void {
    this.send(this.sessionRoutes.get(c2sId) ?? this.smFor(stanza.attrs.from ?? ''), c2sId, smId, stanza, text);
  }

  /**
   * One stanza for several of our sessions (docs/protocol.md "Fan-out"):
   * each gets its copy with `to` stamped, serialised once for all. A
   * recipient whose connection is gone hands its copy back as any stanza would.
   */
  private receiveFanOut(envelope: Envelope): void {
    const fanOut = readFanOut(envelope.payload);
    if (!fanOut) return;
    const { stanza, targets } = fanOut;
    // A stanza that carries `to` or its own namespace is serialised per copy instead.
    const stamp = stanza.attrs.to === undefined && stanza.attrs.xmlns === undefined ? toStamper(stanza) : undefined;
    for (const target of targets) {
      if (target.c2s === undefined) continue;
      const copy = stanza.withAttrs({ to: target.jid });
      if (!this.handler.deliver(target.c2s, copy, stamp?.(target.jid), target.seq) && target.sm !== undefined) {
        this.end(target.c2s, target.sm, target.jid, 'disconnected', [copy]);
      }
    }
  }

  /** `sm:sessions create|delete` for a bare JID; resolves with whether the sm carried it out. */
  userAction(action: 'create' | 'delete', bareJid: string): Promise<boolean> {
    const key = `${action} ${bareJid}`;
    return new Promise((resolve) => {
      this.pendingUserActions.set(key, resolve);
      this.send(this.smFor(bareJid), undefined, undefined, sessionsControl(action, bareJid));
    });
  }

  private send(route: Route, c2s: string | undefined, sm: string | undefined, payload: Element, text?: string): void {
    // Every field written out, in the order the sm writes its envelopes: one object shape both ways on the stanza path.
    route.send({ to: route.to, from: this.address, c2s, sm, payload, text, seq: undefined });
  }

  private receive(envelope: Envelope): void {
    if (envelope.payload.name === 'fanout') return this.receiveFanOut(envelope);
    const control = readControl(envelope.payload);
    const c2sId = envelope.c2s;
    if (!control) {
      if (c2sId === undefined) return;
      if (!this.handler.deliver(c2sId, envelope.payload, envelope.text, envelope.seq) && envelope.sm !== undefined) {
        // The 510 race: the sm thinks a session lives here that does not. The stanza goes back whole,
        // for the sm to deliver elsewhere or store; the notice only invalidates and is never answered.
        this.end(c2sId, envelope.sm, envelope.payload.attrs.to ?? '', 'disconnected', [envelope.payload]);
      }
      return;
    }
    if (control.ns === 'sessions') {
      const verb = control.action === 'created' ? 'create' : control.action === 'deleted' ? 'delete' : control.action;
      const key = `${verb} ${control.target}`;
      this.pendingUserActions.get(key)?.(!control.failed);
      this.pendingUserActions.delete(key);
      return;
    }
    if (c2sId === undefined || control.ns === 'component') return;
    if (control.ns === 'resume') {
      if (control.action === 'resumed') this.handler.resumeAnswered(c2sId, envelope.sm, control);
      else if (control.action === 'resume' && control.failed) this.handler.resumeAnswered(c2sId, undefined, undefined);
      return;
    }
    switch (control.action) {
      case 'started':
        if (control.failed || envelope.sm === undefined) this.handler.startFailed(c2sId, control.condition);
        else this.handler.started(c2sId, envelope.sm, control.bound ?? []);
        return;
      case 'start':
        // A failed start echoed back.
        if (control.failed) this.handler.startFailed(c2sId);
        return;
      case 'ended':
        // Either the answer to our `end`, or the sm ending the session on its own (then with a reason).
        this.handler.ended(c2sId, control.failed ? undefined : control.reason, control.returned ?? []);
        return;
      case 'end':
        return; // the sm never asks the c2s to end; an echoed failed `end` needs nothing
    }
  }
}
