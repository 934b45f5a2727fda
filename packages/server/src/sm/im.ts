// RFC 6121 in the sm: rosters (§2), subscriptions (§3, with the state
// machine of subscription.ts), presence (§4: initial presence, probes,
// broadcast, directed presence, unavailable on every ending). Offline
// messages are a module (modules/offline/).

import { Element, xml } from '@switchboard/xml';
import { NS_ROSTER, stanzaError, type StanzaError } from '@switchboard/protocol';
import type { RosterItem } from '../storage/ports.ts';
import type { IqContext, IqOutcome } from './iq-handlers.ts';
import { itemElement, newItem, readRosterSet, rosterQuery, type Rosters } from './roster.ts';
import type { SmSession } from './session.ts';
import type { SessionTable } from './sessions.ts';
import { hasFrom, hasTo, inbound, outbound, type SubscriptionType } from './subscription.ts';
import { presencePriority } from './presence.ts';
import { bareOf } from '../router/shards.ts';

export interface ImOptions {
  domain: string;
  /** Most items a roster may hold (quotas.ts); unlimited when unset. */
  maxRosterItems?: number;
}

export interface ImHost {
  sessions: SessionTable;
  rosters: Rosters;
  accountExists(username: string): Promise<boolean>;
  sendTo(session: SmSession, stanza: Element): void;
  /** The user's presence may go to this contact's bare JID (the presenceOut chain: XEP-0191 blocks say no). */
  presenceAllowed(username: string, contact: string): boolean;
  /** A stanza the server sends to an address outside its domain (a component or service, such as a MUC room). */
  routeOut(stanza: Element): void;
  /** The sm owning `bare` when it is another shard's user; undefined when it is this shard's (docs/protocol.md "Shards"). */
  peerOf(bare: string): string | undefined;
  /** Hands a stanza to another shard's sm, which does the recipient's side. */
  toPeer(peer: string, stanza: Element): void;
}

const SUBSCRIPTION_TYPES = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);

export function isSubscriptionType(type: string): type is SubscriptionType {
  return SUBSCRIPTION_TYPES.has(type);
}

export class InstantMessaging {
  private pushId = 0;

  constructor(
    private readonly host: ImHost,
    private readonly options: ImOptions,
  ) {}

  private local(bare: string): string | undefined {
    const at = bare.indexOf('@');
    return at > 0 && bare.slice(at + 1) === this.options.domain ? bare.slice(0, at) : undefined;
  }

  // ---- rosters (§2) ----------------------------------------------------------------------

  /** The jabber:iq:roster handler: get (with XEP-0237 versioning) and set. */
  async rosterIq(ctx: IqContext): Promise<IqOutcome> {
    const session = ctx.session;
    if (!session || ctx.account !== session.bareJid) return stanzaError('forbidden');
    if (ctx.type === 'get') {
      session.interested = true;
      const roster = await this.host.rosters.load(session.username);
      // XEP-0237: nothing changed since the client's version → an empty result; pushes bring any later change.
      if (ctx.payload.attrs.ver !== undefined && ctx.payload.attrs.ver === String(roster.version)) return undefined;
      return rosterQuery(roster.version, roster.items.values());
    }
    const request = readRosterSet(ctx.payload, session.bareJid);
    if ('kind' in request && request.kind === 'stanza-error') return request as StanzaError;
    const set = request as Exclude<typeof request, StanzaError>;
    const roster = await this.host.rosters.load(session.username);
    const existing = roster.items.get(set.jid);
    if (set.kind === 'remove') {
      if (!existing || !existing.visible) return stanzaError('item-not-found');
      // §2.5.2: removing cancels the subscriptions both ways.
      if (hasTo(existing.subscription) || existing.ask) await this.subscription(session.bareJid, set.jid, 'unsubscribe');
      if (hasFrom(existing.subscription) || existing.pendingIn) await this.subscription(session.bareJid, set.jid, 'unsubscribed');
      const version = await this.host.rosters.remove(session.username, set.jid);
      this.push(session.username, itemElement({ ...existing }, true), version);
      return undefined;
    }
    if (!existing && roster.items.size >= (this.options.maxRosterItems ?? Infinity)) {
      // RFC 6121 §2.3.3: a roster set the server will not carry out for its own limits.
      return stanzaError('not-allowed', { text: `a roster holds at most ${this.options.maxRosterItems} items` });
    }
    const item: RosterItem = { ...(existing ?? newItem(set.jid)), name: set.name, groups: set.groups, visible: true };
    if (item.name === undefined) delete item.name;
    await this.save(session.username, item);
    return undefined;
  }

