// What the server needs from storage, as ports (hexagonal style): the c2s
// needs credentials, the sm needs accounts and per-user data. Each backend
// (sqlite/, postgres/) implements every port and passes the same contract
// suite (storage/contract.ts).

import type { MessageArchive } from './archive.ts';

/**
 * Bulk copy of one port's records, for `switchboard migrate` (storage/migrate.ts): every
 * record in a stable order of the store's keys, a page at a time, and written back in
 * batches. Records carry everything the port keeps (stored SCRAM keys, timestamps,
 * versions), so a copy is the same data, not a replay through the write path.
 */
export interface BulkCopy<T> {
  /** Up to `limit` records after the opaque cursor `after` (undefined: from the start); `next` is absent on the last page. */
  exportPage(after: string | undefined, limit: number): Promise<{ records: T[]; next?: string }>;
  /**
   * Writes the records in one transaction, all or none. A record whose key the store
   * already holds is left as it is and not counted, so a batch sent again (a resumed
   * copy) changes nothing. Returns how many were written.
   */
  importRecords(records: readonly T[]): Promise<number>;
  /** What this port holds, by name (e.g. rosters and roster items), for a copy's check. */
  tally(): Promise<Record<string, number>>;
}

/** RFC 5802 §3 / RFC 7677: what a SCRAM server keeps instead of the password, per hash. */
export interface ScramKeys {
  /** Base64 of StoredKey = H(ClientKey). */
  storedKey: string;
  /** Base64 of ServerKey = HMAC(SaltedPassword, "Server Key"). */
  serverKey: string;
}

export interface ScramCredentials {
  /** Base64 salt shared by both hashes. */
  salt: string;
  iterations: number;
  sha1: ScramKeys;
  sha256: ScramKeys;
}

export interface Account {
  /** Prepared localpart. */
  username: string;
  /** Prepared domainpart. */
  host: string;
  credentials: ScramCredentials;
  createdAt: Date;
}

/** Expected failures are results, not exceptions. */
export type CreateAccountResult = { ok: true } | { ok: false; reason: 'exists' };

export interface AccountStore {
  createAccount(username: string, host: string, credentials: ScramCredentials): Promise<CreateAccountResult>;
  getAccount(username: string, host: string): Promise<Account | undefined>;
  accountExists(username: string, host: string): Promise<boolean>;
  setCredentials(username: string, host: string, credentials: ScramCredentials): Promise<boolean>;
  /** Removes the account and everything stored for it, atomically. Returns false if there was none. */
  removeAccount(username: string, host: string): Promise<boolean>;
  listAccounts(host: string): Promise<string[]>;
  /** Every account with its stored credentials and creation time, by (host, username). */
  readonly bulk: BulkCopy<Account>;
}

/** RFC 6121 §2.1.2.5 subscription states. */
export type Subscription = 'none' | 'to' | 'from' | 'both';

/**
 * One contact of a user, with the whole subscription state of RFC 6121
 * Appendix A: the subscription, pending out (`ask`), pending in, and
 * pre-approval. An item that only records a pending inbound request is not
 * `visible`: the user has not added the contact yet (§3.1.3).
 */
export interface RosterItem {
  /** Bare JID of the contact. */
  jid: string;
  name?: string;
  groups: string[];
  subscription: Subscription;
  ask: boolean;
  pendingIn: boolean;
  approved: boolean;
  visible: boolean;
}

export interface Roster {
  /** XEP-0237: increases with every change. */
  version: number;
  items: RosterItem[];
}

export interface RosterStore {
  getRoster(username: string, host: string): Promise<Roster>;
  /** Writes the item and bumps the roster version; returns the new version. */
  putItem(username: string, host: string, item: RosterItem): Promise<number>;
  /** Deletes the item and bumps the version; returns the new version. */
  removeItem(username: string, host: string, jid: string): Promise<number>;
  /** Every user's whole roster with its version, by (host, username); a user whose roster is stored already is skipped. */
  readonly bulk: BulkCopy<UserRoster>;
}

export interface UserRoster extends Roster {
  username: string;
  host: string;
}

export interface OfflineMessage {
  stanza: string;
  storedAt: Date;
}

/** XEP-0160: messages kept for a user with no available resource, in arrival order. */
export interface OfflineStore {
  /**
   * Stores the message unless the user already has `quota` messages stored,
   * or they and this one would come to more than `maxBytes` bytes (UTF-8);
   * false when over quota.
   */
  store(username: string, host: string, stanza: string, quota: number, maxBytes?: number): Promise<boolean>;
  /** Returns every stored message, oldest first, and deletes them (one transaction). */
  take(username: string, host: string): Promise<OfflineMessage[]>;
  count(username: string, host: string): Promise<number>;
  /**
   * Messages stored for all users together, for the operator's gauge (ops/store-sizes.ts): counted
   * up to `cap` and no further, so the work of one call is bounded however large the queues grow.
   */
  total(cap: number): Promise<number>;
  /** Every user's queue, oldest first, by (host, username); a user with messages stored already is skipped. */
  readonly bulk: BulkCopy<UserOffline>;
}

