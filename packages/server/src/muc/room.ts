// One room's state (XEP-0045 §5, §7): configuration, affiliations,
// occupants by nick and by real JID, history and subject. Protocol modules
// (xep0045-*.ts) change it; this file only keeps it consistent and builds
// the presence an occupant shows to others (§7.2.3, with XEP-0421 ids).

import { createHash, randomBytes } from 'node:crypto';
import { xml } from '@switchboard/xml';
import type { Element as El } from '@switchboard/xml';
import type { MucLimits } from './options.ts';
import {
  AFFILIATION_RANK,
  DEFAULT_ROOM_CONFIG,
  NS_MUC,
  NS_MUC_USER,
  NS_OCCUPANT_ID,
  NS_HATS,
  type AffiliationEntry,
  type Affiliation,
  type Role,
  type RoomConfig,
} from './types.ts';
import { History } from './history.ts';
import { TokenBucket } from '../limits/token-bucket.ts';

/** What rooms need from their service. */
export interface RoomHost {
  readonly limits: MucLimits;
  send(stanza: El): void;
  /** One stanza without `to` for many real JIDs (ServiceContext.fanOut). */
  fanOut(stanza: El, recipients: readonly string[]): void;
  /** Writes a persistent room's configuration, affiliations and subject. */
  save(room: Room): Promise<void>;
  /** The room is gone (destroyed, or temporary and empty). */
  forget(room: Room): void;
  /** Appends a message to the room's archive when logging is on. */
  archive?(room: Room, stanza: El, nick: string): void;
}

export class Occupant {
  /** Each session of the user under this nick (Prosody 0.12 "multiple sessions"), by real full JID, with its last presence. */
  readonly sessions = new Map<string, El>();
  /** The session whose presence the others see. */
  primary: string;
  readonly bucket: TokenBucket;

  constructor(
    public nick: string,
    readonly bareJid: string,
    firstJid: string,
    presence: El,
    public role: Role,
    /** XEP-0421: stable per user and room, hides the real JID. */
    readonly occupantId: string,
    limits: MucLimits,
  ) {
    this.primary = firstJid;
    this.sessions.set(firstJid, presence);
    this.bucket = new TokenBucket(limits.messagesPerSecond, limits.burst);
  }

  get presence(): El {
    return this.sessions.get(this.primary)!;
  }
}

/** A §9.9 registration request in a members-only room, waiting for an admin's answer. */
export interface RegistrationRequest {
  nick: string;
  /** The other muc#register fields the user filled in (muc#register_first, _last, _url, _email, _faqentry). */
  fields: Record<string, string>;
  requestedAt: string;
}

/** A XEP-0317 hat the room defines: its URI identifies it, the title is shown, the hue (XEP-0392 angle) colours it. */
export interface HatDefinition {
  title: string;
  hue?: string;
}

export interface Subject {
  text: string;
  /** The occupant JID (room@service/nick) that set it, or the room's. */
  from: string;
  stamp: string;
}

export class Room {
  config: RoomConfig;
  readonly affiliations = new Map<string, AffiliationEntry>();
  readonly occupants = new Map<string, Occupant>();
  readonly byRealJid = new Map<string, Occupant>();
  readonly history: History;
  subject: Subject | undefined;
  /** §9.9: registration requests awaiting approval, by bare JID (bounded in xep0045-registration-requests.ts). */
  readonly registrationRequests = new Map<string, RegistrationRequest>();
  /** XEP-0317: the hats this room defines, by URI, and the hats each user wears, by bare JID (bounded in xep0317-hats.ts). */
  readonly hats = new Map<string, HatDefinition>();
  readonly hatsWorn = new Map<string, string[]>();
  /** §10.1.1: created and not yet configured; only its owner may enter. */
  locked = false;
  destroyed = false;
  /** Salt of the room's XEP-0421 occupant ids, kept with the room so the ids survive a restart. */
  idSalt: string;
  /** The room's vcard-temp (XEP-0054, set by owners, XEP-0486), as text; undefined when none is set. */
  vcard: string | undefined;
  /** XEP-0153 hashes (SHA-1 of each PHOTO's BINVAL) of the vCard's avatar; empty when it has none. */
  avatarHashes: readonly string[] = [];

  constructor(
    /** The room's bare JID. */
    readonly jid: string,
    readonly host: RoomHost,
    config: Partial<RoomConfig> = {},
  ) {
    this.config = { ...DEFAULT_ROOM_CONFIG, ...config };
    this.history = new History(() => Math.min(this.config.historyLength, host.limits.maxHistory));
    this.idSalt = randomBytes(12).toString('base64');
  }

  affiliation(bareJid: string): Affiliation {
    return this.affiliations.get(bareJid)?.affiliation ?? 'none';
  }

  /** §5.1.2 default roles on entering. */
  defaultRole(affiliation: Affiliation): Role {
    if (affiliation === 'owner' || affiliation === 'admin') return 'moderator';
    if (affiliation === 'member') return 'participant';
    return this.config.moderated ? 'visitor' : 'participant';
  }