  /** Writes an item and pushes it to the owner's interested resources (§2.1.6). */
  private async save(username: string, item: RosterItem): Promise<void> {
    const plain = !item.visible && item.subscription === 'none' && !item.ask && !item.pendingIn && !item.approved;
    const version = plain ? await this.host.rosters.remove(username, item.jid) : await this.host.rosters.put(username, item);
    if (item.visible) this.push(username, itemElement(item), version);
  }

  private push(username: string, element: Element, version: number): void {
    const bare = `${username}@${this.options.domain}`;
    for (const s of this.host.sessions.bare(bare)) {
      if (!s.interested) continue;
      this.host.sendTo(s, xml('iq', { type: 'set', id: `push${++this.pushId}`, to: s.fullJid }, xml('query', { xmlns: NS_ROSTER, ver: String(version) }, element)));
    }
  }

  // ---- subscriptions (§3) ----------------------------------------------------------------

  /**
   * A subscription stanza from `userBare` to `contactBare`: the user's side
   * (outbound), then, for a local contact, the contact's side (inbound).
   */
  async subscription(userBare: string, contactBare: string, type: SubscriptionType, original?: Element): Promise<void> {
    const user = this.local(userBare);
    if (user === undefined) return;
    const before = await this.host.rosters.load(user);
    const existing = before.items.get(contactBare) ?? newItem(contactBare);
    const out = outbound(existing, type);
    const becomesVisible = !existing.visible && (type === 'subscribe' || type === 'subscribed');
    if (out.changed || becomesVisible) {
      // §3.1.2, §3.4: subscribing, approving and pre-approving put the contact in the roster.
      await this.save(user, { ...existing, ...out.state, visible: existing.visible || becomesVisible });
    }
    // §3.1.5: the new subscriber gets the user's current presence; §3.2.2: a cancelled one gets unavailable.
    if (type === 'subscribed' && out.forward) await this.sendCurrentPresence(userBare, contactBare);
    if (type === 'unsubscribed' && out.forward) this.sendUnavailable(userBare, contactBare);
    if (!out.forward) return;
    const contact = this.local(contactBare);
    if (contact === undefined) return;
    const peer = this.host.peerOf(contactBare);
    if (peer !== undefined) {
      // The contact's side is its shard's: the stanza goes there as a server's outbound subscription would.
      // With the client's id, so that an error the contact's shard answers with (its store away) is matched to it.
      this.host.toPeer(peer, xml('presence', { type, from: userBare, to: contactBare, id: original?.attrs.id }, statusOf(original)));
      return;
    }
    if (!(await this.host.accountExists(contact))) return;
    await this.receiveSubscription(contact, contactBare, userBare, type, original);
  }

  /** A subscription stanza from a user of another shard to `ownerBare`, a user of this one: the inbound side. */
  async inboundSubscription(ownerBare: string, fromBare: string, type: SubscriptionType, stanza: Element): Promise<void> {
    const owner = this.local(ownerBare);
    if (owner === undefined || !(await this.host.accountExists(owner))) return;
    await this.receiveSubscription(owner, ownerBare, fromBare, type, stanza);
  }

  /** The contact's server side (Appendix A.3): `owner` receives `type` from `fromBare`. */
  private async receiveSubscription(owner: string, ownerBare: string, fromBare: string, type: SubscriptionType, original?: Element): Promise<void> {
    const roster = await this.host.rosters.load(owner);
    const existing = roster.items.get(fromBare) ?? newItem(fromBare);
    const result = inbound(existing, type);
    if (result.changed) {
      const visible = existing.visible || (result.state.subscription !== 'none' && type !== 'subscribe');
      await this.save(owner, { ...existing, ...result.state, visible });
    }
    if (type === 'unsubscribe' && result.changed) this.sendUnavailable(ownerBare, fromBare);
    if (result.autoReply) {
      // §3.1.3 (already subscribed) and §3.4 (pre-approved): answered for the user, who is not asked
      // again. The state changed above already, so the answer goes straight to the subscriber's side,
      // followed by the user's presence (§3.1.5).
      const subscriber = this.local(fromBare);
      const peer = subscriber !== undefined ? this.host.peerOf(fromBare) : undefined;
      if (peer !== undefined) this.host.toPeer(peer, xml('presence', { type: 'subscribed', from: ownerBare, to: fromBare }));
      else if (subscriber !== undefined) await this.receiveSubscription(subscriber, fromBare, ownerBare, 'subscribed');
      await this.sendCurrentPresence(ownerBare, fromBare);
      return;
    }
    if (!result.forward) return;
    const stanza = xml('presence', { type, from: fromBare, to: ownerBare }, statusOf(original));
    for (const s of this.host.sessions.bare(ownerBare)) if (s.available) this.host.sendTo(s, stanza);
  }

