// The iq handlers every server answers from the start. Later modules (#3)
// add theirs to the same registry.

import { xml } from '@switchboard/xml';
import { NS_DISCO_INFO, NS_PING, stanzaError } from '@switchboard/protocol';
import type { IqHandlers } from './iq-handlers.ts';

export function registerBuiltinIq(iq: IqHandlers): void {
  // XEP-0199: the server, and the server on an account's behalf, answer pings.
  iq.register({ xmlns: NS_PING, name: 'ping', targets: ['host', 'account'], handler: (ctx) => (ctx.type === 'get' ? undefined : stanzaError('bad-request')) });

  // XEP-0030: what this server is and what it serves.
  iq.register({
    xmlns: NS_DISCO_INFO,
    name: 'query',
    targets: ['host'],
    handler: (ctx) => {
      if (ctx.type !== 'get') return stanzaError('bad-request');
      if (ctx.payload.attrs.node !== undefined) return stanzaError('item-not-found');
      return xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        xml('identity', { category: 'server', type: 'im', name: 'Switchboard' }),
        iq.features('host').map((f) => xml('feature', { var: f })),
      );
    },
  });
}
