// The XEP-0045 group chat service: a Service on the router (service/), one
// per configured domain. It finds the room a stanza is for — loading a
// persistent room from the store on first use, so a restart loads none —
// and hands it to the spec module that owns it. Every stanza is answered,
// delivered or stored; the errors are those of XEP-0045 §18.

import type { Element } from '@switchboard/xml';
import { parseJid, type Jid } from '@switchboard/jid';
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, iqPayload, iqResult, isStanzaError, replyWithError, stanzaError, type StanzaError } from '@switchboard/protocol';
import type { Service, ServiceContext } from '../service/service.ts';
import type { MucStore } from '../storage/ports.ts';
import type { MessageArchive } from '../storage/archive.ts';
import { randomBytes } from 'node:crypto';
import { xml } from '@switchboard/xml';
import { NS_STANZA_ID } from '@switchboard/protocol';
import { recentRoomMessages } from './xep0313-room.ts';
import { mucLimits, type MucLimits, type MucServiceOptions } from './options.ts';
import { Room, type RoomHost } from './room.ts';
import { roomDocument, roomFromDocument } from './room-state.ts';
import { itemsQuery, roomInfo, serviceInfo } from './xep0045-disco.ts';
import { leave, pendingCreation, presenceToRoom, removeOccupant } from './xep0045-presence.ts';
import { messageToRoom, privateMessage } from './xep0045-messages.ts';
import { adminGet, adminSet } from './xep0045-admin.ts';
import { ownerGet, ownerSet } from './xep0045-owner.ts';
import { occupantIq, occupantIqReply } from './occupant-iq.ts';
import { NS_COMMANDS, NS_HATS_COMMANDS, NS_MUC_ADMIN, NS_MUC_OWNER, STATUS } from './types.ts';
import { hatCommand, hatCommandInfo, hatCommandItems } from './xep0317-hats.ts';
import { roomExtensions } from './extensions.ts';
import { NS_REGISTER, ROOMUSER_NODE, registerGet, registerSet, reservedNickInfo } from './xep0045-register.ts';
import { NS_VCARD, vcardGet, vcardSet } from './xep0486-avatar.ts';

export class MucService implements Service {
  readonly kind = 'muc';
  readonly domain: string;
  readonly limits: MucLimits;
  /** Rooms in memory, by localpart: occupied rooms, and persistent rooms loaded since. */
  readonly rooms = new Map<string, Room>();
  /** Rooms being read from the store; stanzas for them wait in order. */
  private readonly loading = new Map<string, Promise<Room | undefined>>();
  private ctx: ServiceContext | undefined;
  private readonly host: RoomHost;

  constructor(
    options: MucServiceOptions,
    private readonly store: MucStore,
    /** The message archive the users' archive uses (XEP-0313), keyed by room localpart and service domain. */
    private readonly messageArchive: MessageArchive,
  ) {
    this.domain = options.domain;
    this.limits = mucLimits(options);
    this.host = {
      limits: this.limits,
      send: (stanza) => this.send(stanza),
      fanOut: (stanza, recipients) => this.ctx?.fanOut(stanza, recipients),
      save: (room) => this.save(room),
      forget: (room) => this.forget(room),
      archive: (room, stanza, nick) => this.archive(room, stanza, nick),
    };
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.ctx = ctx;
    // Persistent rooms nobody is in are unloaded: memory holds occupied rooms, not every room ever read.
    this.sweeper = setInterval(() => this.unloadIdle(), 60_000);
    this.sweeper.unref();
  }

  private sweeper: ReturnType<typeof setInterval> | undefined;

  /** Unloads every loaded room with no occupant (they are all stored: temporary rooms go when empty). */
  unloadIdle(): number {
    let n = 0;
    for (const [local, room] of this.rooms) {
      if (room.isEmpty && !room.locked) {
        this.rooms.delete(local);
        n++;
      }
    }
    return n;
  }