  setAffiliation(bareJid: string, affiliation: Affiliation, reason?: string): void {
    // §9.9: a membership given (or a ban) answers any registration request of that user.
    if (affiliation !== 'none') this.registrationRequests.delete(bareJid);
    // A banned user's hats go with the ban (XEP-0317 keeps hats for those the room knows).
    if (affiliation === 'outcast') this.hatsWorn.delete(bareJid);
    if (affiliation === 'none') {
      const nick = this.affiliations.get(bareJid)?.nick;
      this.affiliations.delete(bareJid);
      // A registered nick (§7.10) is kept only with membership or above.
      void nick;
      return;
    }
    const entry: AffiliationEntry = { ...this.affiliations.get(bareJid), affiliation };
    if (reason) entry.reason = reason;
    else delete entry.reason;
    this.affiliations.set(bareJid, entry);
  }

  owners(): string[] {
    return [...this.affiliations].filter(([, e]) => e.affiliation === 'owner').map(([jid]) => jid);
  }

  /** The nick `bareJid` reserved (§7.10), kept with an affiliation of member or above. */
  reservedNick(bareJid: string): string | undefined {
    const entry = this.affiliations.get(bareJid);
    return entry && AFFILIATION_RANK[entry.affiliation] >= AFFILIATION_RANK.member ? entry.nick : undefined;
  }

  /** The bare JID whose §9.9 request asks for `nick`, if any. */
  pendingNickOwner(nick: string): string | undefined {
    for (const [jid, request] of this.registrationRequests) if (request.nick === nick) return jid;
    return undefined;
  }

  /** The bare JID that reserved `nick` (§7.10), if another did. */
  nickOwner(nick: string): string | undefined {
    for (const [jid, entry] of this.affiliations) if (entry.nick === nick && AFFILIATION_RANK[entry.affiliation] >= AFFILIATION_RANK.member) return jid;
    return undefined;
  }

  occupantJid(nick: string): string {
    return `${this.jid}/${nick}`;
  }

  occupantId(bareJid: string): string {
    return createHash('sha256').update(`${this.idSalt}\0${bareJid}`).digest('base64').slice(0, 22);
  }

  /** Real JIDs are shown to `viewer` (§5.2.1): everyone in a non-anonymous room, moderators otherwise. */
  showsRealJids(viewer: Occupant | undefined): boolean {
    return this.config.whois === 'anyone' || viewer?.role === 'moderator';
  }

  get isEmpty(): boolean {
    return this.occupants.size === 0;
  }

  /** The real JID of every session in the room. */
  sessionJids(): string[] {
    const jids: string[] = [];
    for (const occupant of this.occupants.values()) for (const jid of occupant.sessions.keys()) jids.push(jid);
    return jids;
  }

  /** Every session of every occupant, with the occupant it belongs to. */
  *sessions(): Generator<[string, Occupant]> {
    for (const occupant of this.occupants.values()) for (const jid of occupant.sessions.keys()) yield [jid, occupant];
  }

  /**
   * The presence `occupant` shows to `viewer` (§7.2.3): its own presence's
   * show/status/caps, with a muc#user item (affiliation, role, and the real
   * JID when the viewer may see it) and `codes`.
   */
  presenceOf(occupant: Occupant, viewer: Occupant | undefined, to: string, options: { type?: 'unavailable'; codes?: readonly string[]; item?: Record<string, string | undefined>; extra?: El[]; realJid?: string } = {}): El {
    const base = options.type === 'unavailable' ? undefined : occupant.presence;
    const children: (El | string)[] = [];
    if (base) {
      for (const child of base.children) {
        if (typeof child === 'string') continue;
        // The user's own muc elements and occupant ids are the room's to write.
        const ns = child.attrs.xmlns;
        if (ns === NS_MUC || ns === NS_MUC_USER || ns === NS_OCCUPANT_ID || ns === NS_HATS) continue;
        children.push(child);
      }
    }
    const x = xml('x', { xmlns: NS_MUC_USER });
    const item = xml('item', {
      affiliation: this.affiliation(occupant.bareJid),
      role: options.type === 'unavailable' ? 'none' : occupant.role,
      jid: this.showsRealJids(viewer) ? (options.realJid ?? occupant.primary) : undefined,
      ...options.item,
    });
    x.children.push(item);
    for (const extra of options.extra ?? []) x.children.push(extra);
    for (const code of options.codes ?? []) x.children.push(xml('status', { code }));
    children.push(x);
    children.push(xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: occupant.occupantId }));
    // XEP-0317 §3.1: the hats the user wears, after the muc#user payload (never on leaving).
    const worn = options.type === 'unavailable' ? undefined : this.hatsWorn.get(occupant.bareJid);
    if (worn && worn.length > 0) children.push(xml('hats', { xmlns: NS_HATS }, worn.map((uri) => xml('hat', { uri, title: this.hats.get(uri)?.title ?? uri, hue: this.hats.get(uri)?.hue }))));
    const presence = xml('presence', { from: this.occupantJid(occupant.nick), to, type: options.type });
    presence.children.push(...children);
    return presence;
  }
}
