// XEP-0163 Personal Eventing Protocol: a pubsub service at every user's bare
// JID. Publishing auto-creates the node (§7.1.1) with publish-options for
// max_items and access model (what avatars, XEP-0084, and bookmarks,
// XEP-0402, rely on); items can be retrieved and retracted; notifications
// go to the owner's resources and to subscribed contacts whose client
// advertised `node+notify` in its caps (§4.3, filtered through XEP-0115),
// and the last items reach a contact's resource when its caps arrive.

import { Element, parseElement, xml } from '@switchboard/xml';
import { NS_RSM, parseRsmRequest, rsmResultElement, stanzaError, type RsmRequest, type StanzaError } from '@switchboard/protocol';
import { pageWindow, readPage } from './paging.ts';
import type { UserDataStore } from '../../../storage/ports.ts';
import type { IqContext, IqOutcome } from '../../iq-handlers.ts';
import type { Rosters } from '../../roster.ts';
import type { SmSession } from '../../session.ts';
import type { SessionTable } from '../../sessions.ts';
import { hasFrom } from '../../subscription.ts';
import { verifiedCapsFeatures } from '../../../caps.ts';
import { BoundedMap } from '../../../auth/throttle.ts';
import { DEFAULT_QUOTAS, storedBytes, type UserQuotas } from '../../quotas.ts';
import { PerUserTurns } from '../../per-user-turns.ts';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
export const NS_PUBSUB_ERRORS = 'http://jabber.org/protocol/pubsub#errors';
export const NS_DATA_FORMS = 'jabber:x:data';
export const NS_CAPS = 'http://jabber.org/protocol/caps';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

type AccessModel = 'presence' | 'open' | 'whitelist';
interface NodeConfig {
  maxItems: number;
  access: AccessModel;
}
/**
 * The stored node: its configuration and the ids of its items, oldest
 * first, so that a publish, a trim or a read of the last items touches only
 * the rows it needs, never the whole node (issue #18: re-reading the node on
 * every publish made its cost grow with the square of the node).
 */
interface StoredNode extends NodeConfig {
  ids: string[];
}
interface StoredItem {
  seq: number;
  xml: string;
}

const DEFAULT_NODE: NodeConfig = { maxItems: 1, access: 'presence' };
/** The most bytes of items one items request returns (a larger read is paged, see paging.ts). */
const PAGE_BYTES = 1024 * 1024;

export interface PepDeps {
  domain: string;
  userData: UserDataStore;
  rosters: Rosters;
  sessions: SessionTable;
  sendTo(session: SmSession, stanza: Element): void;
  /** Sends an iq from the server to a client and resolves with its answer (for caps discovery). */
  query(to: string, payload: Element): Promise<Element | undefined>;
  /** The sm owning a contact of another shard, and the way there (docs/protocol.md "Shards"). */
  peerOf(bare: string): string | undefined;
  toPeer(peer: string, stanza: Element): void;
  /** Per-user PEP quotas (sm/quotas.ts). */
  quotas?: Pick<UserQuotas, 'pepNodes' | 'pepItemBytes' | 'pepMaxItems'>;
}

export class Pep {
  /** XEP-0115: verification string → the features it stands for, once an answer hashed to it (§5.4). */
  private readonly capsCache = new BoundedMap<string, Set<string>>(10_000);
  /**
   * Full JID → caps verification string of the resource's current presence,
   * and the features its own answer gave when that answer could not be
   * verified (legacy caps, a wrong hash): good for that resource alone.
   */
  private readonly resourceCaps = new Map<string, { ver: string; features?: Set<string> }>();
  private seq = Date.now();
  /** Writes to one user's nodes, one at a time (the node record is read, changed and written back). */
  private readonly writing = new PerUserTurns();
  private readonly quotas: Pick<UserQuotas, 'pepNodes' | 'pepItemBytes' | 'pepMaxItems'>;

  constructor(private readonly deps: PepDeps) {
    this.quotas = deps.quotas ?? DEFAULT_QUOTAS;
  }

