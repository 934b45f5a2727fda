// Secrets the server derives values from, kept in storage so they survive
// restarts and are shared by every process of a cluster: the fake SCRAM
// parameters of unknown users (auth/scram.ts) must not change when the
// server restarts, or a probe could tell them from real ones, whose salts
// never change.
//
// They live in the per-user data table under the empty username, which no
// account can have (a JID localpart is never empty, RFC 7622 §3.3).

import { randomBytes } from 'node:crypto';
import type { UserDataStore } from '../storage/ports.ts';

const KIND = 'server-secret';

/** The named secret (32 random bytes), created on first use. */
export async function serverSecret(store: UserDataStore, host: string, name: string): Promise<Buffer> {
  const stored = await store.get('', host, KIND, name);
  if (stored !== undefined) return Buffer.from(stored, 'base64');
  await store.set('', host, KIND, name, randomBytes(32).toString('base64'));
  // Read back: if two processes raced, both go on with the one stored last.
  return Buffer.from((await store.get('', host, KIND, name))!, 'base64');
}
