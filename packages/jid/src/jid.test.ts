import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Jid, jid, makeJid, parseJid } from './jid.ts';

function ok(input: string): string {
  const r = parseJid(input);
  assert.ok(r.ok, `${JSON.stringify(input)} should parse: ${!r.ok ? r.reason : ''}`);
  return r.jid.toString();
}

function bad(input: string, reason?: string): void {
  const r = parseJid(input);
  assert.equal(r.ok, false, `${JSON.stringify(input)} should be refused`);
  assert.equal(!r.ok && r.condition, 'jid-malformed');
  if (reason !== undefined) assert.equal(!r.ok && r.reason, reason, JSON.stringify(input));
}

describe('RFC 7622 §3.5 examples', () => {
  it('accepts every valid example, in canonical form', () => {
    const examples: [string, string][] = [
      ['juliet@example.com', 'juliet@example.com'],
      ['juliet@example.com/foo', 'juliet@example.com/foo'],
      ['juliet@example.com/foo bar', 'juliet@example.com/foo bar'],
      ['juliet@example.com/foo@bar', 'juliet@example.com/foo@bar'],
      ['foo\\20bar@example.com', 'foo\\20bar@example.com'],
      ['fussball@example.com', 'fussball@example.com'],
      ['fußball@example.com', 'fußball@example.com'],
      ['π@example.com', 'π@example.com'],
      ['Σ@example.com/foo', 'σ@example.com/foo'],
      ['σ@example.com/foo', 'σ@example.com/foo'],
      ['ς@example.com/foo', 'ς@example.com/foo'],
      ['king@example.com/♚', 'king@example.com/♚'],
      ['example.com', 'example.com'],
      ['example.com/foobar', 'example.com/foobar'],
      ['a.example.com/b@example.net', 'a.example.com/b@example.net'],
    ];
    for (const [input, canonical] of examples) assert.equal(ok(input), canonical, input);
  });

  it('refuses every invalid example', () => {
    bad('"juliet"@example.com', 'invalid localpart'); // quotation marks are excluded (§3.3.1)
    bad('foo bar@example.com', 'invalid localpart'); // space
    bad('@example.com/', 'invalid localpart'); // empty localpart and resourcepart
    bad('henry\u2163@example.com', 'invalid localpart'); // ROMAN NUMERAL FOUR has a compatibility decomposition
    bad('♚@example.com', 'invalid localpart'); // symbol
    bad('juliet@', 'invalid domainpart'); // empty domainpart
    bad('/foobar', 'invalid domainpart'); // empty domainpart
  });

  it('accepts a leading space in the resourcepart (erratum 4560 removed example 18)', () => {
    assert.equal(ok('juliet@example.com/ foo'), 'juliet@example.com/ foo');
  });
});

describe('parseJid: splitting (RFC 7622 §3.2–3.4)', () => {
  it('splits at the first slash, then at the first @ before it', () => {
    const s = parseJid('a@b/c@d/e');
    assert.ok(s.ok);
    assert.deepEqual([s.jid.local, s.jid.domain, s.jid.resource], ['a', 'b', 'c@d/e']);
    bad('a@b@c/d', 'invalid domainpart');
  });

  it('refuses empty parts and empty input', () => {
    bad('', 'invalid domainpart');
    bad('@', 'invalid localpart');
    bad('@example.com', 'invalid localpart');
    bad('user@example.com/', 'invalid resourcepart');
    bad('/');
    bad('a@/r', 'invalid domainpart');
  });

  it('never throws, whatever the input', () => {
    for (const s of ['\u0000', '\uD800@x', 'x@\uDFFF', '[', 'a@[', 'a@]', '@@@///', '\u202E@x', 'x@xn--', 'x@.'.repeat(400)]) {
      assert.doesNotThrow(() => parseJid(s), JSON.stringify(s));
      assert.equal(parseJid(s).ok, false, JSON.stringify(s));
    }
  });
});

