import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jid, makeJid, parseJid } from './jid.ts';

function ok(input: string): string {
  const r = parseJid(input);
  assert.ok(r.ok, `${input} should parse: ${!r.ok ? r.reason : ''}`);
  return r.jid.toString();
}

function bad(input: string): void {
  const r = parseJid(input);
  assert.equal(r.ok, false, `${JSON.stringify(input)} should be refused`);
  assert.equal(!r.ok && r.condition, 'jid-malformed');
}

describe('JID (RFC 7622)', () => {
  it('§3.5 examples of valid JIDs', () => {
    for (const s of ['juliet@example.com', 'juliet@example.com/foo', 'juliet@example.com/foo bar', 'juliet@example.com/foo@bar', 'foo\\20bar@example.com', 'fussball@example.com', 'fußball@example.com', 'π@example.com', 'Σ@example.com/foo', 'σ@example.com/foo', 'ς@example.com/foo', 'king@example.com/♚', 'example.com', 'example.com/foobar', 'a.example.com/b@example.net']) {
      ok(s);
    }
  });

  it('§3.5 examples of invalid JIDs', () => {
    for (const s of ['"juliet"@example.com', 'foo bar@example.com', 'juliet@example.com/ foo'.replace(' ', '\u0000'), '@example.com/', 'henry\u2163@example.com', '♚@example.com', 'juliet@', '/foobar', 'user@example.com/']) bad(s);
  });

  it('case-folds the localpart and the domain; keeps the resource as it is', () => {
    assert.equal(ok('Juliet@Example.COM/Balcony Scene'), 'juliet@example.com/Balcony Scene');
    assert.equal(ok('ÅNGSTRÖM@Example.org'), 'ångström@example.org');
  });

  it('maps fullwidth characters in the localpart (UsernameCaseMapped)', () => {
    assert.equal(ok('ＪＵＬＩＥＴ@example.com'), 'juliet@example.com');
  });

  it('turns A-labels into U-labels, drops a trailing dot, keeps IP literals', () => {
    assert.equal(ok('x@xn--bcher-kva.example'), 'x@bücher.example');
    assert.equal(ok('x@example.com.'), 'x@example.com');
    assert.equal(ok('x@[2001:DB8::1]/r'), 'x@[2001:db8::1]/r');
    assert.equal(ok('x@192.0.2.1'), 'x@192.0.2.1');
    bad('x@exa mple.com');
    bad('x@-example.com');
    bad('x@example..com');
  });

  it('limits each part to 1023 bytes', () => {
    ok(`${'a'.repeat(1023)}@example.com`);
    bad(`${'a'.repeat(1024)}@example.com`);
    bad(`${'é'.repeat(512)}@example.com`); // 1024 bytes in UTF-8
    ok(`a@example.com/${'r'.repeat(1023)}`);
    bad(`a@example.com/${'r'.repeat(1024)}`);
  });

  it('refuses RFC 7622 §3.3.1 excluded characters and controls', () => {
    for (const c of ['"', '&', "'", ':', '<', '>']) bad(`a${c}b@example.com`);
    bad('a\u0007@example.com');
    bad('a@example.com/x\u0007');
    bad('a@example.com/x\uE000');
  });

  it('splits at the first slash, then at the first @ before it (§3.1)', () => {
    const r = parseJid('a@b@c/d@e/f');
    assert.equal(r.ok, false, 'a@b is not a valid localpart');
    const s = parseJid('a@b/c@d/e');
    assert.ok(s.ok);
    assert.equal(s.jid.local, 'a');
    assert.equal(s.jid.domain, 'b');
    assert.equal(s.jid.resource, 'c@d/e');
  });

  it('bare(), withResource(), equals(), isBare, isDomain', () => {
    const full = jid('Alice@Localhost/Phone');
    assert.equal(full.bare().toString(), 'alice@localhost');
    const bare = full.bare();
    assert.equal(bare.bare(), bare, 'a bare JID is its own bare()');
    assert.equal(full.bare().withResource('Desk')?.toString(), 'alice@localhost/Desk');
    assert.equal(full.bare().withResource('\u0000'), undefined);
    assert.ok(full.equals(jid('alice@LOCALHOST/Phone')));
    assert.ok(!full.equals(jid('alice@localhost/phone')));
    assert.ok(jid('localhost').isDomain);
    assert.ok(jid('a@localhost').isBare);
    assert.equal(JSON.stringify({ j: full }), '{"j":"alice@localhost/Phone"}');
    assert.ok(makeJid('A', 'B', 'C').ok);
    assert.throws(() => jid('@@'));
  });
});
