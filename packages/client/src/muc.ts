// XEP-0045 Multi-User Chat on the client: join a room (with a history
// request) and get its occupants, leave, talk, change nick, set the subject,
// configure the room with typed fields instead of a raw form, invite, and
// moderate (kick, ban, roles, affiliations), register with a room (§7.10)
// and answer registration requests (§9.9, muc-registration.ts), and manage
// XEP-0317 hats (muc-hats.ts), which occupants carry typed. Occupant events
// carry the status codes of §15.6. Only presence and messages from a joined
// room's JIDs are read, so nothing else can pose as an occupant.

import { xml, type Element } from '@switchboard/xml';
import { parseStanzaError, type StanzaError } from '@switchboard/protocol';
import { Emitter } from './emitter.ts';
import { hatCommandRequest, readAssignments, readHatList, readHats, type Hat, type HatAssignment, type HatCommand } from './muc-hats.ts';
import { NS_REGISTER, readRegistrationMessage, registrationDecision, registrationSubmit, type RegistrationDetails, type RegistrationOutcome, type RegistrationRequest } from './muc-registration.ts';

export const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = `${NS_MUC}#user`;
const NS_MUC_ADMIN = `${NS_MUC}#admin`;
const NS_MUC_OWNER = `${NS_MUC}#owner`;
const NS_DATA = 'jabber:x:data';
const NS_DELAY = 'urn:xmpp:delay';
const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0';

export type MucAffiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';
export type MucRole = 'moderator' | 'participant' | 'visitor' | 'none';

export interface Occupant {
  nick: string;
  affiliation: MucAffiliation;
  role: MucRole;
  /** The real JID, when the room shows it to us. */
  jid?: string;
  /** XEP-0421 occupant id, stable per user and room. */
  occupantId?: string;
  show?: string;
  status?: string;
  /** XEP-0317: the hats the room shows on this occupant, when it wears any. */
  hats?: Hat[];
}

/** §7.2.14 history request: all limits given apply together. */
export interface HistoryRequest {
  maxchars?: number;
  maxstanzas?: number;
  seconds?: number;
  since?: Date;
}

export interface JoinOptions {
  password?: string;
  history?: HistoryRequest;
  timeoutMs?: number;
}

export interface GroupchatMessage {
  room: string;
  /** Empty for a message from the room itself. */
  nick: string;
  body: string | undefined;
  occupantId?: string;
  /** Set for history (XEP-0203 delay from the room). */
  delayedAt?: Date;
  stanza: Element;
}

export interface JoinedRoom {
  room: string;
  nick: string;
  /** Our own status codes (110, and 100/170/201/210 as they apply). */
  codes: string[];
  self: Occupant;
  /** Everyone else in the room when we entered, by nick. */
  occupants: Map<string, Occupant>;
  history: GroupchatMessage[];
  subject: string;
}

/** The muc#roomconfig form as typed fields (§10.2); absent fields are left as they are. */
export interface RoomConfig {
  name?: string;
  description?: string;
  persistent?: boolean;
  public?: boolean;
  membersOnly?: boolean;
  moderated?: boolean;
  /** A password makes the room password-protected; '' removes it. */
  password?: string;
  /** 0 for no limit. */
  maxUsers?: number;
  whois?: 'moderators' | 'anyone';
  changeSubject?: boolean;
  allowInvites?: boolean;
  allowPm?: 'anyone' | 'participants' | 'moderators' | 'none';
  enableLogging?: boolean;
  historyLength?: number;
}

export interface MucEvents {
  'occupant:joined': { room: string; occupant: Occupant; codes: string[] };
  'occupant:changed': { room: string; occupant: Occupant; codes: string[] };
  /** Left, kicked (307), banned (301), removed by an affiliation change (321/322) or a shutdown (332). */
  'occupant:left': { room: string; occupant: Occupant; codes: string[]; reason?: string; actor?: string };
  'nick:changed': { room: string; from: string; to: string; self: boolean };
  groupchat: GroupchatMessage;
  subject: { room: string; nick: string; subject: string };
  /** A mediated invitation (§7.8.2) or a direct one (XEP-0249). */
  invite: { room: string; from: string; reason?: string; password?: string; kind: 'mediated' | 'direct' };
  /** §9.9: a room we own or administer asks us to approve a registration (answer with decideRegistration). */
  'registration:requested': RegistrationRequest;
  /** §9.9: the room's admins answered our own registration request. */
  'registration:decided': RegistrationOutcome;
  /** We are out of the room: the codes say why; `destroyed` when the room is gone (§10.9). */
  'room:left': { room: string; codes: string[]; reason?: string; destroyed?: { venue?: string; reason?: string } };
}

