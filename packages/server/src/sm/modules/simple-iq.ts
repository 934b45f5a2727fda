// Small server XEPs answered from the sm: software version (XEP-0092),
// last activity (XEP-0012), vcard-temp (XEP-0054), private XML storage
// (XEP-0049) and account disco (XEP-0030).

import { Element, parseElement, xml } from '@switchboard/xml';
import { NS_DISCO_INFO, NS_DISCO_ITEMS, stanzaError } from '@switchboard/protocol';
import type { UserDataStore } from '../../storage/ports.ts';
import type { DiscoNode, IqContext, IqRegistry } from '../iq-handlers.ts';
import { defineModule } from '../module.ts';
import { storedBytes, type UserQuotas } from '../quotas.ts';
import type { Rosters } from '../roster.ts';
import type { SessionTable } from '../sessions.ts';
import type { SmSession } from '../session.ts';
import { hasFrom } from '../subscription.ts';

export const NS_VERSION = 'jabber:iq:version';
export const NS_LAST = 'jabber:iq:last';
export const NS_VCARD = 'vcard-temp';
export const NS_PRIVATE = 'jabber:iq:private';

export const SOFTWARE = { name: 'Switchboard', version: '0.1.0' };

export interface SimpleIqDeps {
  domain: string;
  userData: UserDataStore;
  rosters: Rosters;
  sessions: SessionTable;
  startedAt: number;
  /** XEP-0114 components, listed as the server's disco items. */
  componentDomains(): string[];
  /** Byte quotas for vCards and private XML (quotas.ts); none when unset. */
  quotas?: Pick<UserQuotas, 'privateXmlBytes' | 'vcardBytes'>;
  /** A node of the server's disco tree another module serves (XEP-0050 commands). */
  discoNode?(node: string): DiscoNode | undefined;
}

const localOf = (bare: string): string => bare.slice(0, bare.indexOf('@'));

/** The requester is the account itself. */
function isSelf(ctx: IqContext): boolean {
  return ctx.account !== undefined && ctx.from.bare().toString() === ctx.account;
}

