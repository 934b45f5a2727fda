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
    const keep = async (username: string, stanza: Element): Promise<Verdict> => {
      const stamped = stanza.clone();
      stamped.children.push(xml('delay', { xmlns: NS_DELAY, from: ctx.domain, stamp: new Date().toISOString() }, 'Offline storage'));
      if (await store.store(username, ctx.domain, stamped.toString(), options.quota, options.maxBytes)) return 'handled';
      return stanzaError('service-unavailable', { text: 'offline storage is full' });
    };
    // Synchronous on the common path: only a message for storage waits for it.
    ctx.hook('pktUser', ({ c, username, delivery }) => (delivery.action === 'offline' && c.kind === 'message' ? keep(username, c.stanza) : 'pass'));
    ctx.hook('sessAvailable', async ({ session, initial }) => {
      if (!initial) return;
      for (const message of await store.take(session.username, ctx.domain)) {
        const el = parseElement(message.stanza);
        if (el instanceof Element) ctx.sendTo(session, el);
      }
    });
  },
});
