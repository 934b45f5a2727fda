// SCRAM against the examples of RFC 5802 §5 (SHA-1) and RFC 7677 §3
// (SHA-256), byte for byte, and the refusals that keep a server that does
// not know the password from passing as one.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromUtf8, utf8 } from './bytes.ts';
import { advertisedString, DowngradeDetected, ScramClient } from './scram.ts';

const text = (b: Uint8Array | undefined): string => fromUtf8(b!);

describe('SCRAM client', () => {
  it('RFC 5802 §5: SCRAM-SHA-1, user "user", password "pencil"', async () => {
    const c = new ScramClient('SCRAM-SHA-1', 'SHA-1', { username: 'user', password: 'pencil' }, { supportedButNotOffered: false }, 'fyko+d2lbbFgONRv9qkxdawL');
    assert.equal(text(await c.initial()), 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    const final = await c.challenge(utf8('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'));
    assert.equal(text(final), 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
    await c.success(utf8('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='));
  });

  it('RFC 7677 §3: SCRAM-SHA-256, user "user", password "pencil"', async () => {
    const c = new ScramClient('SCRAM-SHA-256', 'SHA-256', { username: 'user', password: 'pencil' }, { supportedButNotOffered: false }, 'rOprNGfwEbeRWgbNEkqO');
    assert.equal(text(await c.initial()), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = await c.challenge(utf8('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
    assert.equal(text(final), 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    await c.success(utf8('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='));
  });

  it('refuses a wrong server signature, a missing one, and a server error', async () => {
    const make = async (): Promise<ScramClient> => {
      const c = new ScramClient('SCRAM-SHA-1', 'SHA-1', { username: 'user', password: 'pencil' }, { supportedButNotOffered: false }, 'fyko+d2lbbFgONRv9qkxdawL');
      await c.initial();
      await c.challenge(utf8('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'));
      return c;
    };
    await assert.rejects((await make()).success(utf8('v=AAAApqV8S7suAoZWja4dJRkFsKQ=')), /signature/);
    await assert.rejects((await make()).success(undefined), /signature/);
    await assert.rejects((await make()).success(utf8('e=invalid-proof')), /invalid-proof/);
  });

  it("refuses a server-first message that does not extend the client's nonce or lacks salt or count", async () => {
    for (const bad of ['r=someoneelse,s=QSXCR+Q6sek8bf92,i=4096', 'r=fyko+d2lbbFgONRv9qkxdawLx,i=4096', 'r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=0', 'm=ext,r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4096']) {
      const c = new ScramClient('SCRAM-SHA-1', 'SHA-1', { username: 'user', password: 'pencil' }, { supportedButNotOffered: false }, 'fyko+d2lbbFgONRv9qkxdawL');
      await c.initial();
      await assert.rejects(c.challenge(utf8(bad)), /server-first/, bad);
    }
  });

  it('escapes "," and "=" in the username and sends the gs2 header for each channel-binding case', async () => {
    const plain = new ScramClient('SCRAM-SHA-1', 'SHA-1', { username: 'a,b=c', password: 'p' }, { supportedButNotOffered: false }, 'N');
    assert.equal(text(await plain.initial()), 'n,,n=a=2Cb=3Dc,r=N');
    const couldBind = new ScramClient('SCRAM-SHA-1', 'SHA-1', { username: 'u', password: 'p' }, { supportedButNotOffered: true }, 'N');
    assert.equal(text(await couldBind.initial()), 'y,,n=u,r=N');
    const bound = new ScramClient('SCRAM-SHA-256-PLUS', 'SHA-256', { username: 'u', password: 'p' }, { data: new Uint8Array([1, 2, 3]) }, 'N');
    assert.equal(text(await bound.initial()), 'p=tls-exporter,,n=u,r=N');
    // c= carries the gs2 header followed by the binding data (RFC 5802 §7, RFC 9266).
    const final = text(await bound.challenge(utf8('r=NS,s=QSXCR+Q6sek8bf92,i=1')));
    assert.equal(final.split(',')[0], `c=${Buffer.from([...Buffer.from('p=tls-exporter,,'), 1, 2, 3]).toString('base64')}`);
  });
});

describe('XEP-0515 (TDP): the server\'s t= against our own TLS version', () => {
  // §4.3's full example: SCRAM-SHA-1-PLUS over tls-exporter (fake binding data), user/pencil, h= and t=0304.
  const NONCE = '12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6';
  const SERVER_FIRST = `r=${NONCE}a09117a6-ac50-4f2f-93f1-93799c2bddf6,s=QSXCR+Q6sek8bf92,i=4096,h=G6k/rBLDqgOhRRaCuuatSDFkJ08=,t=0304`;
  const advertised = advertisedString(['SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS'], ['tls-server-end-point', 'tls-exporter']);
  const example = (tlsVersion: '0304' | '0303' | 'none' | undefined): ScramClient =>
    new ScramClient('SCRAM-SHA-1-PLUS', 'SHA-1', { username: 'user', password: 'pencil' }, { data: utf8('THIS IS FAKE CB DATA') }, NONCE, { advertised, tlsVersion });

  it("the XEP's full example, byte for byte, when our TLS is 1.3 as the server's", async () => {
    const c = example('0304');
    assert.equal(text(await c.initial()), `p=tls-exporter,,n=user,r=${NONCE}`);
    const final = await c.challenge(utf8(SERVER_FIRST));
    assert.equal(text(final), `c=cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBEQVRB,r=${NONCE}a09117a6-ac50-4f2f-93f1-93799c2bddf6,p=KHUfN8dSy1K95crT4D5y1ItLJfs=`);
    await c.success(utf8('v=3w34ZIMVRkx2f2Ozb3/ecRPVdv4='));
  });

  it('another version on our side (TLS 1.2, or no TLS at all) stops before the proof, with what each side speaks', async () => {
    for (const [own, words] of [['0303', /TLS 1\.3 and ours is TLS 1\.2/], ['none', /TLS 1\.3 and ours is no TLS/]] as const) {
      const c = example(own);
      await c.initial();
      await assert.rejects(c.challenge(utf8(SERVER_FIRST)), (err: unknown) => {
        assert.ok(err instanceof DowngradeDetected);
        assert.deepEqual(err.downgrade, { kind: 'tls-version', server: '0304', client: own });
        assert.match(err.message, words);
        return true;
      });
    }
  });

  it('a server that sends no t= (Prosody, ejabberd) and a transport that cannot tell its version are not checked', async () => {
    const noT = example('0303');
    await noT.initial();
    await noT.challenge(utf8(SERVER_FIRST.replace(',t=0304', '')));
    const unknown = example(undefined);
    await unknown.initial();
    assert.equal(text(await unknown.challenge(utf8(SERVER_FIRST))).split(',p=')[1], 'KHUfN8dSy1K95crT4D5y1ItLJfs=');
  });
});