  // ---- presence (§4) ---------------------------------------------------------------------

  /** Presence with no `to`: initial presence, an update, or unavailable. True when it was the initial presence. */
  async ownPresence(session: SmSession, stanza: Element, type: 'available' | 'unavailable'): Promise<boolean> {
    if (type === 'unavailable') {
      if (!session.available) return false;
      session.presence = undefined;
      session.priority = 0;
      await this.broadcast(session, stanza.withAttrs({ type: 'unavailable' }), true);
      return false;
    }
    const initial = !session.available;
    session.presence = stanza;
    session.priority = presencePriority(stanza);
    await this.broadcast(session, stanza, false);
    if (initial) await this.afterInitialPresence(session);
    return initial;
  }

  /** §4.2.2 / §4.4.2: to every contact subscribed to the user, and to the user's own available resources. */
  private async broadcast(session: SmSession, stanza: Element, unavailable: boolean): Promise<void> {
    const roster = await this.host.rosters.load(session.username);
    const from = session.fullJid;
    for (const item of roster.items.values()) {
      if (!hasFrom(item.subscription) || !this.host.presenceAllowed(session.username, item.jid)) continue;
      this.deliverToBare(item.jid, stanza.withAttrs({ from, to: item.jid }));
    }
    for (const own of this.host.sessions.bare(session.bareJid)) {
      if (own.available || own === session) this.host.sendTo(own, stanza.withAttrs({ from, to: own.fullJid }));
    }
    if (unavailable) {
      // §4.6.3: directed-presence recipients learn the resource is gone.
      for (const to of session.directedTo) this.deliverTo(to, stanza.withAttrs({ from, to }));
      session.directedTo.clear();
    }
  }

  /** After initial presence: probes answered locally, own resources, pending requests (stored messages follow, sessAvailable). */
  private async afterInitialPresence(session: SmSession): Promise<void> {
    const roster = await this.host.rosters.load(session.username);
    for (const item of roster.items.values()) {
      // §4.3: the presence of each contact the user is subscribed to.
      if (hasTo(item.subscription)) {
        // A contact of another shard is probed there (§4.3.1); its sm answers with what it knows.
        const peer = this.host.peerOf(item.jid);
        if (peer !== undefined) this.host.toPeer(peer, xml('presence', { type: 'probe', from: session.fullJid, to: item.jid }));
        else for (const contactSession of this.host.sessions.bare(item.jid)) {
          if (contactSession.available) this.host.sendTo(session, contactSession.presence!.withAttrs({ from: contactSession.fullJid, to: session.fullJid }));
        }
      }
      // §3.1.3: requests that arrived while the user was away are delivered again.
      if (item.pendingIn) this.host.sendTo(session, xml('presence', { type: 'subscribe', from: item.jid, to: session.bareJid }));
    }
    for (const own of this.host.sessions.bare(session.bareJid)) {
      if (own !== session && own.available) this.host.sendTo(session, own.presence!.withAttrs({ from: own.fullJid, to: session.fullJid }));
    }
  }

  /** §4.3.2: a probe from `prober` for a local user: the user's available presences, if the prober is subscribed. */
  async answerProbe(prober: SmSession, targetBare: string, id?: string): Promise<void> {
    const peer = this.local(targetBare) !== undefined ? this.host.peerOf(targetBare) : undefined;
    if (peer !== undefined) return this.host.toPeer(peer, xml('presence', { type: 'probe', from: prober.fullJid, to: targetBare, id }));
    return this.answerProbeFor(prober.fullJid, targetBare);
  }

