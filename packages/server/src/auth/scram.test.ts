// The SCRAM server against the worked examples of RFC 5802 §5 (SHA-1) and
// RFC 7677 §3 (SHA-256), plus the ways an exchange must fail. Proofs for the
// other cases are computed here as a client would, with node:crypto alone.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { advertisedString, parseClientFinal, parseClientFirst, ScramServerExchange, type ChannelBinding, type ScramExchangeOptions } from './scram.ts';
import { deriveScramCredentials } from './scram-credentials.ts';
import type { ScramCredentials } from '../storage/ports.ts';
import { describeTlsVersion, tlsVersionHex } from '@switchboard/protocol';

const b = (s: string): Buffer => Buffer.from(s);
const ZERO_PROOF = Buffer.alloc(32).toString('base64');

/** What a client sends last, for a password, given the messages so far. */
function clientFinal(hash: 'sha1' | 'sha256', password: string, clientFirstBare: string, serverFirst: string, cbind: Buffer, nonce: string): string {
  const params = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(params.s!, 'base64'), Number(params.i), hash === 'sha1' ? 20 : 32, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const withoutProof = `c=${cbind.toString('base64')},r=${nonce}`;
  const signature = createHmac(hash, storedKey).update(`${clientFirstBare},${serverFirst},${withoutProof}`).digest();
  return `${withoutProof},p=${Buffer.from(clientKey.map((x, i) => x ^ signature[i]!)).toString('base64')}`;
}

function exchange(lookup: (u: string) => Promise<ScramCredentials | undefined>, binding?: ChannelBinding, plusOffered = false, options: ScramExchangeOptions = {}): ScramServerExchange {
  return new ScramServerExchange('sha256', lookup, binding, plusOffered, { serverNonce: () => 'SERVER', ...options });
}

