// XEP-0045 vocabulary: affiliations (§5.2, long-lived, by bare JID), roles
// (§5.1, for one visit, by occupant), and a room's configuration (§10.2, the
// muc#roomconfig form as a typed value).

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const NS_MUC_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';
export const NS_MUC_ROOMINFO = 'http://jabber.org/protocol/muc#roominfo';
export const NS_MUC_REQUEST = 'http://jabber.org/protocol/muc#request';
export const NS_MUC_REGISTER = 'http://jabber.org/protocol/muc#register';
export const NS_DATA = 'jabber:x:data';
/** XEP-0421 */
export const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0';
/** XEP-0317 (0.3): hats in occupant presence, and the FORM_TYPE of its ad-hoc commands. */
export const NS_HATS = 'urn:xmpp:hats:0';
export const NS_HATS_COMMANDS = 'urn:xmpp:hats:commands';
/** XEP-0050 */
export const NS_COMMANDS = 'http://jabber.org/protocol/commands';
/** XEP-0410 */
export const NS_SELF_PING = 'http://jabber.org/protocol/muc#self-ping-optimization';
/** XEP-0249 */
export const NS_CONFERENCE = 'jabber:x:conference';

export type Affiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';
export type Role = 'moderator' | 'participant' | 'visitor' | 'none';

export const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'none', 'outcast'];
export const ROLES: readonly Role[] = ['moderator', 'participant', 'visitor', 'none'];

/** §5.2: higher ranks first, for "may X act on Y" comparisons. */
export const AFFILIATION_RANK: Record<Affiliation, number> = { owner: 4, admin: 3, member: 2, none: 1, outcast: 0 };
export const ROLE_RANK: Record<Role, number> = { moderator: 3, participant: 2, visitor: 1, none: 0 };

/** muc#roomconfig_whois: who sees occupants' real JIDs (§5.2.1 semi-anonymous / non-anonymous). */
export type Whois = 'moderators' | 'anyone';
/** muc#roomconfig_allowpm: who may send private messages. */
export type AllowPm = 'anyone' | 'participants' | 'moderators' | 'none';

export interface RoomConfig {
  name: string;
  description: string;
  language: string;
  persistent: boolean;
  /** Listed in disco#items (muc_public) or not (muc_hidden). */
  public: boolean;
  membersOnly: boolean;
  moderated: boolean;
  /** Empty: no password (muc_unsecured). */
  password: string;
  /** 0: only the service's limit. */
  maxUsers: number;
  whois: Whois;
  /** Participants may change the subject (moderators always may). */
  changeSubject: boolean;
  /** Participants may invite (admins and owners always may). */
  allowInvites: boolean;
  allowPm: AllowPm;
  /** Most messages kept for new occupants (bounded by the service's limit). */
  historyLength: number;
  /** Messages are archived (XEP-0313) — status 170 tells occupants. */
  enableLogging: boolean;
  /** Visitors may ask for voice (§7.13). */
  voiceRequests: boolean;
  /** Who may get the member list. */
  getMemberList: Role[];
  /** Visitors and participants may change nick. */
  allowNickChange: boolean;
}

export const DEFAULT_ROOM_CONFIG: RoomConfig = {
  name: '',
  description: '',
  language: '',
  persistent: false,
  public: true,
  membersOnly: false,
  moderated: false,
  password: '',
  maxUsers: 0,
  whois: 'moderators',
  changeSubject: false,
  allowInvites: false,
  allowPm: 'anyone',
  historyLength: 20,
  enableLogging: false,
  voiceRequests: true,
  getMemberList: ['moderator', 'participant'],
  allowNickChange: true,
};

/** One long-lived affiliation (§5.2), with the nick reserved by it (§7.10) and why it was given. */
export interface AffiliationEntry {
  affiliation: Exclude<Affiliation, 'none'>;
  nick?: string;
  reason?: string;
}

/** Status codes of §15.6 the service sends. */
export const STATUS = {
  nonAnonymous: '100',
  self: '110',
  logging: '170',
  created: '201',
  nickModified: '210',
  banned: '301',
  newNick: '303',
  kicked: '307',
  affiliationChange: '321',
  membersOnly: '322',
  shutdown: '332',
  configNonAnonymous: '172',
  configSemiAnonymous: '173',
  configLogging: '170',
  configNoLogging: '171',
  configChanged: '104',
} as const;