/** A room refused what we asked, with the error it gave. */
export class MucError extends Error {
  constructor(readonly error: StanzaError) {
    super(`muc: ${error.condition}${error.text ? ` (${error.text})` : ''}`);
    this.name = 'MucError';
  }
  get condition(): StanzaError['condition'] {
    return this.error.condition;
  }
}

/** What the MUC API needs of the client. */
export interface MucHost {
  send(stanza: Element): void;
  iq(request: Element): Promise<Element>;
  newId(): string;
  on(event: 'stanza', listener: (el: Element) => void): () => void;
}

interface RoomState {
  nick: string;
  occupants: Map<string, Occupant>;
  joined: boolean;
}

const bareOf = (jid: string): string => (jid.includes('/') ? jid.slice(0, jid.indexOf('/')) : jid);
const nickOf = (jid: string): string => (jid.includes('/') ? jid.slice(jid.indexOf('/') + 1) : '');

export class Muc extends Emitter<MucEvents> {
  private readonly rooms = new Map<string, RoomState>();
  private readonly unlisten: () => void;

  constructor(private readonly client: MucHost) {
    super();
    this.unlisten = client.on('stanza', (el) => this.onStanza(el));
  }

  /** Stops listening (the rooms are not left: the server does that when the session ends). */
  close(): void {
    this.unlisten();
  }

  /** The occupants of a joined room now, by nick (ourselves included). */
  occupants(room: string): ReadonlyMap<string, Occupant> {
    return this.rooms.get(room)?.occupants ?? new Map();
  }

  /** §7.2: enters the room; resolves once the subject arrives (the end of the join), rejects with the room's error. */
  join(room: string, nick: string, options: JoinOptions = {}): Promise<JoinedRoom> {
    const state: RoomState = { nick, occupants: new Map(), joined: false };
    this.rooms.set(room, state);
    const history: GroupchatMessage[] = [];
    let self: Occupant | undefined;
    let codes: string[] = [];
    const h = options.history;
    const x = xml(
      'x',
      { xmlns: NS_MUC },
      h && xml('history', { maxchars: h.maxchars?.toString(), maxstanzas: h.maxstanzas?.toString(), seconds: h.seconds?.toString(), since: h.since?.toISOString() }),
      options.password !== undefined && xml('password', {}, options.password),
    );
    return new Promise<JoinedRoom>((resolve, reject) => {
      const timer = setTimeout(() => finish(new MucError({ kind: 'stanza-error', condition: 'remote-server-timeout', type: 'wait' })), options.timeoutMs ?? 20_000);
      const off = this.client.on('stanza', (el) => {
        const from = el.attrs.from ?? '';
        if (bareOf(from) !== room) return;
        if (el.name === 'presence') {
          if (el.attrs.type === 'error' && nickOf(from) === nick) return finish(new MucError(parseStanzaError(el) ?? { kind: 'stanza-error', condition: 'undefined-condition', type: 'cancel' }));
          const read = readOccupant(el);
          if (read && read.codes.includes('110') && el.attrs.type !== 'unavailable') {
            self = read.occupant;
            codes = read.codes;
            // §7.2.3 / §7.6: the service may have changed our nick (210).
            state.nick = read.occupant.nick;
          }
          return;
        }
        if (el.name !== 'message' || el.attrs.type !== 'groupchat') return;
        const subject = el.getChild('subject');
        if (subject && !el.getChild('body') && self) {
          const others = new Map([...state.occupants].filter(([n]) => n !== state.nick));
          finish(undefined, { room, nick: state.nick, codes, self, occupants: others, history, subject: subject.text() });
          return;
        }
        const message = readGroupchat(el, room);
        if (message.delayedAt) history.push(message);
      });
      const finish = (error?: MucError, result?: JoinedRoom): void => {
        clearTimeout(timer);
        off();
        if (error) {
          this.rooms.delete(room);
          reject(error);
        } else {
          state.joined = true;
          resolve(result!);
        }
      };
      this.client.send(xml('presence', { to: `${room}/${nick}` }, x));
    });
  }

