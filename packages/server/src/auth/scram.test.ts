// The SCRAM server against the worked examples of RFC 5802 §5 (SHA-1) and
// RFC 7677 §3 (SHA-256), plus the ways an exchange must fail.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { ScramServerExchange } from './scram.ts';
import { deriveScramCredentials, verifyPlainPassword } from './scram-credentials.ts';
import type { ScramCredentials } from '../storage/ports.ts';

const b = (s: string): Buffer => Buffer.from(s);

async function credentialsFor(password: string, salt: string, hash: 'sha1' | 'sha256'): Promise<ScramCredentials> {
  const c = await deriveScramCredentials(password, 4096, Buffer.from(salt, 'base64'));
  return hash === 'sha1' ? { ...c, sha256: { storedKey: '', serverKey: '' } } : { ...c, sha1: { storedKey: '', serverKey: '' } };
}

describe('SCRAM server exchange', () => {
  it('RFC 5802 §5: SCRAM-SHA-1 user/pencil', async () => {
    const creds = await credentialsFor('pencil', 'QSXCR+Q6sek8bf92', 'sha1');
    const ex = new ScramServerExchange('sha1', async (u) => (u === 'user' ? creds : undefined), undefined, false, () => '3rfcNHYJY1ZVvWVs7j');
    const first = await ex.start(b('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
    assert.ok(first.ok);
    assert.equal(first.serverFirst.toString(), 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    const final = await ex.finish(b('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='));
    assert.ok(final.ok);
    assert.equal(final.serverFinal.toString(), 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=');
    assert.equal(final.username, 'user');
  });

  it('RFC 7677 §3: SCRAM-SHA-256 user/pencil', async () => {
    const creds = await credentialsFor('pencil', 'W22ZaJ0SNY7soEsUEjb6gQ==', 'sha256');
    const ex = new ScramServerExchange('sha256', async () => creds, undefined, false, () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    const first = await ex.start(b('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    assert.ok(first.ok);
    assert.equal(first.serverFirst.toString(), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    const final = await ex.finish(b('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
    assert.ok(final.ok);
    assert.equal(final.serverFinal.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('rejects a wrong proof, a changed nonce and an unknown user alike with not-authorized', async () => {
    const creds = await credentialsFor('pencil', 'W22ZaJ0SNY7soEsUEjb6gQ==', 'sha256');
    const make = (): ScramServerExchange => new ScramServerExchange('sha256', async (u) => (u === 'user' ? creds : undefined), undefined, false, () => 'SERVER');
    const wrongProof = make();
    await wrongProof.start(b('n,,n=user,r=abc'));
    assert.deepEqual(await wrongProof.finish(b(`c=biws,r=abcSERVER,p=${Buffer.alloc(32).toString('base64')}`)), { ok: false, condition: 'not-authorized' });
    const wrongNonce = make();
    await wrongNonce.start(b('n,,n=user,r=abc'));
    assert.deepEqual(await wrongNonce.finish(b(`c=biws,r=abcOTHER,p=${Buffer.alloc(32).toString('base64')}`)), { ok: false, condition: 'not-authorized' });
    const unknown = make();
    const first = await unknown.start(b('n,,n=nobody,r=abc'));
    assert.ok(first.ok, 'an unknown user still gets a challenge, so it cannot be told apart');
    assert.match(first.serverFirst.toString(), /^r=abcSERVER,s=[A-Za-z0-9+/=]+,i=4096$/);
    assert.deepEqual(await unknown.finish(b(`c=biws,r=abcSERVER,p=${Buffer.alloc(32).toString('base64')}`)), { ok: false, condition: 'not-authorized' });
  });

  it('refuses malformed messages', async () => {
    const ex = (): ScramServerExchange => new ScramServerExchange('sha256', async () => undefined);
    for (const bad of ['garbage', 'n,,r=abc', 'n,,n=user', 'x,,n=user,r=a', 'n,,n=us=er,r=abc', 'n,,m=ext,n=user,r=abc']) {
      assert.deepEqual(await ex().start(b(bad)), { ok: false, condition: 'malformed-request' }, bad);
    }
  });

  it('channel binding: -PLUS needs p=tls-exporter with matching data; y fails when -PLUS was offered', async () => {
    const creds = await deriveScramCredentials('pw', 4096);
    const data = Buffer.from('0123456789abcdef0123456789abcdef');
    const plus = new ScramServerExchange('sha256', async () => creds, { type: 'tls-exporter', data }, true, () => 'S');
    assert.deepEqual(await plus.start(b('n,,n=u,r=c')), { ok: false, condition: 'not-authorized' }, 'PLUS without binding');
    const downgraded = new ScramServerExchange('sha256', async () => creds, undefined, true, () => 'S');
    assert.deepEqual(await downgraded.start(b('y,,n=u,r=c')), { ok: false, condition: 'not-authorized' }, "'y' while PLUS was offered");
    const fine = new ScramServerExchange('sha256', async () => creds, undefined, false, () => 'S');
    assert.ok((await fine.start(b('y,,n=u,r=c'))).ok, "'y' when PLUS was not offered is fine");

    // A full -PLUS exchange computed as a client would.
    const ok = new ScramServerExchange('sha256', async () => creds, { type: 'tls-exporter', data }, true, () => 'S');
    const gs2 = 'p=tls-exporter,,';
    const first = await ok.start(b(`${gs2}n=u,r=c`));
    assert.ok(first.ok);
    const salted = (await import('node:crypto')).pbkdf2Sync('pw', Buffer.from(creds.salt, 'base64'), 4096, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const cbind = Buffer.concat([b(gs2), data]).toString('base64');
    const withoutProof = `c=${cbind},r=cS`;
    const sig = createHmac('sha256', storedKey).update(`n=u,r=c,${first.serverFirst},${withoutProof}`).digest();
    const proof = Buffer.from(clientKey.map((x, i) => x ^ sig[i]!));
    const final = await ok.finish(b(`${withoutProof},p=${proof.toString('base64')}`));
    assert.ok(final.ok, 'the -PLUS exchange succeeds');
    // The same proof with other binding data fails.
    const other = new ScramServerExchange('sha256', async () => creds, { type: 'tls-exporter', data: Buffer.alloc(32) }, true, () => 'S');
    await other.start(b(`${gs2}n=u,r=c`));
    assert.deepEqual(await other.finish(b(`${withoutProof},p=${proof.toString('base64')}`)), { ok: false, condition: 'not-authorized' });
  });

  it('PLAIN verification against stored keys, with SASLprep', async () => {
    const creds = await deriveScramCredentials('I\u00ADX', 4096); // soft hyphen is mapped to nothing (RFC 4013 §3 example)
    assert.equal(await verifyPlainPassword(creds, 'IX'), true);
    assert.equal(await verifyPlainPassword(creds, 'ix'), false);
    await assert.rejects(deriveScramCredentials('', 4096));
  });
});
