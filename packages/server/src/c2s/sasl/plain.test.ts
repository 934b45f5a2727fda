// RFC 4616 PLAIN against stored SCRAM keys: the outcomes, and that an
// unknown user is not told apart from a wrong password.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deriveScramCredentials } from '../../auth/scram-credentials.ts';
import type { ScramCredentials } from '../../storage/ports.ts';
import { PlainMechanism } from './plain.ts';

const context = { domain: 'localhost', channelBinding: undefined };
const message = (authzid: string, authcid: string, password: string): Buffer => Buffer.from(`${authzid}\u0000${authcid}\u0000${password}`);

describe('SASL PLAIN', async () => {
  const alice = await deriveScramCredentials('correct horse', 4096);
  const lookups: string[] = [];
  const lookup = async (username: string): Promise<ScramCredentials | undefined> => {
    lookups.push(username);
    return username === 'alice' ? alice : undefined;
  };
  const step = (response: Buffer | undefined) => new PlainMechanism(context, lookup).step(response);

  it('succeeds with the password, case-folding the username (RFC 7622 localpart)', async () => {
    assert.deepEqual(await step(message('', 'Alice', 'correct horse')), { kind: 'success', username: 'alice' });
    assert.deepEqual(await step(message('alice@localhost', 'alice', 'correct horse')), { kind: 'success', username: 'alice' });
  });

  it('answers a wrong password and an unknown user alike, after the same key derivation', async () => {
    const time = async (authcid: string, password: string): Promise<number> => {
      const start = performance.now();
      assert.deepEqual(await step(message('', authcid, password)), { kind: 'failure', condition: 'not-authorized', passwordChecked: true });
      return performance.now() - start;
    };
    // Medians of a few tries: PBKDF2 with 4096 iterations takes milliseconds, a lookup alone microseconds.
    const median = async (authcid: string): Promise<number> => {
      const t: number[] = [];
      for (let i = 0; i < 5; i++) t.push(await time(authcid, 'wrong'));
      return t.sort((a, b) => a - b)[2]!;
    };
    const wrongPassword = await median('alice');
    const unknownUser = await median('nobody');
    assert.ok(unknownUser > wrongPassword / 4, `unknown user ${unknownUser.toFixed(2)} ms vs wrong password ${wrongPassword.toFixed(2)} ms`);
  });

  it('refuses a malformed message, an empty password and a foreign authzid', async () => {
    assert.deepEqual(await step(Buffer.from('alice\u0000pw')), { kind: 'failure', condition: 'malformed-request' });
    assert.deepEqual(await step(message('', 'alice', '')), { kind: 'failure', condition: 'not-authorized', passwordChecked: true });
    assert.deepEqual(await step(message('bob@localhost', 'alice', 'correct horse')), { kind: 'failure', condition: 'invalid-authzid' });
  });

  it('asks for the initial response when there is none', async () => {
    assert.deepEqual(await step(undefined), { kind: 'challenge', data: Buffer.alloc(0) });
  });
});