describe('Jid', () => {
  it('exposes its canonical parts and kind', () => {
    const full = jid('Alice@Localhost/Phone');
    assert.deepEqual([full.local, full.domain, full.resource], ['alice', 'localhost', 'Phone']);
    assert.ok(!full.isBare && !full.isDomain);
    assert.ok(jid('a@localhost').isBare);
    assert.ok(!jid('a@localhost').isDomain);
    assert.ok(jid('localhost').isDomain && jid('localhost').isBare);
    assert.ok(!jid('localhost/r').isDomain, 'a domain with a resource is not a domain JID');
  });

  it('bare() drops the resource, and a bare JID is its own bare()', () => {
    const full = jid('alice@localhost/Phone');
    assert.equal(full.bare().toString(), 'alice@localhost');
    const bare = full.bare();
    assert.equal(bare.bare(), bare);
    assert.equal(jid('localhost/r').bare().toString(), 'localhost');
  });

  it('withResource() prepares the new resource, replacing any old one', () => {
    const full = jid('alice@localhost/Phone');
    assert.equal(full.withResource('Desk')?.toString(), 'alice@localhost/Desk');
    assert.equal(full.bare().withResource('a\u3000b')?.resource, 'a b', 'ideographic space mapped to U+0020');
    assert.equal(full.withResource(''), undefined);
    assert.equal(full.withResource('\u0000'), undefined);
    assert.equal(full.withResource('r'.repeat(1024)), undefined);
    assert.equal(full.toString(), 'alice@localhost/Phone', 'the original is unchanged');
  });

  it('equals() compares canonical forms: case-insensitive local and domain, exact resource', () => {
    const full = jid('alice@localhost/Phone');
    assert.ok(full.equals(jid('ALICE@LOCALHOST/Phone')));
    assert.ok(full.equals(jid('ａｌｉｃｅ@localhost./Phone')));
    assert.ok(!full.equals(jid('alice@localhost/phone')));
    assert.ok(!full.equals(full.bare()));
    assert.ok(!full.equals(undefined));
    assert.ok(jid('x@xn--bcher-kva.example').equals(jid('x@BÜCHER.example')));
  });

  it('toString() is computed once and cached; toJSON() is the string', () => {
    const j = jid('Bob@Example.org/Res');
    const cache = (): string | undefined => (j as unknown as { cachedString?: string }).cachedString;
    assert.equal(cache(), undefined);
    assert.equal(j.toString(), 'bob@example.org/Res');
    assert.equal(cache(), 'bob@example.org/Res');
    assert.equal(`${j}`, 'bob@example.org/Res');
    assert.equal(JSON.stringify({ j }), '{"j":"bob@example.org/Res"}');
  });

  it('makeJid() builds from parts with the same preparation', () => {
    const r = makeJid('A', 'B.example', 'C');
    assert.ok(r.ok);
    assert.equal(r.jid.toString(), 'a@b.example/C');
    assert.ok(r.jid instanceof Jid);
    const domainOnly = makeJid(undefined, 'example.com');
    assert.ok(domainOnly.ok && domainOnly.jid.isDomain);
    assert.equal(makeJid('a@b', 'example.com').ok, false, 'a localpart may not hold @');
    assert.equal(makeJid('a', 'exa/mple.com').ok, false, 'a domainpart may not hold /');
    assert.equal(makeJid('a', 'example.com', '').ok, false);
  });

  it('jid() throws for a bad address (a programming error), with the reason', () => {
    assert.throws(() => jid('@@'), /invalid JID "@@": invalid localpart/);
  });
});

describe('addresses parsed lately', () => {
  it('gives back the same Jid for the same text, and its bare form once made', () => {
    const first = parseJid('Romeo@Example.net/orchard');
    const again = parseJid('Romeo@Example.net/orchard');
    assert.ok(first.ok && again.ok);
    assert.equal(again.jid, first.jid);
    assert.equal(first.jid.toString(), 'romeo@example.net/orchard');
    assert.equal(first.jid.bare(), first.jid.bare());
    assert.equal(first.jid.bare().toString(), 'romeo@example.net');
  });

  it('keeps no refusal: a bad address is refused every time, with its reason', () => {
    bad('@example.net', 'invalid localpart');
    bad('@example.net', 'invalid localpart');
  });

  it('parses a text cut from a larger one like any other', () => {
    const read = `<message to='juliet@capulet.example/balcony' type='chat'>${'x'.repeat(1000)}</message>`;
    assert.equal(ok(read.slice(13, 43)), 'juliet@capulet.example/balcony');
    assert.equal(ok('juliet@capulet.example/balcony'), 'juliet@capulet.example/balcony');
  });
});
