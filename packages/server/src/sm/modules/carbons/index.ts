// XEP-0280 Message Carbons as an sm module: each resource that enables
// carbons gets a copy of every eligible message (eligible.ts) its account
// receives at another resource, and of every one another of its resources
// sends, forwarded per XEP-0297 from the account's bare JID.
//
//   inSess   20  §7: a message a resource sends → <sent/> to the other enabled resources
//   pktUser  20  §6: a message delivered to some resources → <received/> to the other enabled ones;
//                a message handed back unacknowledged (XEP-0198 hibernation expired, the 510 race) that is in
//                the archive and was copied to another resource online with carbons is not delivered or
//                stored offline a second time (issue #21)
//
// With the delivery policy of RFC 6121 §8.5.2.1.1 (only the most available
// resources get a chat message to the bare JID), carbons are how the others
// see it. Both run below blocking (100): a refused message is never copied.

import { xml, type Element } from '@switchboard/xml';
import { forwardedElement, stanzaError, stanzaIdBy } from '@switchboard/protocol';
import type { IqContext, IqOutcome } from '../../iq-handlers.ts';
import { defineModule } from '../../module.ts';
import { isReturned } from '../../returned.ts';
import type { SmSession } from '../../session.ts';
import { eligibleForCarbons, isMucPrivateMessage, NS_CARBONS, type MessageKind } from './eligible.ts';

export { NS_CARBONS } from './eligible.ts';

/** Ids of the last eligible messages each resource sent, so an error answering one is copied too (§6.1). */
const REMEMBERED_IDS = 16;

export interface Carbons {
  enabled(session: SmSession): boolean;
}

export const carbons = defineModule<void, Carbons>({
  name: 'carbons',
  setup(ctx) {
    const enabled = new WeakSet<SmSession>();
    /** How many sessions have carbons on: while none does, the message path checks nothing. */
    let count = 0;
    const sentIds = new WeakMap<SmSession, string[]>();

    const toggle = (iq: IqContext): IqOutcome => {
      const session = iq.session;
      // Only a bound resource speaks for itself (an unbound stream never reaches the sm: the c2s refuses it).
      if (!session || iq.from.toString() !== session.fullJid) return stanzaError('forbidden');
      if (iq.type !== 'set') return stanzaError('bad-request');
      if (iq.payload.name === 'enable' && !enabled.has(session)) {
        enabled.add(session);
        count++;
      } else if (iq.payload.name === 'disable' && enabled.delete(session)) {
        count--;
      }
      return undefined;
    };
    for (const name of ['enable', 'disable']) ctx.iq({ xmlns: NS_CARBONS, name, targets: ['host', 'account'], handler: toggle });
    // §2: discovered at the server; the account lists what it serves for the user too.
    ctx.feature('host', NS_CARBONS);
    // XEP-0386 §3.2: <enable/> inside Bind 2: on before the session is announced, so no message slips past.
    ctx.hook('sessStart', ({ session, features }) => {
      if (features?.some((f) => f.is('enable', NS_CARBONS)) && !enabled.has(session)) {
        enabled.add(session);
        count++;
      }
    });
    ctx.hook('sessEnd', ({ session }) => {
      if (enabled.delete(session)) count--;
    });

    const copy = (direction: 'sent' | 'received', original: Element, type: string, to: SmSession): void => {
      ctx.sendTo(to, xml('message', { from: to.bareJid, to: to.fullJid, type }, xml(direction, { xmlns: NS_CARBONS }, forwardedElement(original))));
    };

    const remember = (session: SmSession, id: string | undefined): void => {
      if (id === undefined) return;
      let ids = sentIds.get(session);
      if (!ids) sentIds.set(session, (ids = []));
      ids.push(id);
      if (ids.length > REMEMBERED_IDS) ids.shift();
    };

    ctx.hook(
      'inSess',
      ({ session, c }) => {
        if (c.kind !== 'message' || c.address === 'host' || c.address === 'self') return 'pass';
        if (count === 0 || !eligibleForCarbons(c.stanza, c.type as MessageKind, () => false)) return 'pass';
        remember(session, c.stanza.attrs.id);
        // To the account itself: the receiving side copies it (pktUser), once.
        if (c.to!.local === session.username && c.to!.domain === session.host) return 'pass';
        for (const other of ctx.sessions.bare(session.bareJid)) if (other !== session && enabled.has(other)) copy('sent', c.stanza, c.type, other);
        return 'pass';
      },
      20,
    );

    /**
     * A message coming back from a resource that never acknowledged it, when the user's archive holds it (it
     * carries the archive's stanza id, mam) and another available resource with carbons on got its copy: every
     * device has it, or finds it by MAM; delivering it again or storing it offline would show it twice.
     */
    const seenElsewhere = (stanza: Element, type: MessageKind, bare: string, sessions: readonly SmSession[]): boolean =>
      stanzaIdBy(stanza, bare) !== undefined && eligibleForCarbons(stanza, type, () => false) && sessions.some((s) => !s.ended && s.available && enabled.has(s));

    ctx.hook(
      'pktUser',
      ({ c, sessions, from, delivery, bare }) => {
        if (count > 0 && c.kind === 'message' && isReturned(c) && seenElsewhere(c.stanza, c.type as MessageKind, bare, sessions)) return 'handled';
        if (count === 0 || c.kind !== 'message' || delivery.action !== 'deliver' || sessions.length < 2) return 'pass';
        if (c.address === 'full' && isMucPrivateMessage(c.stanza)) return 'pass';
        const answersEligible = (): boolean => {
          const id = c.stanza.attrs.id;
          return id !== undefined && sessions.some((s) => sentIds.get(s)?.includes(id) === true);
        };
        if (!eligibleForCarbons(c.stanza, c.type as MessageKind, answersEligible)) return 'pass';
        for (const s of sessions) {
          if (s !== from && enabled.has(s) && !delivery.to.includes(s)) copy('received', c.stanza, c.type, s);
        }
        return 'pass';
      },
      20,
    );

    return { enabled: (session) => enabled.has(session) };
  },
});