  /** §7.14: leaves; resolves when the room confirms. */
  leave(room: string, status?: string): Promise<void> {
    const state = this.rooms.get(room);
    if (!state) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, 10_000);
      const off = this.on('room:left', (e) => {
        if (e.room === room) done();
      });
      function done(): void {
        clearTimeout(timer);
        off();
        resolve();
      }
      this.client.send(xml('presence', { to: `${room}/${state.nick}`, type: 'unavailable' }, status !== undefined && xml('status', {}, status)));
    });
  }

  /** §7.4 */
  say(room: string, body: string): string {
    const id = this.client.newId();
    this.client.send(xml('message', { to: room, type: 'groupchat', id }, xml('body', {}, body)));
    return id;
  }

  /** §7.5: a private message to one occupant. */
  sayPrivately(room: string, nick: string, body: string): void {
    this.client.send(xml('message', { to: `${room}/${nick}`, type: 'chat', id: this.client.newId() }, xml('body', {}, body), xml('x', { xmlns: NS_MUC_USER })));
  }

  /** §7.6: resolves with our occupant under the new nick; rejects with conflict when it is taken. */
  changeNick(room: string, nick: string): Promise<Occupant> {
    const state = this.rooms.get(room);
    if (!state) return Promise.reject(new MucError({ kind: 'stanza-error', condition: 'not-acceptable', type: 'cancel', text: 'not in that room' }));
    return new Promise<Occupant>((resolve, reject) => {
      const timer = setTimeout(() => finish(new MucError({ kind: 'stanza-error', condition: 'remote-server-timeout', type: 'wait' })), 10_000);
      const off = this.client.on('stanza', (el) => {
        if (el.name !== 'presence' || el.attrs.from !== `${room}/${nick}`) return;
        if (el.attrs.type === 'error') return finish(new MucError(parseStanzaError(el) ?? { kind: 'stanza-error', condition: 'undefined-condition', type: 'cancel' }));
        const read = readOccupant(el);
        if (read?.codes.includes('110')) finish(undefined, read.occupant);
      });
      const finish = (error?: MucError, occupant?: Occupant): void => {
        clearTimeout(timer);
        off();
        if (error) reject(error);
        else resolve(occupant!);
      };
      this.client.send(xml('presence', { to: `${room}/${nick}` }));
    });
  }

  /** §8.1 */
  setSubject(room: string, subject: string): void {
    this.client.send(xml('message', { to: room, type: 'groupchat', id: this.client.newId() }, xml('subject', {}, subject)));
  }

  /** §10.1.2 / §10.2: the room's configuration as typed fields. */
  async getConfig(room: string): Promise<RoomConfig> {
    const result = await this.client.iq(xml('iq', { type: 'get', to: room, id: this.client.newId() }, xml('query', { xmlns: NS_MUC_OWNER })));
    const form = result.getChild('query', NS_MUC_OWNER)?.getChild('x', NS_DATA);
    const values = new Map<string, string[]>();
    for (const f of form?.getChildren('field') ?? []) values.set(f.attrs.var ?? '', f.getChildren('value').map((v) => v.text()));
    const config: RoomConfig = {};
    for (const [key, field] of Object.entries(CONFIG_FIELDS) as [keyof RoomConfig, ConfigField][]) {
      const v = values.get(field.var);
      if (v !== undefined) (config as Record<string, unknown>)[key] = field.read(v[0] ?? '');
    }
    return config;
  }

  /** Submits the configuration (§10.1.3 with no fields: an instant room with the defaults). */
  async configure(room: string, config: RoomConfig = {}): Promise<void> {
    const form = xml('x', { xmlns: NS_DATA, type: 'submit' }, xml('field', { var: 'FORM_TYPE' }, xml('value', {}, `${NS_MUC}#roomconfig`)));
    for (const [key, value] of Object.entries(config) as [keyof RoomConfig, unknown][]) {
      if (value === undefined) continue;
      const field = CONFIG_FIELDS[key];
      form.children.push(xml('field', { var: field.var }, xml('value', {}, field.write(value))));
      if (key === 'password') form.children.push(xml('field', { var: 'muc#roomconfig_passwordprotectedroom' }, xml('value', {}, value === '' ? '0' : '1')));
    }
    await this.client.iq(xml('iq', { type: 'set', to: room, id: this.client.newId() }, xml('query', { xmlns: NS_MUC_OWNER }, form)));
  }

  /** §7.8.2: a mediated invitation, sent through the room. */
  invite(room: string, jid: string, reason?: string): void {
    this.client.send(xml('message', { to: room, id: this.client.newId() }, xml('x', { xmlns: NS_MUC_USER }, xml('invite', { to: jid }, reason !== undefined && xml('reason', {}, reason)))));
  }

  /** XEP-0249: a direct invitation, sent to the invitee. */
  inviteDirectly(room: string, jid: string, reason?: string, password?: string): void {
    this.client.send(xml('message', { to: jid, id: this.client.newId() }, xml('x', { xmlns: 'jabber:x:conference', jid: room, reason, password })));
  }

  /** §7.8.2 decline. */
  decline(room: string, inviter: string, reason?: string): void {
    this.client.send(xml('message', { to: room, id: this.client.newId() }, xml('x', { xmlns: NS_MUC_USER }, xml('decline', { to: inviter }, reason !== undefined && xml('reason', {}, reason)))));
  }

  /** §8.2 */
  kick(room: string, nick: string, reason?: string): Promise<void> {
    return this.setRole(room, nick, 'none', reason);
  }

  /** §9.1 */
  ban(room: string, jid: string, reason?: string): Promise<void> {
    return this.setAffiliation(room, jid, 'outcast', reason);
  }

  /** §8.3–8.5, §9.6–9.7: voice and moderator. */
  async setRole(room: string, nick: string, role: MucRole, reason?: string): Promise<void> {
    await this.admin(room, 'set', xml('item', { nick, role }, reason !== undefined && xml('reason', {}, reason)));
  }

  /** §9.3–9.5, §10.3–10.10: member, admin, owner, none, outcast. */
  async setAffiliation(room: string, jid: string, affiliation: MucAffiliation, reason?: string): Promise<void> {
    await this.admin(room, 'set', xml('item', { jid, affiliation }, reason !== undefined && xml('reason', {}, reason)));
  }

  /** §9.2, §9.5, §10.5, §10.8: who has an affiliation. */
  async affiliations(room: string, affiliation: Exclude<MucAffiliation, 'none'>): Promise<{ jid: string; nick?: string; reason?: string }[]> {
    const result = await this.admin(room, 'get', xml('item', { affiliation }));
    return (result.getChild('query', NS_MUC_ADMIN)?.getChildren('item') ?? []).map((i) => ({ jid: i.attrs.jid ?? '', nick: i.attrs.nick, reason: i.getChildText('reason') }));
  }

  /** §10.9 */
  async destroy(room: string, options: { venue?: string; reason?: string } = {}): Promise<void> {
    await this.client.iq(
      xml('iq', { type: 'set', to: room, id: this.client.newId() }, xml('query', { xmlns: NS_MUC_OWNER }, xml('destroy', { jid: options.venue }, options.reason !== undefined && xml('reason', {}, options.reason)))),
    );
  }

  /**
   * §7.10: registers with the room under `nick`. 'registered': we are a
   * member with that nick reserved; 'pending': the room is members-only and
   * its admins decide (§9.9; 'registration:decided' tells us). Rejects with
   * conflict when the nick is another's, forbidden when we are banned.
   */
  async register(room: string, nick: string, details: RegistrationDetails = {}): Promise<'registered' | 'pending'> {
    await this.client.iq(registrationSubmit(room, this.client.newId(), nick, details));
    return (await this.reservedNick(room)) === nick ? 'registered' : 'pending';
  }

  /** §7.10's get: the nick we reserved in the room, if any. */
  async reservedNick(room: string): Promise<string | undefined> {
    const result = await this.client.iq(xml('iq', { type: 'get', to: room, id: this.client.newId() }, xml('query', { xmlns: NS_REGISTER })));
    const query = result.getChild('query', NS_REGISTER);
    return query?.getChild('registered') ? query.getChildText('username') : undefined;
  }

  /** XEP-0077 §3.2 in a room: gives up the reserved nick (and a membership that came with it), or withdraws a waiting request. */
  async unregister(room: string): Promise<void> {
    await this.client.iq(xml('iq', { type: 'set', to: room, id: this.client.newId() }, xml('query', { xmlns: NS_REGISTER }, xml('remove'))));
  }

  /** §9.9: approves or denies a registration request (owners and admins; the room answers an error message otherwise). */
  decideRegistration(room: string, jid: string, allow: boolean): void {
    this.client.send(registrationDecision(room, this.client.newId(), jid, allow));
  }

  /** XEP-0317: the hats the room defines. */
  async hats(room: string): Promise<Hat[]> {
    return readHatList(await this.hatCommand(room, 'list'));
  }

  /** XEP-0317: who wears which hat (owners and admins). */
  async assignedHats(room: string): Promise<HatAssignment[]> {
    return readAssignments(await this.hatCommand(room, 'list-assigned'));
  }

  /** XEP-0317: defines a hat, or retitles one with the same URI (owners and admins); without a URI one is made. */
  async createHat(room: string, hat: { title: string; uri?: string; hue?: number }): Promise<Hat> {
    const uri = hat.uri ?? `urn:xmpp:hats:${room}:${this.client.newId()}`;
    const fields: Record<string, string> = { 'hats#title': hat.title, 'hats#uri': uri };
    if (hat.hue !== undefined) fields['hats#hue'] = String(hat.hue);
    await this.hatCommand(room, 'create', fields);
    return hat.hue === undefined ? { uri, title: hat.title } : { uri, title: hat.title, hue: hat.hue };
  }

  /** XEP-0317: removes a hat from the room and from everyone wearing it. */
  async destroyHat(room: string, uri: string): Promise<void> {
    await this.hatCommand(room, 'destroy', { 'hats#uri': uri });
  }

  /** XEP-0317: puts a hat the room defines on a user (by bare JID). */
  async assignHat(room: string, jid: string, uri: string): Promise<void> {
    await this.hatCommand(room, 'assign', { 'hats#jid': jid, 'hats#uri': uri });
  }

  async unassignHat(room: string, jid: string, uri: string): Promise<void> {
    await this.hatCommand(room, 'unassign', { 'hats#jid': jid, 'hats#uri': uri });
  }

  private hatCommand(room: string, command: HatCommand, fields?: Record<string, string>): Promise<Element> {
    return this.client.iq(hatCommandRequest(room, this.client.newId(), command, fields));
  }

  private admin(room: string, type: 'get' | 'set', item: Element): Promise<Element> {
    return this.client.iq(xml('iq', { type, to: room, id: this.client.newId() }, xml('query', { xmlns: NS_MUC_ADMIN }, item)));
  }

  private onStanza(el: Element): void {
    const from = el.attrs.from ?? '';
    if (el.name === 'message') {
      const direct = el.getChild('x', 'jabber:x:conference');
      if (direct?.attrs.jid) return this.emit('invite', { room: direct.attrs.jid, from: bareOf(from), reason: direct.attrs.reason, password: direct.attrs.password, kind: 'direct' });
    }
    const room = bareOf(from);
    const state = this.rooms.get(room);
    if (el.name === 'message') {
      const x = el.getChild('x', NS_MUC_USER);
      const invite = x?.getChild('invite');
      if (invite && nickOf(from) === '') return this.emit('invite', { room, from: invite.attrs.from ?? '', reason: invite.getChildText('reason'), password: x?.getChildText('password'), kind: 'mediated' });
      // §9.9, from the room's own JID: a request to approve, or the outcome of ours.
      const registration = nickOf(from) === '' && el.attrs.type !== 'error' && el.attrs.type !== 'groupchat' ? readRegistrationMessage(room, el) : undefined;
      if (registration) return 'request' in registration ? this.emit('registration:requested', registration.request) : this.emit('registration:decided', registration.outcome);
      if (!state?.joined || el.attrs.type !== 'groupchat') return;
      const subject = el.getChild('subject');
      if (subject && !el.getChild('body')) return this.emit('subject', { room, nick: nickOf(from), subject: subject.text() });
      return this.emit('groupchat', readGroupchat(el, room));
    }
    if (el.name !== 'presence' || !state || el.attrs.type === 'error') return;
    const read = readOccupant(el);
    if (!read) return;
    const { occupant, codes, newNick, reason, actor, destroy } = read;
    const isSelf = codes.includes('110') || occupant.nick === state.nick;
    if (el.attrs.type === 'unavailable') {
      if (newNick !== undefined) {
        // §7.6: a nick change is an unavailable with 303, then the new presence.
        state.occupants.delete(occupant.nick);
        if (isSelf) state.nick = newNick;
        this.emit('nick:changed', { room, from: occupant.nick, to: newNick, self: isSelf });
        return;
      }
      state.occupants.delete(occupant.nick);
      if (isSelf) {
        this.rooms.delete(room);
        this.emit('room:left', { room, codes, reason, destroyed: destroy });
        return;
      }
      this.emit('occupant:left', { room, occupant, codes, reason, actor });
      return;
    }
    const known = state.occupants.has(occupant.nick);
    state.occupants.set(occupant.nick, occupant);
    if (!state.joined) return;
    this.emit(known ? 'occupant:changed' : 'occupant:joined', { room, occupant, codes });
  }
}

