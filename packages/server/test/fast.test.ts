// XEP-0484 FAST on the server, on real sockets and written by hand: the
// inline feature, a token issued in <success/>, one-message HT-SHA-256-NONE
// and -EXPR logins with the server's mutual-authentication answer, tokens
// bound to their mechanism and user agent, invalidation, a password change,
// and rotation past half the token's life.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { deriveScramCredentials } from '../src/auth/scram-credentials.ts';
import { secureRaw, startTestServer, type SecureRaw, type TestServer } from './helpers.ts';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const UA = '9b2f3c1e-7d4a-4e8b-a1c2-3d4e5f6a7b8c';
const OTHER_UA = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
const SUCCESS = /<success xmlns="urn:xmpp:sasl:2">[\s\S]*?<\/success>/;
const FAILURE = /<failure xmlns="urn:xmpp:sasl:2">[\s\S]*?<\/failure>/;

const ht = (token: string, label: string, cb: Buffer = Buffer.alloc(0)): Buffer => createHmac('sha256', token).update(label).update(cb).digest();
const cbOf = (c: SecureRaw): Buffer => c.socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));

async function opened(port: number): Promise<{ c: SecureRaw; features: string }> {
  const c = await secureRaw(port);
  const features = (await c.expect(/<stream:features>[\s\S]*?<\/stream:features>/))[0];
  return { c, features };
}

/** A password login asking for a token; resolves with the <token/>'s attributes. */
async function passwordLogin(port: number, mechanism = 'HT-SHA-256-NONE', ua = UA): Promise<{ token: string; expiry: string }> {
  const { c } = await opened(port);
  c.socket.write(
    `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>${b64('\0alice\0alice-pw')}</initial-response>` +
      `<user-agent id='${ua}'/><request-token xmlns='urn:xmpp:fast:0' mechanism='${mechanism}'/></authenticate>`,
  );
  const success = (await c.expect(SUCCESS))[0];
  c.socket.destroy();
  const m = /<token xmlns="urn:xmpp:fast:0" expiry="([^"]+)" token="([^"]+)"\/>/.exec(success);
  assert.ok(m, `a token in ${success}`);
  return { expiry: m[1]!, token: m[2]! };
}

/** One <authenticate/> with the token; resolves with <success/> or <failure/>. */
async function tokenLogin(port: number, token: string, options: { mechanism?: string; ua?: string; fast?: string; cb?: (c: SecureRaw) => Buffer; inline?: string } = {}): Promise<{ answer: string; cb: Buffer }> {
  const { c } = await opened(port);
  const mechanism = options.mechanism ?? 'HT-SHA-256-NONE';
  const cb = options.cb?.(c) ?? Buffer.alloc(0);
  const initial = Buffer.concat([Buffer.from('alice\0'), ht(token, 'Initiator', cb)]);
  c.socket.write(
    `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='${mechanism}'><initial-response>${b64(initial)}</initial-response>` +
      `<user-agent id='${options.ua ?? UA}'/>${options.fast ?? "<fast xmlns='urn:xmpp:fast:0'/>"}${options.inline ?? ''}</authenticate>`,
  );
  const answer = (await c.expect(new RegExp(`${SUCCESS.source}|${FAILURE.source}`)))[0];
  c.socket.destroy();
  return { answer, cb };
}

describe('FAST (XEP-0484) on the server', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ sasl2: true });
    await server.addUser('alice', 'alice-pw');
  });
  after(async () => server?.stop());

  it('offers <fast/> inside SASL2 <inline/>, with -EXPR under TLS 1.3', async () => {
    const { c, features } = await opened(server.c2sPort);
    assert.match(features, /<inline>.*<fast xmlns="urn:xmpp:fast:0"><mechanism>HT-SHA-256-EXPR<\/mechanism><mechanism>HT-SHA-256-NONE<\/mechanism><\/fast><\/inline>/);
    c.socket.destroy();
  });

  it('issues a token at a password login and takes it in one message, binding inline, answering with the responder HMAC', async () => {
    const { token, expiry } = await passwordLogin(server.c2sPort);
    assert.equal(token.length, 80);
    const days = (Date.parse(expiry) - Date.now()) / 86_400_000;
    assert.ok(days > 13.9 && days <= 14, `expires in 14 days (${days})`);
    const { answer } = await tokenLogin(server.c2sPort, token, { fast: "<fast xmlns='urn:xmpp:fast:0' count='1'/>", inline: "<bind xmlns='urn:xmpp:bind:0'><tag>fast</tag></bind>" });
    assert.match(answer, /<authorization-identifier>alice@localhost\/fast\//);
    assert.match(answer, new RegExp(`<additional-data>${b64(ht(token, 'Responder')).replace(/[+/]/g, '\\$&')}</additional-data>`));
    assert.doesNotMatch(answer, /<token/, 'a fresh token is not rotated');
    // The database holds neither the token nor anything HMAC keys with in the clear.
    const rows = await server.storage.fastTokens.get('alice', 'localhost', UA);
    assert.equal(rows.length, 1);
    assert.ok(!rows[0]!.key.includes(token) && rows[0]!.key.length > 40);
  });

  it('binds a token to its mechanism and user agent, and wants <fast/>', async () => {
    const { token } = await passwordLogin(server.c2sPort, 'HT-SHA-256-EXPR');
    const other = await tokenLogin(server.c2sPort, token, { mechanism: 'HT-SHA-256-NONE' });
    assert.match(other.answer, /<not-authorized/, 'an -EXPR token refused with -NONE');
    assert.match((await tokenLogin(server.c2sPort, token, { mechanism: 'HT-SHA-256-EXPR', cb: cbOf, ua: OTHER_UA })).answer, /<not-authorized/, 'another user agent');
    assert.match((await tokenLogin(server.c2sPort, token, { mechanism: 'HT-SHA-256-EXPR', cb: () => Buffer.alloc(32) })).answer, /<not-authorized/, 'the wrong channel binding (a relay)');
    assert.match((await tokenLogin(server.c2sPort, token, { mechanism: 'HT-SHA-256-EXPR', cb: cbOf, fast: '' })).answer, /<malformed-request/, 'no <fast/>');
    const ok = await tokenLogin(server.c2sPort, token, { mechanism: 'HT-SHA-256-EXPR', cb: cbOf });
    assert.match(ok.answer, new RegExp(`<additional-data>${b64(ht(token, 'Responder', ok.cb)).replace(/[+/]/g, '\\$&')}</additional-data>`));
  });

  it("invalidates on request, and with the user's password", async () => {
    const first = await passwordLogin(server.c2sPort);
    assert.match((await tokenLogin(server.c2sPort, first.token, { fast: "<fast xmlns='urn:xmpp:fast:0' invalidate='true'/>" })).answer, /<success/);
    assert.match((await tokenLogin(server.c2sPort, first.token)).answer, /<not-authorized/, 'invalidated');
    const second = await passwordLogin(server.c2sPort);
    await server.storage.accounts.setCredentials('alice', 'localhost', await deriveScramCredentials('alice-pw', 4096));
    assert.match((await tokenLogin(server.c2sPort, second.token)).answer, /<not-authorized/, 'a new password ends the tokens');
  });
});

