// Stored SCRAM keys against the worked examples of RFC 5802 §5 (SHA-1) and
// RFC 7677 §3 (SHA-256): keys derived from user/pencil must reproduce the
// examples' ClientProof and ServerSignature from their AuthMessage.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { deriveScramCredentials, hmac, keysFromSaltedPassword, saltedPassword, verifyPlainPassword, type ScramHash } from './scram-credentials.ts';

interface Example {
  hash: ScramHash;
  salt: string;
  clientFirstBare: string;
  serverFirst: string;
  clientFinalWithoutProof: string;
  proof: string;
  serverSignature: string;
}

const RFC5802: Example = {
  hash: 'sha1',
  salt: 'QSXCR+Q6sek8bf92',
  clientFirstBare: 'n=user,r=fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinalWithoutProof: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j',
  proof: 'v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverSignature: 'rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};

const RFC7677: Example = {
  hash: 'sha256',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirstBare: 'n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinalWithoutProof: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

function xor(a: Buffer, b: Buffer): Buffer {
  return Buffer.from(a.map((x, i) => x ^ b[i]!));
}

for (const [name, ex] of [['RFC 5802 §5 SCRAM-SHA-1', RFC5802], ['RFC 7677 §3 SCRAM-SHA-256', RFC7677]] as const) {
  describe(`stored keys: ${name}`, () => {
    const authMessage = `${ex.clientFirstBare},${ex.serverFirst},${ex.clientFinalWithoutProof}`;

    it('the stored ServerKey yields the example ServerSignature', async () => {
      const creds = await deriveScramCredentials('pencil', 4096, Buffer.from(ex.salt, 'base64'));
      assert.equal(creds.salt, ex.salt);
      assert.equal(creds.iterations, 4096);
      const signature = createHmac(ex.hash, Buffer.from(creds[ex.hash].serverKey, 'base64')).update(authMessage).digest('base64');
      assert.equal(signature, ex.serverSignature);
    });

    it('the stored StoredKey accepts the example ClientProof', async () => {
      const creds = await deriveScramCredentials('pencil', 4096, Buffer.from(ex.salt, 'base64'));
      const storedKey = Buffer.from(creds[ex.hash].storedKey, 'base64');
      const clientSignature = createHmac(ex.hash, storedKey).update(authMessage).digest();
      const clientKey = xor(Buffer.from(ex.proof, 'base64'), clientSignature);
      assert.deepEqual(createHash(ex.hash).update(clientKey).digest(), storedKey);
    });

    it('the client side computed from Hi() reproduces the example ClientProof', async () => {
      const salted = await saltedPassword(ex.hash, 'pencil', Buffer.from(ex.salt, 'base64'), 4096);
      const clientKey = hmac(ex.hash, salted, 'Client Key');
      const { storedKey } = keysFromSaltedPassword(ex.hash, salted);
      assert.equal(xor(clientKey, hmac(ex.hash, storedKey, authMessage)).toString('base64'), ex.proof);
    });
  });
}

describe('credentials', () => {
  it('a random 16-byte salt per derivation, shared by both hashes, 4096 iterations by default', async () => {
    const a = await deriveScramCredentials('same');
    const b = await deriveScramCredentials('same');
    assert.equal(Buffer.from(a.salt, 'base64').length, 16);
    assert.notEqual(a.salt, b.salt);
    assert.notEqual(a.sha256.storedKey, b.sha256.storedKey);
    assert.equal(a.iterations, 4096);
    assert.equal(Buffer.from(a.sha1.storedKey, 'base64').length, 20);
    assert.equal(Buffer.from(a.sha256.serverKey, 'base64').length, 32);
    assert.equal((await deriveScramCredentials('x', 1000)).iterations, 1000);
  });

  it('refuses an empty password and one SASLprep prohibits', async () => {
    await assert.rejects(deriveScramCredentials('', 4096));
    await assert.rejects(deriveScramCredentials('\u0007bell', 4096));
  });
});

describe('PLAIN against stored keys', () => {
  it('accepts the password, after SASLprep, and nothing else', async () => {
    const creds = await deriveScramCredentials('I\u00ADX', 4096); // RFC 4013 §3: soft hyphen maps to nothing
    assert.equal(await verifyPlainPassword(creds, 'IX'), true);
    assert.equal(await verifyPlainPassword(creds, 'I\u00ADX'), true);
    assert.equal(await verifyPlainPassword(creds, 'ix'), false);
    assert.equal(await verifyPlainPassword(creds, ''), false);
    assert.equal(await verifyPlainPassword(creds, '\u0007'), false);
  });

  it('the RFC 7677 account verifies with pencil', async () => {
    const creds = await deriveScramCredentials('pencil', 4096, Buffer.from(RFC7677.salt, 'base64'));
    assert.equal(await verifyPlainPassword(creds, 'pencil'), true);
    assert.equal(await verifyPlainPassword(creds, 'pencil '), false);
  });

  it('an unknown user is false after the same PBKDF2 work', async () => {
    assert.equal(await verifyPlainPassword(undefined, 'anything'), false);
  });
});