export interface UserOffline {
  username: string;
  host: string;
  messages: OfflineMessage[];
}

/**
 * Small per-user XML documents keyed by kind and key: vcard-temp (XEP-0054),
 * private XML (XEP-0049, key = namespace), the block list (XEP-0191, key =
 * JID), last activity (XEP-0012). Values are serialised XML or text.
 */
export interface UserDataStore {
  get(username: string, host: string, kind: string, key: string): Promise<string | undefined>;
  set(username: string, host: string, kind: string, key: string, value: string): Promise<void>;
  delete(username: string, host: string, kind: string, key: string): Promise<boolean>;
  /** Every key and value of one kind, in key order. */
  list(username: string, host: string, kind: string): Promise<{ key: string; value: string }[]>;
  /** Every value, by (host, username, kind, key). */
  readonly bulk: BulkCopy<UserDataRecord>;
}

export interface UserDataRecord {
  username: string;
  host: string;
  kind: string;
  key: string;
  value: string;
}

/**
 * A group chat service's rooms (XEP-0045): each persistent room's state as an
 * opaque document owned by the MUC, with the two fields disco#items lists.
 * Rooms are read one at a time, so a restart loads none of them until they
 * are used. A room's messages go to the message archive (archive.ts), keyed
 * by the room's localpart and the service's domain.
 */
export interface MucStore {
  getRoom(service: string, room: string): Promise<string | undefined>;
  putRoom(service: string, room: string, state: string, listing: { public: boolean; name: string }): Promise<void>;
  /** Removes the room. */
  deleteRoom(service: string, room: string): Promise<boolean>;
  /** Rooms listed in disco#items, in room order, at most `limit`. */
  publicRooms(service: string, limit: number): Promise<{ room: string; name: string }[]>;
  /** Every room's state and listing, by (service, room). */
  readonly bulk: BulkCopy<MucRoomRecord>;
}

export interface MucRoomRecord {
  service: string;
  room: string;
  state: string;
  public: boolean;
  name: string;
}

/**
 * XEP-0484 FAST tokens, per user and user agent (XEP-0388 §4.2 id), in the
 * two slots of XEP-0484 §6: 'new' (issued, not used yet) and 'current' (the
 * last one used). `key` is whatever auth/fast-tokens.ts keeps (a sealed
 * key, never the token itself); the store only keeps and compares the rest.
 */
export interface FastTokenRecord {
  slot: 'new' | 'current';
  mechanism: string;
  key: string;
  expiresAt: Date;
  /** The highest XEP-0484 count used with this token, or null while none was sent. */
  count: number | null;
}

export interface FastTokenStore {
  /** Puts a just-issued token in the agent's 'new' slot, replacing one never used (§4.5); drops the user's expired tokens. */
  put(username: string, host: string, agent: string, token: { mechanism: string; key: string; expiresAt: Date }): Promise<void>;
  /** The agent's tokens, 'new' first. */
  get(username: string, host: string, agent: string): Promise<FastTokenRecord[]>;
  /**
   * A token was used, with its count when the client sent one. Atomically: false, changing nothing,
   * when the token is gone or the count is not above the highest recorded (or missing once one was
   * recorded): a replay. Else records the count and, for a 'new' token, makes it 'current' (the old
   * 'current' is dropped: §4.5, tokens with an earlier expiry are invalid once a later one is used).
   */
  use(username: string, host: string, agent: string, slot: 'new' | 'current', count: number | undefined): Promise<boolean>;
  /** Drops one agent's tokens, or every token of the user when `agent` is undefined; returns how many. */
  revoke(username: string, host: string, agent?: string): Promise<number>;
  /** Every token row, by (host, username, agent, slot). */
  readonly bulk: BulkCopy<FastTokenRow>;
}

export interface FastTokenRow extends FastTokenRecord {
  username: string;
  host: string;
  agent: string;
}

/**
 * A whole backend. Every port's data for a user is removed with the account
 * (AccountStore.removeAccount), in one transaction.
 */
export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  readonly accounts: AccountStore;
  readonly rosters: RosterStore;
  readonly offline: OfflineStore;
  readonly userData: UserDataStore;
  /** XEP-0313 message archive (storage/archive.ts). */
  readonly archive: MessageArchive;
  readonly muc: MucStore;
  /** XEP-0484; a user's tokens go with the account and with every change of password (setCredentials). */
  readonly fastTokens: FastTokenStore;
  close(): Promise<void>;
}