describe('FAST token lifetime', { timeout: 60_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ sasl2: true, fastTokenSeconds: 2 });
    await server.addUser('alice', 'alice-pw');
  });
  after(async () => server?.stop());

  it('rotates a token past half its life, keeps the old one until the new is used, and refuses an expired one', async () => {
    const { token } = await passwordLogin(server.c2sPort);
    await new Promise((r) => setTimeout(r, 1100));
    const rotated = await tokenLogin(server.c2sPort, token);
    const next = /<token xmlns="urn:xmpp:fast:0" expiry="[^"]+" token="([^"]+)"\/>/.exec(rotated.answer)?.[1];
    assert.ok(next && next !== token, `a new token in ${rotated.answer}`);
    // A client that never got the new token (the link died) logs in with the old one, which still works,
    // and gets another; the one it never received is dropped (§4.5: unused tokens are invalidated).
    const again = await tokenLogin(server.c2sPort, token);
    const newest = /<token xmlns="urn:xmpp:fast:0" expiry="[^"]+" token="([^"]+)"\/>/.exec(again.answer)?.[1];
    assert.ok(newest && newest !== next, `the old token still works and brings another: ${again.answer}`);
    assert.match((await tokenLogin(server.c2sPort, next)).answer, /<not-authorized/, 'the token never received is gone');
    assert.match((await tokenLogin(server.c2sPort, newest)).answer, /<success/);
    assert.match((await tokenLogin(server.c2sPort, token)).answer, /<not-authorized/, 'once the new one is used, the old is gone');
    await new Promise((r) => setTimeout(r, 2100));
    assert.match((await tokenLogin(server.c2sPort, newest)).answer, /<credentials-expired/);
  });
});