describe('SCRAM server exchange: RFC examples', () => {
  it('RFC 5802 §5: SCRAM-SHA-1 user/pencil', async () => {
    const creds = await deriveScramCredentials('pencil', 4096, Buffer.from('QSXCR+Q6sek8bf92', 'base64'));
    const ex = new ScramServerExchange('sha1', async (u) => (u === 'user' ? creds : undefined), undefined, false, { serverNonce: () => '3rfcNHYJY1ZVvWVs7j' });
    const first = await ex.start(b('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
    assert.ok(first.ok);
    assert.equal(first.serverFirst.toString(), 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    const final = await ex.finish(b('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='));
    assert.ok(final.ok);
    assert.equal(final.serverFinal.toString(), 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=');
    assert.equal(final.username, 'user');
  });

  it('RFC 7677 §3: SCRAM-SHA-256 user/pencil', async () => {
    const creds = await deriveScramCredentials('pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const ex = new ScramServerExchange('sha256', async () => creds, undefined, false, { serverNonce: () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0' });
    const first = await ex.start(b('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    assert.ok(first.ok);
    assert.equal(first.serverFirst.toString(), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    const final = await ex.finish(b('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
    assert.ok(final.ok);
    assert.equal(final.serverFinal.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('a random server nonce of 24 bytes follows the client nonce', async () => {
    const creds = await deriveScramCredentials('pw', 4096);
    const first = await new ScramServerExchange('sha256', async () => creds).start(b('n,,n=u,r=abc'));
    assert.ok(first.ok);
    const nonce = /^r=abc([^,]+),/.exec(first.serverFirst.toString())![1]!;
    assert.equal(Buffer.from(nonce, 'base64').length, 24);
  });
});

describe('SCRAM server exchange: failures', () => {
  it('a wrong proof and a changed nonce are not-authorized', async () => {
    const creds = await deriveScramCredentials('pencil', 4096);
    const wrongProof = exchange(async () => creds);
    await wrongProof.start(b('n,,n=user,r=abc'));
    assert.deepEqual(await wrongProof.finish(b(`c=biws,r=abcSERVER,p=${ZERO_PROOF}`)), { ok: false, condition: 'not-authorized' });
    const wrongPassword = exchange(async () => creds);
    const first = await wrongPassword.start(b('n,,n=user,r=abc'));
    assert.ok(first.ok);
    assert.deepEqual(await wrongPassword.finish(b(clientFinal('sha256', 'pen', 'n=user,r=abc', first.serverFirst.toString(), b('n,,'), 'abcSERVER'))), { ok: false, condition: 'not-authorized' });
    const wrongNonce = exchange(async () => creds);
    const again = await wrongNonce.start(b('n,,n=user,r=abc'));
    assert.ok(again.ok);
    assert.deepEqual(await wrongNonce.finish(b(clientFinal('sha256', 'pencil', 'n=user,r=abc', again.serverFirst.toString(), b('n,,'), 'abcOTHER'))), { ok: false, condition: 'not-authorized' });
  });

  it('an unknown user gets a stable, plausible challenge and fails only at the end', async () => {
    const secret = Buffer.alloc(32, 7);
    const lookup = async (): Promise<undefined> => undefined;
    const one = await exchange(lookup, undefined, false, { fakeSecret: secret, fakeIterations: 8192 }).start(b('n,,n=nobody,r=abc'));
    const two = await exchange(lookup, undefined, false, { fakeSecret: secret, fakeIterations: 8192 }).start(b('n,,n=nobody,r=abc'));
    const other = await exchange(lookup, undefined, false, { fakeSecret: secret, fakeIterations: 8192 }).start(b('n,,n=somebody,r=abc'));
    assert.ok(one.ok && two.ok && other.ok, 'an unknown user still gets a challenge');
    assert.match(one.serverFirst.toString(), /^r=abcSERVER,s=[A-Za-z0-9+/]{22}==,i=8192$/);
    assert.equal(one.serverFirst.toString(), two.serverFirst.toString(), 'the same salt each time, as a real account has');
    assert.notEqual(one.serverFirst.toString(), other.serverFirst.toString());
    const ex = exchange(lookup, undefined, false, { fakeSecret: secret });
    const first = await ex.start(b('n,,n=nobody,r=abc'));
    assert.ok(first.ok);
    assert.deepEqual(await ex.finish(b(clientFinal('sha256', 'guess', 'n=nobody,r=abc', first.serverFirst.toString(), b('n,,'), 'abcSERVER'))), { ok: false, condition: 'not-authorized' });
  });

  it('a store that fails is temporary-auth-failure', async () => {
    const ex = exchange(async () => {
      throw new Error('connection refused');
    });
    assert.deepEqual(await ex.start(b('n,,n=user,r=abc')), { ok: false, condition: 'temporary-auth-failure' });
  });

  it('refuses malformed messages', async () => {
    const bad = [
      'garbage',
      'n,,r=abc',
      'n,,n=user',
      'x,,n=user,r=a',
      'n,,n=us=er,r=abc',
      'n,,n=,r=abc',
      'n,,r=abc,n=user',
      'n,,m=ext,n=user,r=abc',
      'n,,n=user,r=a,b',
      'n,,n=user,r=a\u0000b',
      'n,a=x=y,n=user,r=abc',
      'n,,n=user,r=ab,c', // "," cannot be in a nonce
    ];
    for (const msg of bad) assert.deepEqual(await exchange(async () => undefined).start(b(msg)), { ok: false, condition: 'malformed-request' }, msg);
    const invalidUtf8 = Buffer.concat([b('n,,n=us'), Buffer.from([0xff]), b('er,r=abc')]);
    assert.deepEqual(await exchange(async () => undefined).start(invalidUtf8), { ok: false, condition: 'malformed-request' });

    const creds = await deriveScramCredentials('pw', 4096);
    for (const final of ['c=biws,r=abcSERVER', `r=abcSERVER,c=biws,p=${ZERO_PROOF}`, `c=biws,r=abcSERVER,p=not base64!`, `c=,r=abcSERVER,p=${ZERO_PROOF}`]) {
      const ex = exchange(async () => creds);
      await ex.start(b('n,,n=u,r=abc'));
      assert.deepEqual(await ex.finish(b(final)), { ok: false, condition: 'malformed-request' }, final);
    }
  });

  it('out-of-order calls and a second attempt on one exchange fail', async () => {
    const creds = await deriveScramCredentials('pw', 4096);
    assert.deepEqual(await exchange(async () => creds).finish(b(`c=biws,r=x,p=${ZERO_PROOF}`)), { ok: false, condition: 'malformed-request' });
    const ex = exchange(async () => creds);
    assert.ok((await ex.start(b('n,,n=u,r=abc'))).ok);
    assert.deepEqual(await ex.start(b('n,,n=u,r=abc')), { ok: false, condition: 'malformed-request' });
    const failed = exchange(async () => creds);
    await failed.start(b('n,,n=u,r=abc'));
    await failed.finish(b(`c=biws,r=abcSERVER,p=${ZERO_PROOF}`));
    assert.deepEqual(await failed.finish(b(`c=biws,r=abcSERVER,p=${ZERO_PROOF}`)), { ok: false, condition: 'malformed-request' });
  });
});

describe('SCRAM server exchange: names and authzid', () => {
  it('unescapes =2C and =3D in the username and authzid, and returns them unprepared', async () => {
    const creds = await deriveScramCredentials('pw', 4096);
    const seen: string[] = [];
    const ex = exchange(async (u) => (seen.push(u), creds));
    const bare = 'n=a=2Cb=3Dc\u00C9,r=abc';
    const gs2 = 'n,a=a=2Cb=3Dc\u00C9@example.com,';
    const first = await ex.start(b(gs2 + bare));
    assert.ok(first.ok);
    assert.deepEqual(seen, ['a,b=c\u00C9']);
    const final = await ex.finish(b(clientFinal('sha256', 'pw', bare, first.serverFirst.toString(), b(gs2), 'abcSERVER')));
    assert.ok(final.ok);
    assert.equal(final.username, 'a,b=c\u00C9');
    assert.equal(final.authzid, 'a,b=c\u00C9@example.com');
  });

  it('parses extensions in both client messages without letting them through to the names', () => {
    assert.deepEqual(parseClientFirst(b('y,,n=u,r=abc,x=ext'))?.cbind, { kind: 'y' });
    assert.equal(parseClientFirst(b('p=tls-exporter,,n=u,r=abc'))?.gs2Header, 'p=tls-exporter,,');
    const final = parseClientFinal(b(`c=biws,r=abc,x=ext,p=${ZERO_PROOF}`));
    assert.equal(final?.withoutProof, 'c=biws,r=abc,x=ext');
    assert.deepEqual(final?.channelBinding, b('n,,'));
  });
});

describe('SCRAM server exchange: channel binding (RFC 5802 §6, RFC 9266)', () => {
  const data = Buffer.from('0123456789abcdef0123456789abcdef');
  const binding: ChannelBinding = { type: 'tls-exporter', data };

  it('-PLUS: p=tls-exporter with the matching data succeeds', async () => {
    const creds = await deriveScramCredentials('pw', 4096);
    const ex = exchange(async () => creds, binding, true);
    const gs2 = 'p=tls-exporter,,';
    const first = await ex.start(b(`${gs2}n=u,r=c`));
    assert.ok(first.ok);
    const final = await ex.finish(b(clientFinal('sha256', 'pw', 'n=u,r=c', first.serverFirst.toString(), Buffer.concat([b(gs2), data]), 'cSERVER')));
    assert.ok(final.ok);
    assert.equal(final.username, 'u');
  });

  it('-PLUS: other binding data, or none in c=, is not-authorized', async () => {
    const creds = await deriveScramCredentials('pw', 4096);
    const gs2 = 'p=tls-exporter,,';
    for (const cbind of [Buffer.concat([b(gs2), Buffer.alloc(32)]), b(gs2)]) {
      const ex = exchange(async () => creds, binding, true);
      const first = await ex.start(b(`${gs2}n=u,r=c`));
      assert.ok(first.ok);
      assert.deepEqual(await ex.finish(b(clientFinal('sha256', 'pw', 'n=u,r=c', first.serverFirst.toString(), cbind, 'cSERVER'))), { ok: false, condition: 'not-authorized' });
    }
  });

  it('-PLUS: n, y or another binding type is not-authorized', async () => {
    for (const gs2 of ['n,,', 'y,,', 'p=tls-unique,,']) {
      assert.deepEqual(await exchange(async () => undefined, binding, true).start(b(`${gs2}n=u,r=c`)), { ok: false, condition: 'not-authorized' }, gs2);
    }
  });

  it("plain mechanism: 'y' fails when -PLUS was offered (a downgrade) and passes when it was not; 'p' is malformed", async () => {
    const creds = await deriveScramCredentials('pw', 4096);
    assert.deepEqual(await exchange(async () => creds, undefined, true).start(b('y,,n=u,r=c')), { ok: false, condition: 'not-authorized' });
    const fine = exchange(async () => creds, undefined, false);
    const first = await fine.start(b('y,,n=u,r=c'));
    assert.ok(first.ok, "'y' when PLUS was not offered is fine");
    assert.ok((await fine.finish(b(clientFinal('sha256', 'pw', 'n=u,r=c', first.serverFirst.toString(), b('y,,'), 'cSERVER')))).ok);
    assert.deepEqual(await exchange(async () => creds).start(b('p=tls-exporter,,n=u,r=c')), { ok: false, condition: 'malformed-request' });
  });

  it("c= must repeat the first message's gs2 header", async () => {
    const creds = await deriveScramCredentials('pw', 4096);
    const ex = exchange(async () => creds);
    const first = await ex.start(b('n,,n=u,r=c'));
    assert.ok(first.ok);
    assert.deepEqual(await ex.finish(b(clientFinal('sha256', 'pw', 'n=u,r=c', first.serverFirst.toString(), b('y,,'), 'cSERVER'))), { ok: false, condition: 'not-authorized' });
  });
});

describe('XEP-0474 downgrade protection (SSDP)', () => {
  it("hashes the advertised lists as §5.1 and the XEP's example do", () => {
    const s = advertisedString(['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1'], ['tls-server-end-point', 'tls-exporter']);
    assert.equal(createHash('sha1').update(s).digest('base64'), 'G6k/rBLDqgOhRRaCuuatSDFkJ08=');
    assert.equal(advertisedString(['SCRAM-SHA-256', 'PLAIN'], undefined), 'PLAIN\x1eSCRAM-SHA-256', 'no XEP-0440 list: no U+001F part');
  });

  it('puts h= with the hash of the SCRAM mechanism in server-first', async () => {
    const creds = await deriveScramCredentials('pw', 4096);
    const advertised = advertisedString(['SCRAM-SHA-256', 'SCRAM-SHA-1'], undefined);
    const ex = new ScramServerExchange('sha256', async () => creds, undefined, false, { advertised });
    const first = await ex.start(Buffer.from('n,,n=u,r=c'));
    assert.ok(first.ok);
    assert.match(first.serverFirst.toString(), new RegExp(`,h=${createHash('sha256').update(advertised).digest('base64').replace(/[+/]/g, '\\$&')}$`));
  });
});

describe('XEP-0515 TLS channel-binding downgrade protection (TDP)', () => {
  // §4.3's full example: SCRAM-SHA-1-PLUS over tls-exporter (fake binding data), user/pencil, both h= and t=.
  const EXAMPLE = {
    clientFirst: 'p=tls-exporter,,n=user,r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6',
    serverFirst: 'r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-93799c2bddf6,s=QSXCR+Q6sek8bf92,i=4096,h=G6k/rBLDqgOhRRaCuuatSDFkJ08=,t=0304',
    clientFinal: 'c=cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBEQVRB,r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-93799c2bddf6,p=KHUfN8dSy1K95crT4D5y1ItLJfs=',
    serverFinal: 'v=3w34ZIMVRkx2f2Ozb3/ecRPVdv4=',
  };
  const exampleExchange = async (tlsVersion: string): Promise<ScramServerExchange> =>
    new ScramServerExchange('sha1', async () => deriveScramCredentials('pencil', 4096, Buffer.from('QSXCR+Q6sek8bf92', 'base64')), { type: 'tls-exporter', data: b('THIS IS FAKE CB DATA') }, true, {
      serverNonce: () => 'a09117a6-ac50-4f2f-93f1-93799c2bddf6',
      advertised: advertisedString(['SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS'], ['tls-server-end-point', 'tls-exporter']),
      tlsVersion,
    });

  it("answers the XEP's full example byte for byte: t= after h= in server-first, and the proof over it verifies", async () => {
    const ex = await exampleExchange('0304');
    const first = await ex.start(b(EXAMPLE.clientFirst));
    assert.ok(first.ok);
    assert.equal(first.serverFirst.toString(), EXAMPLE.serverFirst);
    const final = await ex.finish(b(EXAMPLE.clientFinal));
    assert.ok(final.ok);
    assert.equal(final.serverFinal.toString(), EXAMPLE.serverFinal);
  });

  it('a proof made over a server-first whose t= was changed on the way (0304 → 0303) is refused: the attribute is under the proof', async () => {
    const creds = await deriveScramCredentials('pencil', 4096);
    const plain = (): ScramServerExchange => new ScramServerExchange('sha1', async () => creds, undefined, false, { serverNonce: () => 'SERVER', tlsVersion: '0304' });
    const ex = plain();
    const first = await ex.start(b('n,,n=user,r=abc'));
    assert.ok(first.ok);
    const sent = first.serverFirst.toString();
    assert.match(sent, /,t=0304$/);
    const seen = sent.replace(/,t=0304$/, ',t=0303');
    const nonce = /^r=([^,]+)/.exec(sent)![1]!;
    assert.deepEqual(await ex.finish(b(clientFinal('sha1', 'pencil', 'n=user,r=abc', seen, b('n,,'), nonce))), { ok: false, condition: 'not-authorized' });
    // The same client with the message as sent logs in: only the rewrite failed it.
    const honest = plain();
    const again = await honest.start(b('n,,n=user,r=abc'));
    assert.ok(again.ok);
    assert.ok((await honest.finish(b(clientFinal('sha1', 'pencil', 'n=user,r=abc', again.serverFirst.toString(), b('n,,'), nonce)))).ok);
  });

  it('no TLS version known (no TLS here, or TLS ended at a proxy): no t= at all', async () => {
    const creds = await deriveScramCredentials('pw', 4096);
    const first = await exchange(async () => creds).start(b('n,,n=u,r=c'));
    assert.ok(first.ok);
    assert.doesNotMatch(first.serverFirst.toString(), /,t=/);
  });

  it('reads TLS versions as Node names them, in lowercase hex', () => {
    assert.equal(tlsVersionHex('TLSv1.3'), '0304');
    assert.equal(tlsVersionHex('TLSv1.2'), '0303');
    assert.equal(tlsVersionHex('TLSv1.1'), '0302');
    assert.equal(tlsVersionHex('TLSv1'), '0301');
    assert.equal(tlsVersionHex('unknown'), undefined);
    assert.equal(tlsVersionHex(null), undefined);
    assert.equal(describeTlsVersion('0303'), 'TLS 1.2');
    assert.equal(describeTlsVersion('0304'), 'TLS 1.3');
  });
});
