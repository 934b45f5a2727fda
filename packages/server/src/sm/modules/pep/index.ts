// XEP-0163 Personal Eventing Protocol as an sm module: the pubsub service at
// every account (pep.ts), and on the chains what it must learn of sessions:
//
//   sessAvailable  §4.3: the resource's caps say which nodes it wants (and it gets their last items)
//   sessEnd        the resource's caps are forgotten
//   pktUser        a notification from another shard goes to the contact's resources that want it

import { defineModule } from '../../module.ts';
import { NS_PUBSUB, Pep } from './pep.ts';
import type { UserQuotas } from '../../quotas.ts';

export { Pep, NS_PUBSUB, NS_PUBSUB_EVENT } from './pep.ts';

export const pep = defineModule<{ quotas?: UserQuotas } | undefined, Pep>({
  name: 'pep',
  setup(ctx, options) {
    const service = new Pep({ domain: ctx.domain, userData: ctx.storage.userData, rosters: ctx.rosters, sessions: ctx.sessions, sendTo: ctx.sendTo, query: ctx.queryClient, peerOf: ctx.peerOf, toPeer: ctx.toPeer, quotas: options?.quotas });
    ctx.iq({ xmlns: NS_PUBSUB, name: 'pubsub', targets: ['account'], handler: (iq) => service.iq(iq) });
    for (const feature of [NS_PUBSUB, `${NS_PUBSUB}#publish`, `${NS_PUBSUB}#auto-create`, `${NS_PUBSUB}#publish-options`, `${NS_PUBSUB}#retrieve-items`, `${NS_PUBSUB}#retract-items`]) {
      ctx.feature('account', feature);
    }
    ctx.hook('sessAvailable', ({ session, presence }) => {
      // Not awaited: the client's answer to our disco query comes through this same session's queue.
      void service.presenceWithCaps(session, presence).catch((err: unknown) => console.error('switchboard: pep', err));
    });
    ctx.hook('sessEnd', ({ session }) => service.forget(session.fullJid));
    // A notification from another shard's PEP, for a contact here (docs/protocol.md "Shards").
    ctx.hook('pktUser', ({ c, sessions }) => (c.kind === 'message' && c.type === 'headline' && c.address === 'bare' && service.fanOut(c.stanza, sessions) ? 'handled' : 'pass'));
    return service;
  },
});