export function registerSimpleIq(iq: IqRegistry, deps: SimpleIqDeps): void {
  iq.register({
    xmlns: NS_VERSION,
    name: 'query',
    targets: ['host'],
    handler: (ctx) =>
      ctx.type === 'get' ? xml('query', { xmlns: NS_VERSION }, xml('name', {}, SOFTWARE.name), xml('version', {}, SOFTWARE.version)) : stanzaError('bad-request'),
  });

  iq.register({
    xmlns: NS_LAST,
    name: 'query',
    targets: ['host', 'account'],
    handler: async (ctx) => {
      if (ctx.type !== 'get') return stanzaError('bad-request');
      // XEP-0012 §5: the server's uptime.
      if (ctx.target === 'host') return xml('query', { xmlns: NS_LAST, seconds: String(Math.floor((Date.now() - deps.startedAt) / 1000)) });
      const account = ctx.account!;
      const username = localOf(account);
      // §4: only to the user and to contacts subscribed to the user's presence.
      if (!isSelf(ctx)) {
        const item = (await deps.rosters.load(username)).items.get(ctx.from.bare().toString());
        if (!item || !hasFrom(item.subscription)) return stanzaError('forbidden');
      }
      if (deps.sessions.bare(account).some((s) => s.available)) return xml('query', { xmlns: NS_LAST, seconds: '0' });
      const stored = await deps.userData.get(username, deps.domain, 'last', '');
      if (!stored) return stanzaError('item-not-found');
      const { at, status } = JSON.parse(stored) as { at: number; status?: string };
      return xml('query', { xmlns: NS_LAST, seconds: String(Math.floor((Date.now() - at) / 1000)) }, status);
    },
  });

  iq.register({
    xmlns: NS_VCARD,
    name: 'vCard',
    targets: ['account'],
    handler: async (ctx) => {
      const username = localOf(ctx.account!);
      if (ctx.type === 'set') {
        if (!isSelf(ctx)) return stanzaError('forbidden');
        const vcard = ctx.payload.withAttrs({ xmlns: NS_VCARD }).toString();
        if (storedBytes(vcard) > (deps.quotas?.vcardBytes ?? Infinity)) {
          return stanzaError('not-acceptable', { text: `a vCard may take at most ${deps.quotas!.vcardBytes} bytes` });
        }
        await deps.userData.set(username, deps.domain, 'vcard', '', vcard);
        return undefined;
      }
      const stored = await deps.userData.get(username, deps.domain, 'vcard', '');
      const parsed = stored ? parseElement(stored) : undefined;
      // XEP-0054 §3.1: no vCard is an empty one.
      return parsed instanceof Element ? parsed : xml('vCard', { xmlns: NS_VCARD });
    },
  });

  iq.register({
    xmlns: NS_PRIVATE,
    name: 'query',
    targets: ['account'],
    handler: async (ctx) => {
      // XEP-0049 §3: only the account itself.
      if (!isSelf(ctx)) return stanzaError('forbidden');
      const children = ctx.payload.getChildren();
      const child = children[0];
      if (children.length !== 1 || !child) return stanzaError('bad-request', { text: 'exactly one child element' });
      const ns = child.attrs.xmlns;
      if (!ns || ns.startsWith('jabber:')) return stanzaError('not-acceptable');
      const username = localOf(ctx.account!);
      if (ctx.type === 'set') {
        const value = child.toString();
        const limit = deps.quotas?.privateXmlBytes ?? Infinity;
        if (limit !== Infinity) {
          // The user's whole private storage counts, this namespace at its new size.
          const others = (await deps.userData.list(username, deps.domain, 'private')).filter((r) => r.key !== ns);
          if (others.reduce((n, r) => n + storedBytes(r.value), storedBytes(value)) > limit) {
            return stanzaError('not-acceptable', { text: `private XML storage holds at most ${limit} bytes per user` });
          }
        }
        await deps.userData.set(username, deps.domain, 'private', ns, value);
        return undefined;
      }
      const stored = await deps.userData.get(username, deps.domain, 'private', ns);
      const parsed = stored ? parseElement(stored) : undefined;
      return xml('query', { xmlns: NS_PRIVATE }, parsed instanceof Element ? parsed : child);
    },
  });

  // XEP-0030 §4 for the server: its items are the components it fronts.
  iq.register({
    xmlns: NS_DISCO_ITEMS,
    name: 'query',
    targets: ['host'],
    handler: (ctx) => {
      if (ctx.type !== 'get') return stanzaError('bad-request');
      const node = ctx.payload.attrs.node;
      if (node !== undefined) {
        // XEP-0030 §4.2: the items of a node some module serves, else item-not-found.
        const served = deps.discoNode?.(node)?.items;
        return served ? xml('query', { xmlns: NS_DISCO_ITEMS, node }, served(ctx)) : stanzaError('item-not-found');
      }
      return xml('query', { xmlns: NS_DISCO_ITEMS }, deps.componentDomains().map((jid) => xml('item', { jid })));
    },
  });

  // XEP-0030 §4 for an account: to the user, its PEP nodes (XEP-0163 §8).
  iq.register({
    xmlns: NS_DISCO_ITEMS,
    name: 'query',
    targets: ['account'],
    handler: async (ctx) => {
      if (ctx.type !== 'get') return stanzaError('bad-request');
      const account = ctx.account!;
      if (!isSelf(ctx)) return xml('query', { xmlns: NS_DISCO_ITEMS });
      const nodes = await deps.userData.list(localOf(account), deps.domain, 'pepnode');
      return xml('query', { xmlns: NS_DISCO_ITEMS }, nodes.map((n) => xml('item', { jid: account, node: n.key })));
    },
  });

  // XEP-0030 §3.1 for accounts: the server answers for the bare JID.
  iq.register({
    xmlns: NS_DISCO_INFO,
    name: 'query',
    targets: ['account'],
    handler: async (ctx) => {
      if (ctx.type !== 'get') return stanzaError('bad-request');
      if (!isSelf(ctx)) {
        const item = (await deps.rosters.load(localOf(ctx.account!))).items.get(ctx.from.bare().toString());
        if (!item || !hasFrom(item.subscription)) return stanzaError('service-unavailable');
      }
      return xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        xml('identity', { category: 'account', type: 'registered' }),
        // XEP-0163 §6.1: every account is a PEP service.
        xml('identity', { category: 'pubsub', type: 'pep' }),
        iq.features('account').map((f) => xml('feature', { var: f })),
      );
    },
  });
}

/** XEP-0012: remember when the user was last available, with the last unavailable status. */
export async function recordLastActivity(deps: SimpleIqDeps, username: string, status: string | undefined): Promise<void> {
  await deps.userData.set(username, deps.domain, 'last', '', JSON.stringify(status ? { at: Date.now(), status } : { at: Date.now() }));
}

export const smallXeps = defineModule<{ componentDomains(): string[]; quotas?: Pick<UserQuotas, 'privateXmlBytes' | 'vcardBytes'> }>({
  name: 'small-xeps',
  setup(ctx, options) {
    const deps: SimpleIqDeps = { domain: ctx.domain, userData: ctx.storage.userData, rosters: ctx.rosters, sessions: ctx.sessions, startedAt: Date.now(), componentDomains: options.componentDomains, quotas: options.quotas, discoNode: (node) => ctx.findDiscoNode(node) };
    registerSimpleIq({ register: ctx.iq, features: ctx.features }, deps);
    // XEP-0012 §4: the status of the last unavailable presence, kept until the session ends (or is available again).
    const unavailableStatus = new WeakMap<SmSession, string | undefined>();
    ctx.hook('inSess', ({ session, c }) => {
      if (c.kind !== 'presence' || c.address !== 'self') return 'pass';
      if (c.type === 'unavailable') unavailableStatus.set(session, c.stanza.getChildText('status'));
      else if (c.type === 'available') unavailableStatus.delete(session);
      return 'pass';
    });
    // XEP-0012: the last resource gone; a removed account keeps nothing, not even its last activity.
    ctx.hook('sessEnd', async ({ session, reason, status }) => {
      if (ctx.sessions.bare(session.bareJid).length > 0 || reason === 'account-removed') return;
      await recordLastActivity(deps, session.username, unavailableStatus.has(session) ? unavailableStatus.get(session) : status);
    });
  },
});
