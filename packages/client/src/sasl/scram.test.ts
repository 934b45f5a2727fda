// SCRAM against the examples of RFC 5802 §5 (SHA-1) and RFC 7677 §3
// (SHA-256), byte for byte, and the refusals that keep a server that does
// not know the password from passing as one.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromUtf8, utf8 } from './bytes.ts';
import { ScramClient } from './scram.ts';

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
