// The iq handlers every server answers from the start (ping, the server's
// disco#info, the roster), as the first module. Later modules add theirs to
// the same registry.

import { xml } from '@switchboard/xml';
import { NS_DISCO_INFO, NS_PING, NS_ROSTER, stanzaError } from '@switchboard/protocol';
import { defineModule, type ModuleContext } from './module.ts';

export const coreIq = defineModule({
  name: 'core-iq',
  setup(ctx) {
    registerBuiltinIq(ctx);
    // RFC 6121 §2 with XEP-0237 versioning.
    ctx.iq({ xmlns: NS_ROSTER, name: 'query', targets: ['account'], handler: (iq) => ctx.im.rosterIq(iq) });
    ctx.feature('host', 'urn:xmpp:features:rosterver');
  },
});

function registerBuiltinIq(ctx: ModuleContext): void {
  const iq = { register: ctx.iq, features: ctx.features };
  // XEP-0199: the server, and the server on an account's behalf, answer pings.
  iq.register({ xmlns: NS_PING, name: 'ping', targets: ['host', 'account'], handler: (ctx) => (ctx.type === 'get' ? undefined : stanzaError('bad-request')) });

  // XEP-0030: what this server is and what it serves.
  iq.register({
    xmlns: NS_DISCO_INFO,
    name: 'query',
    targets: ['host'],
    handler: (iqCtx) => {
      if (iqCtx.type !== 'get') return stanzaError('bad-request');
      const node = iqCtx.payload.attrs.node;
      if (node !== undefined) {
        // XEP-0030 §3.2: a node some module serves (XEP-0050 commands), else item-not-found.
        const children = ctx.findDiscoNode(node)?.info?.(iqCtx);
        return children ? xml('query', { xmlns: NS_DISCO_INFO, node }, children) : stanzaError('item-not-found');
      }
      return xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        xml('identity', { category: 'server', type: 'im', name: 'Switchboard' }),
        iq.features('host').map((f) => xml('feature', { var: f })),
      );
    },
  });
}
