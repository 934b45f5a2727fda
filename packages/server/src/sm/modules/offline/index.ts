// XEP-0160 offline messages as an sm module: a message RFC 6121 §8.5.2.2
// sends to storage (deliver.ts says 'offline') is kept, stamped per XEP-0203,
// and handed over in order once the user is available again.
//
//   pktUser        0  delivery 'offline': store; past the quota the sender gets an error (§8.5.2.2.1)
//   sessAvailable     initial presence: the stored messages, in order

import { Element, parseElement, xml } from '@switchboard/xml';
import { NS_DELAY, stanzaError } from '@switchboard/protocol';
import type { Verdict } from '../../chains.ts';
import { defineModule } from '../../module.ts';
import { PerUserTurns } from '../../per-user-turns.ts';

export interface OfflineOptions {
  /** Most messages stored for one user. */
  quota: number;
  /** Most bytes of stored messages for one user (quotas.ts offlineBytes). */
  maxBytes?: number;
}

export const offline = defineModule<OfflineOptions>({
  name: 'offline',
  setup(ctx, options) {
    const store = ctx.storage.offline;
    const inTurn = new PerUserTurns();
    const keep = (username: string, stanza: Element): Promise<Verdict> => {
      const stamped = stanza.clone();
      stamped.children.push(xml('delay', { xmlns: NS_DELAY, from: ctx.domain, stamp: new Date().toISOString() }, 'Offline storage'));
      return inTurn.run(username, async () => {
        if (await store.store(username, ctx.domain, stamped.toString(), options.quota, options.maxBytes)) return 'handled';
        return stanzaError('service-unavailable', { text: 'offline storage is full' });
      });
    };
    // Synchronous on the common path: only a message for storage waits for it.
    ctx.hook('pktUser', ({ c, username, delivery }) => (delivery.action === 'offline' && c.kind === 'message' ? keep(username, c.stanza) : 'pass'));
    ctx.hook('sessAvailable', async ({ session, initial }) => {
      if (!initial) return;
      // After every store that began before it (PerUserTurns): a message stored while the user logged in is in
      // this take, not left for the next login.
      for (const message of await inTurn.run(session.username, () => store.take(session.username, ctx.domain))) {
        const el = parseElement(message.stanza);
        if (el instanceof Element) ctx.sendTo(session, el);
      }
    });
  },
});