  /** §4.3.2 for a prober by full JID, on this shard or another: the answers are routed to it. */
  async answerProbeFor(proberFull: string, targetBare: string): Promise<void> {
    const target = this.local(targetBare);
    if (target === undefined) return;
    const proberBare = bareOf(proberFull);
    const item = (await this.host.rosters.load(target)).items.get(proberBare);
    if ((!item || !hasFrom(item.subscription)) && targetBare !== proberBare) return;
    if (!this.host.presenceAllowed(target, proberBare)) return;
    for (const s of this.host.sessions.bare(targetBare)) {
      if (s.available) this.deliverTo(proberFull, s.presence!.withAttrs({ from: s.fullJid, to: proberFull }));
    }
  }

  /** Directed presence (§4.6): delivered, and remembered unless the recipient is subscribed anyway. */
  async directed(session: SmSession, stanza: Element, to: string, bareTo: string): Promise<void> {
    const item = (await this.host.rosters.load(session.username)).items.get(bareTo);
    if (stanza.attrs.type === 'unavailable') session.directedTo.delete(to);
    else if (!item || !hasFrom(item.subscription)) session.directedTo.add(to);
  }

  /** Unavailable presence for a session that ends without saying so (a dropped socket, a replacement…). */
  async sessionEnded(session: SmSession): Promise<void> {
    if (session.presence !== undefined || session.directedTo.size > 0) {
      session.presence = undefined;
      await this.broadcast(session, xml('presence', { type: 'unavailable' }), true);
    }
  }

  /** The contact's available presences to the user who just became subscribed (§3.1.5). */
  private async sendCurrentPresence(contactBare: string, userBare: string): Promise<void> {
    for (const s of this.host.sessions.bare(contactBare)) {
      if (s.available) this.deliverToBare(userBare, s.presence!.withAttrs({ from: s.fullJid, to: userBare }));
    }
  }

  /**
   * A newly blocked JID (XEP-0191 §3.2) sees the user go: unavailable from
   * each available resource to it if it is subscribed to the user's
   * presence, and to each directed-presence recipient the block covers. No
   * one else: blocking one occupant of a room must not send the room an
   * unavailable, which would take the user out of it (XEP-0045 §7.14).
   */
  sendUnavailableTo(fromBare: string, to: string): void {
    const toBare = bareOf(to);
    const covers = (jid: string): boolean => jid === to || (to === toBare && bareOf(jid) === to) || domainOf(jid) === to;
    for (const s of this.host.sessions.bare(fromBare)) {
      if (!s.available) continue;
      const item = s.roster?.items.get(toBare);
      const subscribed = item !== undefined && hasFrom(item.subscription);
      if (subscribed) this.deliverTo(to, xml('presence', { type: 'unavailable', from: s.fullJid, to }));
      for (const d of [...s.directedTo]) {
        if (!covers(d)) continue;
        s.directedTo.delete(d);
        if (!(subscribed && d === to)) this.deliverTo(d, xml('presence', { type: 'unavailable', from: s.fullJid, to: d }));
      }
    }
  }

  private sendUnavailable(fromBare: string, toBare: string): void {
    for (const s of this.host.sessions.bare(fromBare)) {
      if (s.available) this.deliverToBare(toBare, xml('presence', { type: 'unavailable', from: s.fullJid, to: toBare }));
    }
  }

  private deliverToBare(bare: string, stanza: Element): void {
    const peer = this.host.peerOf(bare);
    if (peer !== undefined) return this.host.toPeer(peer, stanza);
    for (const s of this.host.sessions.bare(bare)) if (s.available) this.host.sendTo(s, stanza);
  }

  private deliverTo(jid: string, stanza: Element): void {
    // §4.6.3 applies to directed presence sent to a service too (a MUC room learns the occupant left).
    if (domainOf(jid) !== this.options.domain) return this.host.routeOut(stanza);
    const full = this.host.sessions.full(jid);
    if (full) return this.host.sendTo(full, stanza);
    const peer = this.host.peerOf(bareOf(jid));
    if (peer !== undefined) return this.host.toPeer(peer, stanza);
    this.deliverToBare(jid, stanza);
  }
}

function statusOf(original: Element | undefined): Element[] | undefined {
  return original ? original.getChildren().filter((c) => c.name === 'status') : undefined;
}

function domainOf(jid: string): string {
  const at = jid.indexOf('@');
  const slash = jid.indexOf('/', at + 1);
  return jid.slice(at + 1, slash < 0 ? undefined : slash);
}
