// XEP-0198 resumption through any c2s (docs/protocol.md "Resumption through
// any c2s"): the sm keeps a copy of what it sends a resumable session
// (resume-copy.ts), keeps the session hibernating when its c2s dies, and
// moves it to whichever c2s its client resumes through. §5's rule holds
// here as on one c2s: the token and h are checked entirely before anything
// moves, and a refused resumption leaves the session as it was.

import { timingSafeEqual } from 'node:crypto';
import type { Element } from '@switchboard/xml';
import { decodeSeqs, encodeSeqs, resumeControl, sessionControl, type Control, type Envelope } from '../router/envelope.ts';
import type { ComponentAddress, Router } from '../router/router.ts';
import { log } from '../log-line.ts';
import { ResumeCopy, type CopyLimits } from './resume-copy.ts';
import type { SmSession } from './session.ts';
import type { SessionTable } from './sessions.ts';

type ResumeControl = Extract<Control, { ns: 'resume' }>;

export interface SmResumptionDeps {
  router: Router;
  address: ComponentAddress;
  sessions: SessionTable;
  limits: CopyLimits;
  /** The session of an envelope from its current c2s stream, if any. */
  sessionOf(envelope: Envelope): SmSession | undefined;
  /** The one destroy path (session-lifecycle.ts), which stores or answers what a hibernating session held. */
  invalidate(session: SmSession): void;
  /** A stanza no client took, for RFC 6121 §8.5 to decide again (returned.ts). */
  reroute(stanza: Element): Promise<void>;
}

export class SmResumption {
  constructor(private readonly deps: SmResumptionDeps) {}

  /** An `sm:resume` action from a c2s; handled at once, in the order envelopes came, since the counts depend on it. */
  perform(envelope: Envelope, control: ResumeControl): void {
    if (control.failed) return;
    switch (control.action) {
      case 'resumable': {
        const session = this.deps.sessionOf(envelope);
        if (session && control.secret) session.resume = new ResumeCopy(control.secret, control.max ?? 300, this.deps.limits);
        return;
      }
      case 'acked': {
        // A report from a stream the session has left (it resumed elsewhere) is stale and ignored.
        const copy = this.deps.sessionOf(envelope)?.resume;
        copy?.acked(control.h ?? 0, decodeSeqs(control.written), decodeSeqs(control.dropped), control.local ?? 0);
        return;
      }
      case 'resume':
        return this.resume(envelope, control);
      case 'resumed':
        return;
    }
  }

  /** XEP-0198 §5 through another c2s: check everything, then take the session over. */
  private resume(envelope: Envelope, control: ResumeControl): void {
    const { router, address } = this.deps;
    const c2sId = envelope.c2s;
    if (c2sId === undefined) return;
    const answer = (payload: Element): void => router.route({ to: envelope.from, from: address, c2s: c2sId, sm: envelope.sm, payload });
    const session = envelope.sm !== undefined ? this.deps.sessions.get(envelope.sm) : undefined;
    const copy = session?.resume;
    if (!session || !copy || session.ended || session.bareJid !== control.target || !sameSecret(copy.secret, control.secret)) {
      return answer(resumeControl('resumed', control.target, { failed: true, condition: 'item-not-found' }));
    }
    const check = copy.check(control.h ?? -1);
    if (!check.ok) return answer(resumeControl('resumed', control.target, { failed: true, condition: check.condition, sendCount: check.sendCount, h: check.inbound }));
    // Checked: from here the session moves. The stream it leaves (if its c2s lives) closes with <conflict/>
    // and hands nothing back: what it held unacknowledged is in the copy, and goes to the new stream.
    const before = { address: session.c2sAddress, id: session.c2sId };
    const wasDetached = copy.detached;
    const { stanzas, seqs, inbound } = copy.resume(control.h!);
    if (before.address !== envelope.from || before.id !== c2sId) {
      (session.former ??= new Set()).add(`${before.address} ${before.id}`);
      session.c2s.send({ to: before.address, from: address, c2s: before.id, sm: session.smId, payload: sessionControl('ended', session.fullJid, { reason: 'taken-over' }) });
    }
    session.c2sId = c2sId;
    session.c2s = router.routeTo(envelope.from);
    log('info', `sm: ${session.fullJid} resumed through ${envelope.from} (from ${before.address}${wasDetached ? ', gone' : ''}); ${stanzas.length} to send again`, undefined, 'sm.resumed');
    session.c2s.send({ to: envelope.from, from: address, c2s: c2sId, sm: session.smId, payload: resumeControl('resumed', session.fullJid, { h: inbound, seqs: encodeSeqs(seqs), stanzas }) });
  }

  /**
   * The session's c2s is gone (dead, or unreachable): a session its client
   * may resume through another c2s hibernates here until `max` seconds pass
   * (then it ends, and what it held is stored or answered). False when the
   * session cannot wait and must end now.
   */
  detach(session: SmSession): boolean {
    const copy = session.resume;
    if (!copy || session.ended) return false;
    if (!copy.detached) {
      log('info', `sm: ${session.fullJid} hibernates without its c2s (${session.c2sAddress}) for ${copy.maxSeconds} s, ${copy.count} unacknowledged`, undefined, 'sm.hibernating');
      copy.detach(() => this.deps.invalidate(session));
    }
    return true;
  }

  /**
   * The copy is full (limits.smQueue*): without a c2s, the session ends now
   * and everything is stored or answered, this stanza last; with one, the
   * client can no longer resume through another c2s (its own keeps the queue).
   */
  full(session: SmSession, stanza: Element): 'ended' | 'uncopied' {
    const copy = session.resume!;
    if (copy.detached) {
      this.deps.invalidate(session);
      session.queue.run(() => this.deps.reroute(stanza));
      return 'ended';
    }
    session.resume = undefined;
    log('warn', `sm: ${session.fullJid} sent more than the XEP-0198 limits unacknowledged; it can now resume only through its own c2s`, undefined, 'sm.resume.full');
    return 'uncopied';
  }
}

function sameSecret(a: string, b: string | undefined): boolean {
  if (b === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