  private send(stanza: Element): void {
    this.ctx?.send(stanza);
  }

  /** §10.9-like goodbye for a shutdown: every occupant leaves with 332 (§15.6), persistent rooms stay stored. */
  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const room of [...this.rooms.values()]) {
      for (const occupant of [...room.occupants.values()]) removeOccupant(room, occupant, [STATUS.shutdown]);
    }
    this.rooms.clear();
  }

  /**
   * Another process serves these rooms from now on (service/service-host.ts):
   * their occupants leave with 332 as at a shutdown when it is a clean
   * handover, and the rooms leave memory; persistent ones are in the store
   * for the new owner, who loads them at their next stanza.
   */
  async stopShard(belongs: (bareJid: string) => boolean, clean: boolean): Promise<void> {
    for (const [local, room] of [...this.rooms]) {
      if (!belongs(room.jid)) continue;
      if (clean) for (const occupant of [...room.occupants.values()]) removeOccupant(room, occupant, [STATUS.shutdown]);
      this.rooms.delete(local);
    }
  }

  receive(stanza: Element): void | Promise<void> {
    const to = parseJid(stanza.attrs.to ?? '');
    const from = parseJid(stanza.attrs.from ?? '');
    if (!to.ok || !from.ok) return this.error(stanza, stanzaError('jid-malformed'));
    if (to.jid.local === undefined) return this.toService(stanza, from.jid);
    const local = to.jid.local;
    const room = this.rooms.get(local);
    if (room) return this.toRoom(room, stanza, from.jid, to.jid.resource);
    return this.load(local).then((loaded) => {
      const current = this.rooms.get(local) ?? loaded;
      if (current) return this.toRoom(current, stanza, from.jid, to.jid.resource);
      return this.toMissingRoom(local, stanza, from.jid, to.jid.resource);
    });
  }

  /** The room from the store, once, however many stanzas ask at the same time. */
  private load(local: string): Promise<Room | undefined> {
    let pending = this.loading.get(local);
    if (!pending) {
      pending = this.store.getRoom(this.domain, local).then(
        async (doc) => {
          if (doc === undefined || this.rooms.has(local)) return this.rooms.get(local);
          const room = roomFromDocument(`${local}@${this.domain}`, this.host, doc);
          room.history.restore(await recentRoomMessages(this.messageArchive, room.jid, Math.min(room.config.historyLength, this.limits.maxHistory)));
          this.rooms.set(local, room);
          return room;
        },
      ).finally(() => this.loading.delete(local));
      this.loading.set(local, pending);
    }
    return pending;
  }

  /** Rooms loaded in memory now (for benchmarks and tests). */
  get loadedRooms(): number {
    return this.rooms.size;
  }

  private toMissingRoom(local: string, stanza: Element, from: Jid, nick: string | undefined): void {
    if (stanza.name === 'presence') {
      const type = stanza.attrs.type;
      if (type !== undefined) return; // leaving a room that is not there: nothing to do
      if (nick === undefined) return this.error(stanza, stanzaError('jid-malformed', { text: 'a nickname is required' }));
      // §10.1.1: entering a room that does not exist creates it, locked until configured.
      const allowed = this.limits.createRoomsDomains === undefined || this.limits.createRoomsDomains.includes(from.domain);
      if (!allowed) return this.error(stanza, stanzaError('not-allowed', { text: 'you may not create rooms here' }));
      if (this.rooms.size >= this.limits.maxRooms) return this.error(stanza, stanzaError('resource-constraint', { text: 'the service holds too many rooms' }));
      const room = new Room(`${local}@${this.domain}`, this.host);
      room.setAffiliation(from.bare().toString(), 'owner');
      room.locked = true;
      pendingCreation.add(room);
      this.rooms.set(local, room);
      const err = presenceToRoom(room, stanza, from, nick);
      if (err) {
        this.rooms.delete(local);
        return this.error(stanza, err);
      }
      return;
    }
    // §18: whatever else is addressed to a room that does not exist.
    return this.error(stanza, stanzaError('item-not-found', { text: 'no such room' }));
  }

  private toRoom(room: Room, stanza: Element, from: Jid, nick: string | undefined): void | Promise<void> {
    switch (stanza.name) {
      case 'presence': {
        if (nick === undefined) {
          if (stanza.attrs.type === undefined) return this.error(stanza, stanzaError('jid-malformed', { text: 'a nickname is required' }));
          return;
        }
        const err = presenceToRoom(room, stanza, from, nick);
        if (err) return this.error(stanza, err);
        return;
      }
      case 'message': {
        if (stanza.attrs.type === 'error') return this.messageError(room, from);
        const err = nick === undefined ? messageToRoom(room, stanza, from) : privateMessage(room, stanza, from, nick);
        if (err) return this.error(stanza, err);
        return;
      }
      case 'iq':
        if (nick !== undefined) {
          if (stanza.attrs.type === 'result' || stanza.attrs.type === 'error') return occupantIqReply(room, stanza, from, nick);
          const err = occupantIq(room, stanza, from, nick);
          if (err) return this.error(stanza, err);
          return;
        }
        return this.roomIq(room, stanza, from);
    }
  }

  /** An occupant's server could not deliver to it (§18 leaves the rest to the service): that session leaves. */
  private messageError(room: Room, from: Jid): void {
    const occupant = room.byRealJid.get(from.toString());
    if (occupant) leave(room, occupant, from.toString(), undefined);
  }

  private async roomIq(room: Room, stanza: Element, from: Jid): Promise<void> {
    const type = stanza.attrs.type;
    if (type === 'result' || type === 'error') return;
    const payload = iqPayload(stanza);
    if (!payload) return this.error(stanza, stanzaError('bad-request'));
    const ns = payload.attrs.xmlns;
    const bare = from.bare().toString();
    let outcome: Element | StanzaError | undefined;
    const node = payload.attrs.node;
    if (type === 'get' && ns === NS_DISCO_INFO && node === ROOMUSER_NODE) outcome = reservedNickInfo(room, bare);
    else if (type === 'get' && ns === NS_DISCO_INFO && node?.startsWith(NS_HATS_COMMANDS)) outcome = hatCommandInfo(room, node, bare) ?? stanzaError('item-not-found');
    else if (type === 'get' && ns === NS_DISCO_INFO) outcome = roomInfo(room, node);
    else if (type === 'get' && ns === NS_DISCO_ITEMS && node === NS_COMMANDS) outcome = xml('query', { xmlns: NS_DISCO_ITEMS, node }, hatCommandItems(room, bare));
    else if (type === 'get' && ns === NS_DISCO_ITEMS) outcome = itemsQuery([]);
    else if (type === 'set' && ns === NS_COMMANDS && payload.name === 'command') outcome = await hatCommand(room, payload, bare);
    else if (ns === NS_MUC_ADMIN) outcome = type === 'get' ? adminGet(room, payload, from.toString()) : await adminSet(room, payload, from.toString());
    else if (ns === NS_MUC_OWNER) outcome = type === 'get' ? ownerGet(room, bare) : await ownerSet(room, payload, bare);
    else if (ns === NS_REGISTER && payload.name === 'query') outcome = type === 'get' ? registerGet(room, bare) : await registerSet(room, payload, bare);
    else if (ns === NS_VCARD && payload.name === 'vCard') outcome = type === 'get' ? vcardGet(room) : await vcardSet(room, payload, bare);
    else if (ns === NS_PING && type === 'get') outcome = undefined;
    else {
      const handled = await roomExtensions(room, stanza, payload, from, this.messageArchive);
      if (handled === 'unhandled') outcome = stanzaError('service-unavailable');
      else outcome = handled;
    }
    if (isStanzaError(outcome)) return this.error(stanza, outcome);
    this.send(iqResult(stanza, outcome));
  }

  private async toService(stanza: Element, from: Jid): Promise<void> {
    if (stanza.name !== 'iq') {
      if (stanza.name === 'message' && stanza.attrs.type !== 'error') this.error(stanza, stanzaError('service-unavailable'));
      return;
    }
    const type = stanza.attrs.type;
    if (type === 'result' || type === 'error') return;
    const payload = iqPayload(stanza);
    if (!payload) return this.error(stanza, stanzaError('bad-request'));
    void from;
    if (type === 'get' && payload.attrs.xmlns === NS_DISCO_INFO && payload.attrs.node === undefined) return this.send(iqResult(stanza, serviceInfo('Chatrooms')));
    if (type === 'get' && payload.attrs.xmlns === NS_DISCO_ITEMS && payload.attrs.node === undefined) return this.send(iqResult(stanza, itemsQuery(await this.publicRooms())));
    if (type === 'get' && payload.attrs.xmlns === NS_PING) return this.send(iqResult(stanza));
    return this.error(stanza, stanzaError('service-unavailable'));
  }

  /** §6.3: public rooms, stored ones and those only in memory (temporary, or not yet saved). */
  private async publicRooms(): Promise<{ jid: string; name: string }[]> {
    const listed = new Map<string, string>();
    for (const r of await this.store.publicRooms(this.domain, 1000)) listed.set(r.room, r.name);
    for (const [local, room] of this.rooms) {
      if (room.config.public && !room.locked) listed.set(local, room.config.name);
      else listed.delete(local);
    }
    return [...listed].sort(([a], [b]) => (a < b ? -1 : 1)).map(([local, name]) => ({ jid: `${local}@${this.domain}`, name }));
  }

  private error(stanza: Element, err: StanzaError): void {
    const reply = replyWithError(stanza, err);
    if (reply) this.send(reply);
  }

  private async save(room: Room): Promise<void> {
    const local = room.jid.slice(0, room.jid.indexOf('@'));
    if (room.destroyed) return;
    if (!room.config.persistent) {
      await this.store.deleteRoom(this.domain, local);
      return;
    }
    await this.store.putRoom(this.domain, local, roomDocument(room), { public: room.config.public, name: room.config.name });
  }

  private forget(room: Room): void {
    const local = room.jid.slice(0, room.jid.indexOf('@'));
    if (this.rooms.get(local) === room) this.rooms.delete(local);
    // A destroyed room or one made temporary leaves nothing behind; an empty persistent room is only unloaded.
    if (room.destroyed || !room.config.persistent) {
      void this.store.deleteRoom(this.domain, local).catch((err: unknown) => console.error('switchboard: muc: deleting a room', err));
      // A room created again under the same name starts with no past.
      if (room.destroyed) void this.eraseArchive(local).catch((err: unknown) => console.error('switchboard: muc: erasing an archive', err));
    }
  }

  private async eraseArchive(local: string): Promise<void> {
    while ((await this.messageArchive.trim(local, this.domain, 0, 1000)) > 0);
  }

  /**
   * Persistent and logged rooms keep their messages in the archive, so history
   * survives a restart and XEP-0313 answers on the room. The message gets its
   * XEP-0359 stanza id (by the room) before it is broadcast.
   */
  private archive(room: Room, stanza: Element, nick: string): void {
    if (!room.config.persistent && !room.config.enableLogging) return;
    const local = room.jid.slice(0, room.jid.indexOf('@'));
    const id = randomBytes(9).toString('base64url');
    stanza.children.push(xml('stanza-id', { xmlns: NS_STANZA_ID, by: room.jid, id }));
    const body = stanza.getChildText('body');
    const entry = { username: local, host: this.domain, id, timestamp: new Date(), with: room.occupantJid(nick), stanza: stanza.toString(), ...(body !== undefined ? { body } : {}) };
    void this.messageArchive.append([entry]).catch((err: unknown) => console.error('switchboard: muc: archiving', err));
  }
}