function readOccupant(el: Element): { occupant: Occupant; codes: string[]; newNick?: string; reason?: string; actor?: string; destroy?: { venue?: string; reason?: string } } | undefined {
  const x = el.getChild('x', NS_MUC_USER);
  const item = x?.getChild('item');
  if (!x || !item) return undefined;
  const occupant: Occupant = {
    nick: nickOf(el.attrs.from ?? ''),
    affiliation: (item.attrs.affiliation ?? 'none') as MucAffiliation,
    role: (item.attrs.role ?? 'none') as MucRole,
  };
  if (item.attrs.jid) occupant.jid = item.attrs.jid;
  const id = el.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id;
  if (id) occupant.occupantId = id;
  const show = el.getChildText('show');
  if (show) occupant.show = show;
  const status = el.getChildText('status');
  if (status) occupant.status = status;
  const hats = readHats(el);
  if (hats.length > 0) occupant.hats = hats;
  const destroyEl = x.getChild('destroy');
  return {
    occupant,
    codes: x.getChildren('status').map((s) => s.attrs.code ?? ''),
    newNick: item.attrs.nick,
    reason: item.getChildText('reason'),
    actor: item.getChild('actor')?.attrs.nick,
    destroy: destroyEl ? { venue: destroyEl.attrs.jid, reason: destroyEl.getChildText('reason') } : undefined,
  };
}

