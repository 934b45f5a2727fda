// What the server needs from storage, as ports (hexagonal style): the c2s
// needs credentials, the sm needs accounts and per-user data. Each backend
// (sqlite/, postgres/) implements every port and passes the same contract
// suite (storage/contract.ts).

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
}

/**
 * A whole backend. Later issues add ports here (rosters, offline messages,
 * private storage…); each must be removed with the account.
 */
export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  readonly accounts: AccountStore;
  close(): Promise<void>;
}
