// The only c2s file that speaks the internal protocol (as jabberd2's c2s/sm.c):
// it builds every envelope the c2s sends to the sm and reads every one it
// gets back, turning them into calls on the c2s.

import type { Element } from '@switchboard/xml';
import {
  readControl,
  sessionControl,
  sessionsControl,
  type EndReason,
  type Envelope,
} from '../router/envelope.ts';
import type { ComponentAddress, Route, Router } from '../router/router.ts';

/** What the c2s does with what the sm says. */
export interface SmLinkHandler {
  started(c2sId: string, smId: string): void;
  startFailed(c2sId: string): void;
  /** The session is over; `reason` is set when the sm ended it on its own. */
  ended(c2sId: string, reason: EndReason | undefined): void;
  /** A stanza for the session's client, and its text if the sm has it; false if the c2s has no such connection. */
  deliver(c2sId: string, stanza: Element, text: string | undefined): boolean;
}

export class SmLink {
  private readonly pendingUserActions = new Map<string, (ok: boolean) => void>();
  private readonly sm: Route;

  constructor(
    private readonly router: Router,
    readonly address: ComponentAddress,
    private readonly handler: SmLinkHandler,
    smAddress: ComponentAddress = 'sm',
  ) {
    this.sm = router.routeTo(smAddress);
  }

  attach(): Promise<void> {
    return this.router.attach(this.address, (envelope) => this.receive(envelope));
  }

  detach(): Promise<void> {
    return this.router.detach(this.address);
  }

  /** `sm:session start`: bind this connection's full JID. */
  start(c2sId: string, fullJid: string): void {
    this.send(c2sId, undefined, sessionControl('start', fullJid));
  }

  /** `sm:session end`: the connection is gone or closing (`disconnected` is jabberd's 510). */
  end(c2sId: string, smId: string, target: string, reason: EndReason): void {
    this.send(c2sId, smId, sessionControl('end', target, { reason }));
  }

  /** A stanza from the client, `from` already stamped, and its text when the stream has it. */
  forward(c2sId: string, smId: string, stanza: Element, text: string | undefined): void {
    this.send(c2sId, smId, stanza, text);
  }

  /** `sm:sessions create|delete` for a bare JID; resolves with whether the sm carried it out. */
  userAction(action: 'create' | 'delete', bareJid: string): Promise<boolean> {
    const key = `${action} ${bareJid}`;
    return new Promise((resolve) => {
      this.pendingUserActions.set(key, resolve);
      this.send(undefined, undefined, sessionsControl(action, bareJid));
    });
  }

  private send(c2s: string | undefined, sm: string | undefined, payload: Element, text?: string): void {
    // Every field written out, in the order the sm writes its envelopes: one object shape both ways on the stanza path.
    this.sm.send({ to: this.sm.to, from: this.address, c2s, sm, payload, text });
  }

  private receive(envelope: Envelope): void {
    const control = readControl(envelope.payload);
    const c2sId = envelope.c2s;
    if (!control) {
      if (c2sId === undefined) return;
      if (!this.handler.deliver(c2sId, envelope.payload, envelope.text) && envelope.sm !== undefined) {
        // The sm thinks a session lives here that does not: tell it, so it stops routing to it.
        this.end(c2sId, envelope.sm, envelope.payload.attrs.to ?? '', 'disconnected');
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
    if (c2sId === undefined) return;
    switch (control.action) {
      case 'started':
        if (control.failed || envelope.sm === undefined) this.handler.startFailed(c2sId);
        else this.handler.started(c2sId, envelope.sm);
        return;
      case 'start':
        // A failed start echoed back.
        if (control.failed) this.handler.startFailed(c2sId);
        return;
      case 'ended':
        // Either the answer to our `end`, or the sm ending the session on its own (then with a reason).
        this.handler.ended(c2sId, control.failed ? undefined : control.reason);
        return;
      case 'end':
        return; // the sm never asks the c2s to end; an echoed failed `end` needs nothing
    }
  }
}