function readGroupchat(el: Element, room: string): GroupchatMessage {
  const delay = el.getChild('delay', NS_DELAY);
  const message: GroupchatMessage = { room, nick: nickOf(el.attrs.from ?? ''), body: el.getChildText('body'), stanza: el };
  const id = el.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id;
  if (id) message.occupantId = id;
  if (delay && bareOf(delay.attrs.from ?? '') === room && delay.attrs.stamp) message.delayedAt = new Date(delay.attrs.stamp);
  return message;
}

interface ConfigField {
  var: string;
  read(v: string): unknown;
  write(v: unknown): string;
}

const bool = (name: string): ConfigField => ({ var: name, read: (v) => v === '1' || v === 'true', write: (v) => (v ? '1' : '0') });
const text = (name: string): ConfigField => ({ var: name, read: (v) => v, write: (v) => String(v) });

const CONFIG_FIELDS: Record<keyof RoomConfig, ConfigField> = {
  name: text('muc#roomconfig_roomname'),
  description: text('muc#roomconfig_roomdesc'),
  persistent: bool('muc#roomconfig_persistentroom'),
  public: bool('muc#roomconfig_publicroom'),
  membersOnly: bool('muc#roomconfig_membersonly'),
  moderated: bool('muc#roomconfig_moderatedroom'),
  password: text('muc#roomconfig_roomsecret'),
  maxUsers: { var: 'muc#roomconfig_maxusers', read: (v) => (v === 'none' || v === '' ? 0 : Number(v)), write: (v) => (v === 0 ? 'none' : String(v)) },
  whois: text('muc#roomconfig_whois'),
  changeSubject: bool('muc#roomconfig_changesubject'),
  allowInvites: bool('muc#roomconfig_allowinvites'),
  allowPm: text('muc#roomconfig_allowpm'),
  enableLogging: bool('muc#roomconfig_enablelogging'),
  historyLength: { var: 'muc#maxhistoryfetch', read: (v) => Number(v), write: (v) => String(v) },
};