  async iq(ctx: IqContext): Promise<IqOutcome> {
    const owner = ctx.account!;
    const username = owner.slice(0, owner.indexOf('@'));
    const isOwner = ctx.from.bare().toString() === owner;
    const action = ctx.payload.getChildren()[0];
    if (!action) return stanzaError('bad-request');
    if (ctx.type === 'set') {
      if (!isOwner) return stanzaError('forbidden');
      if (action.name === 'publish') return this.writing.run(username, () => this.publish(username, owner, action, ctx.payload.getChild('publish-options')));
      if (action.name === 'retract') return this.writing.run(username, () => this.retract(username, owner, action));
      return stanzaError('feature-not-implemented', { application: xml('unsupported', { xmlns: NS_PUBSUB_ERRORS, feature: action.name }) });
    }
    if (action.name !== 'items') return stanzaError('feature-not-implemented');
    const node = action.attrs.node;
    if (!node) return stanzaError('bad-request', { application: xml('nodeid-required', { xmlns: NS_PUBSUB_ERRORS }) });
    const config = await this.nodeConfig(username, node);
    if (!config) return stanzaError('item-not-found');
    if (!isOwner && !(await this.mayAccess(username, config, ctx.from.bare().toString()))) {
      return stanzaError('not-authorized', { application: xml('presence-subscription-required', { xmlns: NS_PUBSUB_ERRORS }) });
    }
    // Read by id: the ids asked for (XEP-0060 §6.5.8), else the last max_items (§6.5.7), else the node, in pages.
    const wanted = action.getChildren('item').map((i) => i.attrs.id).filter((id): id is string => id !== undefined);
    let ids = wanted.length > 0 ? config.ids.filter((id) => wanted.includes(id)) : config.ids;
    const max = Number(action.attrs.max_items);
    if (Number.isInteger(max) && max > 0) ids = ids.slice(-max);
    const set = ctx.payload.getChild('set', NS_RSM);
    let rsm: RsmRequest | undefined;
    if (set) {
      const parsed = parseRsmRequest(set);
      if (!parsed.ok) return stanzaError('bad-request', { text: parsed.text });
      rsm = parsed.value;
    }
    const window = pageWindow(ids, rsm);
    if (!window) return stanzaError('item-not-found', { text: 'RSM after/before names no item of this node' });
    // A page holds at most a budget of bytes (and always one item), so no read makes the server hold a whole large node.
    const page = await readPage(ids, window, Math.max(PAGE_BYTES, this.quotas.pepItemBytes), (id) => this.itemText(username, node, id));
    const items = page.texts.map((t) => parseElement(t)).filter((el): el is Element => el instanceof Element);
    const truncated = page.texts.length < ids.length;
    const result = rsm || truncated
      ? rsmResultElement(page.texts.length > 0 ? { first: ids[page.first]!, firstIndex: page.first, last: ids[page.last]!, count: ids.length } : { count: ids.length })
      : undefined;
    return xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node }, items), result);
  }

  private async publish(username: string, owner: string, publish: Element, options: Element | undefined): Promise<IqOutcome> {
    const node = publish.attrs.node;
    if (!node) return stanzaError('bad-request', { application: xml('nodeid-required', { xmlns: NS_PUBSUB_ERRORS }) });
    const items = publish.getChildren('item');
    if (items.length > 1) return stanzaError('bad-request', { application: xml('invalid-payload', { xmlns: NS_PUBSUB_ERRORS }) });
    const wanted = readOptions(options, this.quotas.pepMaxItems);
    if ('kind' in wanted) return wanted;
    const source = items[0] ?? xml('item');
    const id = source.attrs.id ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const item = xml('item', { id }, source.getChildren());
    const text = item.toString();
    if (storedBytes(text) > this.quotas.pepItemBytes) {
      // XEP-0060 §7.1.3.4: the payload is larger than the service allows.
      return stanzaError('not-acceptable', { application: xml('payload-too-big', { xmlns: NS_PUBSUB_ERRORS }) });
    }
    let config = await this.nodeConfig(username, node);
    if (!config) {
      if ((await this.deps.userData.list(username, this.deps.domain, 'pepnode')).length >= this.quotas.pepNodes) {
        // The user has as many nodes as the quota allows: this publish would create one more.
        return stanzaError('not-allowed', { application: xml('max-nodes-exceeded', { xmlns: NS_PUBSUB_ERRORS }), text: `at most ${this.quotas.pepNodes} PEP nodes per user` });
      }
      // §7.1.1: the first publish creates the node, configured by the publish-options.
      config = { ...DEFAULT_NODE, ...wanted, ids: [] };
    } else if ((wanted.maxItems !== undefined && wanted.maxItems !== config.maxItems) || (wanted.access !== undefined && wanted.access !== config.access)) {
      // XEP-0060 §7.1.5: publish-options that do not match the node's configuration.
      return stanzaError('conflict', { application: xml('precondition-not-met', { xmlns: NS_PUBSUB_ERRORS }) });
    }
    await this.deps.userData.set(username, this.deps.domain, `pep:${node}`, id, JSON.stringify({ seq: ++this.seq, xml: text } satisfies StoredItem));
    // The item goes last (a republished id moves to the end); the oldest past max_items go.
    const ids = config.ids.filter((old) => old !== id);
    ids.push(id);
    const dropped = ids.splice(0, Math.max(0, ids.length - config.maxItems));
    for (const old of dropped) await this.deps.userData.delete(username, this.deps.domain, `pep:${node}`, old);
    config = { ...config, ids };
    await this.saveNode(username, node, config);
    await this.notify(username, owner, node, config, xml('items', { node }, item));
    return xml('pubsub', { xmlns: NS_PUBSUB }, xml('publish', { node }, xml('item', { id })));
  }

  private async retract(username: string, owner: string, retract: Element): Promise<IqOutcome> {
    const node = retract.attrs.node;
    const id = retract.getChild('item')?.attrs.id;
    if (!node || !id) return stanzaError('bad-request');
    const config = await this.nodeConfig(username, node);
    if (!config || !(await this.deps.userData.delete(username, this.deps.domain, `pep:${node}`, id))) return stanzaError('item-not-found');
    await this.saveNode(username, node, { ...config, ids: config.ids.filter((old) => old !== id) });
    if (retract.attrs.notify === 'true' || retract.attrs.notify === '1') {
      await this.notify(username, owner, node, config, xml('items', { node }, xml('retract', { id })));
    }
    return undefined;
  }

  /** The items with these ids, in that order, each read by its key. */
  private async itemText(username: string, node: string, id: string): Promise<string | undefined> {
    const raw = await this.deps.userData.get(username, this.deps.domain, `pep:${node}`, id);
    return raw === undefined ? undefined : (JSON.parse(raw) as StoredItem).xml;
  }

  private async items(username: string, node: string, ids: readonly string[]): Promise<Element[]> {
    const out: Element[] = [];
    for (const id of ids) {
      const raw = await this.deps.userData.get(username, this.deps.domain, `pep:${node}`, id);
      const el = raw === undefined ? undefined : parseElement((JSON.parse(raw) as StoredItem).xml);
      if (el instanceof Element) out.push(el);
    }
    return out;
  }

  private async nodeConfig(username: string, node: string): Promise<StoredNode | undefined> {
    const raw = await this.deps.userData.get(username, this.deps.domain, 'pepnode', node);
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as NodeConfig & { ids?: string[] };
    if (stored.ids) return stored as StoredNode;
    // A node stored before the id index: read it whole this once, in publish order, and keep the index.
    const rows = await this.deps.userData.list(username, this.deps.domain, `pep:${node}`);
    const ids = rows.map((r) => ({ id: r.key, seq: (JSON.parse(r.value) as StoredItem).seq })).sort((a, b) => a.seq - b.seq).map((r) => r.id);
    const indexed = { ...stored, ids };
    await this.saveNode(username, node, indexed);
    return indexed;
  }

  private saveNode(username: string, node: string, config: StoredNode): Promise<void> {
    return this.deps.userData.set(username, this.deps.domain, 'pepnode', node, JSON.stringify(config));
  }

  private async mayAccess(username: string, config: NodeConfig, who: string): Promise<boolean> {
    if (config.access === 'open') return true;
    if (config.access === 'whitelist') return false;
    const item = (await this.deps.rosters.load(username)).items.get(who);
    return item !== undefined && hasFrom(item.subscription);
  }

  /** §4.3: to the owner's resources and subscribed contacts' resources that want `node+notify`. */
  private async notify(username: string, owner: string, node: string, config: NodeConfig, items: Element): Promise<void> {
    const event = (to: string): Element => xml('message', { from: owner, to, type: 'headline' }, xml('event', { xmlns: NS_PUBSUB_EVENT }, items));
    const recipients: SmSession[] = [];
    for (const s of this.deps.sessions.bare(owner)) if (s.available && this.wantsNotify(s.fullJid, node)) recipients.push(s);
    const roster = await this.deps.rosters.load(username);
    for (const contact of roster.items.values()) {
      if (config.access !== 'open' && !hasFrom(contact.subscription)) continue;
      // A contact of another shard: its sm knows its resources' caps and picks the recipients (fanOut).
      const peer = this.deps.peerOf(contact.jid);
      if (peer !== undefined) {
        this.deps.toPeer(peer, event(contact.jid));
        continue;
      }
      for (const s of this.deps.sessions.bare(contact.jid)) if (s.available && this.wantsNotify(s.fullJid, node)) recipients.push(s);
    }
    for (const s of recipients) this.deps.sendTo(s, event(s.fullJid));
  }

  /**
   * A notification another shard's PEP sent to a contact of this one (to the
   * bare JID, from the owner's bare JID: no client can send that, its `from`
   * is always a full JID): to the contact's resources that want the node.
   */
  fanOut(stanza: Element, sessions: readonly SmSession[]): boolean {
    const node = stanza.getChild('event', NS_PUBSUB_EVENT)?.getChild('items')?.attrs.node;
    const from = stanza.attrs.from ?? '';
    if (node === undefined || from.includes('/') || !from.endsWith(`@${this.deps.domain}`)) return false;
    for (const s of sessions) if (s.available && this.wantsNotify(s.fullJid, node)) this.deps.sendTo(s, stanza.withAttrs({ to: s.fullJid }));
    return true;
  }

  private wantsNotify(fullJid: string, node: string): boolean {
    const caps = this.resourceCaps.get(fullJid);
    const features = caps === undefined ? undefined : (caps.features ?? this.capsCache.get(caps.ver));
    return features !== undefined && features.has(`${node}+notify`);
  }

  /**
   * Available presence with caps (XEP-0115): learn the resource's features
   * (asking it once per verification string), then send it the last item of
   * every node it wants from the user and from the contacts it may read (§4.3.4).
   */
  async presenceWithCaps(session: SmSession, presence: Element): Promise<void> {
    const c = presence.getChild('c', NS_CAPS);
    if (!c || !c.attrs.ver || !c.attrs.node) {
      this.resourceCaps.delete(session.fullJid);
      return;
    }
    const ver = c.attrs.ver;
    if (this.resourceCaps.get(session.fullJid)?.ver === ver) return;
    const caps: { ver: string; features?: Set<string> } = { ver };
    this.resourceCaps.set(session.fullJid, caps);
    if (!this.capsCache.get(ver)) {
      const answer = await this.deps.query(session.fullJid, xml('query', { xmlns: NS_DISCO_INFO, node: `${c.attrs.node}#${ver}` }));
      const info = answer?.getChild('query', NS_DISCO_INFO);
      // §5.4: cached for everyone only when the answer hashes to the ver; otherwise it speaks for this resource alone.
      const verified = info && c.attrs.hash ? verifiedCapsFeatures(info, c.attrs.hash, ver) : undefined;
      if (verified) this.capsCache.set(ver, verified);
      else caps.features = new Set(info?.getChildren('feature').map((f) => f.attrs.var ?? '') ?? []);
    }
    await this.sendLastItems(session);
  }

  private async sendLastItems(session: SmSession): Promise<void> {
    const owners = [session.bareJid];
    const roster = await this.deps.rosters.load(session.username);
    for (const item of roster.items.values()) if (item.subscription === 'to' || item.subscription === 'both') owners.push(item.jid);
    for (const owner of owners) {
      const at = owner.indexOf('@');
      if (owner.slice(at + 1) !== this.deps.domain) continue;
      const username = owner.slice(0, at);
      for (const { key: node, value } of await this.deps.userData.list(username, this.deps.domain, 'pepnode')) {
        if (!this.wantsNotify(session.fullJid, node)) continue;
        const lastId = (JSON.parse(value) as Partial<StoredNode>).ids?.at(-1) ?? (await this.nodeConfig(username, node))?.ids.at(-1);
        const last = lastId === undefined ? undefined : (await this.items(username, node, [lastId]))[0];
        if (last) this.deps.sendTo(session, xml('message', { from: owner, to: session.fullJid, type: 'headline' }, xml('event', { xmlns: NS_PUBSUB_EVENT }, xml('items', { node }, last))));
      }
    }
  }

  forget(fullJid: string): void {
    this.resourceCaps.delete(fullJid);
  }
}

/** publish-options: pubsub#max_items ("max" is the quota's pepMaxItems) and pubsub#access_model (XEP-0060 §7.1.5). */
function readOptions(options: Element | undefined, maxItemsLimit: number): Partial<NodeConfig> | StanzaError {
  const form = options?.getChild('x', NS_DATA_FORMS);
  if (!form) return {};
  const out: Partial<NodeConfig> = {};
  for (const field of form.getChildren('field')) {
    const value = field.getChildText('value');
    if (value === undefined) continue;
    if (field.attrs.var === 'pubsub#max_items') {
      const n = value === 'max' ? maxItemsLimit : Number(value);
      if (!Number.isInteger(n) || n < 1) return stanzaError('bad-request');
      out.maxItems = Math.min(n, maxItemsLimit);
    } else if (field.attrs.var === 'pubsub#access_model') {
      if (value !== 'presence' && value !== 'open' && value !== 'whitelist') {
        return stanzaError('conflict', { application: xml('precondition-not-met', { xmlns: NS_PUBSUB_ERRORS }) });
      }
      out.access = value;
    }
  }
  return out;
}
