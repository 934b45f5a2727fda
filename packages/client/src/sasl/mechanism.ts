// A client-side SASL mechanism (RFC 4422): an initial response, then one
// answer per challenge, then a check of the server's final data.

export interface ClientMechanism {
  readonly name: string;
  initial(): Promise<Uint8Array | undefined>;
  challenge(data: Uint8Array): Promise<Uint8Array>;
  /** Verifies the additional data of <success/> (SCRAM's server signature). */
  success(data: Uint8Array | undefined): Promise<void>;
}

export interface Credentials {
  username: string;
  password: string;
  /** Authorization identity; normally left out. */
  authzid?: string;
}

export type MechanismName = 'SCRAM-SHA-256-PLUS' | 'SCRAM-SHA-256' | 'SCRAM-SHA-1-PLUS' | 'SCRAM-SHA-1' | 'PLAIN';

/** Strongest first. */
export const MECHANISM_PREFERENCE: readonly MechanismName[] = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1', 'PLAIN'];
