import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJid } from './jid.ts';
import { prepareDomainpart } from './domain.ts';
import { prepareLocalpart, prepareResourcepart } from './precis.ts';

function canonical(input: string): string | undefined {
  const r = parseJid(input);
  return r.ok ? r.jid.toString() : undefined;
}

describe('localpart: PRECIS UsernameCaseMapped (RFC 8265 §3.3) and RFC 7622 §3.3', () => {
  it('case-maps ASCII and non-ASCII letters to lower case, keeping ß and final sigma', () => {
    assert.equal(prepareLocalpart('Juliet'), 'juliet');
    assert.equal(prepareLocalpart('ÅNGSTRÖM'), 'ångström');
    assert.equal(prepareLocalpart('ΣΑΣ'), 'σας', "Unicode toLowerCase() with SpecialCasing's Final_Sigma, as RFC 8265 §3.3.1 prefers");
    assert.equal(prepareLocalpart('Straße'), 'straße', 'lower-casing, not case folding: ß stays');
    assert.equal(prepareLocalpart('ς'), 'ς');
  });

  it('maps fullwidth and halfwidth forms to their decompositions before case mapping (RFC 8264 §9.5)', () => {
    assert.equal(prepareLocalpart('ＪＵＬＩＥＴ'), 'juliet');
    assert.equal(prepareLocalpart('ｊｕｌｉｅｔ１２'), 'juliet12');
    assert.equal(prepareLocalpart('ｶ'), 'カ', 'halfwidth katakana');
  });

  it('normalises to NFC', () => {
    assert.equal(prepareLocalpart('a\u0301'), 'á');
    assert.equal(canonical('a\u0301@example.com'), canonical('á@example.com'));
  });

  it('refuses the RFC 7622 §3.3.1 excluded characters', () => {
    for (const c of ['"', '&', "'", '/', ':', '<', '>', '@']) assert.equal(prepareLocalpart(`a${c}b`), undefined, c);
    for (const c of ['"', '&', "'", ':', '<', '>']) assert.equal(canonical(`a${c}b@example.com`), undefined, c);
  });

  it('refuses spaces, controls, symbols, compatibility characters and unassigned code points', () => {
    for (const s of ['a b', 'a\u00a0b', 'a\u3000b', 'a\u0007', 'a\u007f', '♚', '€', 'a\u2163', 'ǅ', 'ﬁ', 'a\u200b', 'a\uE000', 'a\u{10FFFF}', 'a\uFDD0', 'a\u0378']) {
      assert.equal(prepareLocalpart(s), undefined, JSON.stringify(s));
    }
  });

  it('keeps printable ASCII other than the exclusions, such as the XEP-0106 escapes', () => {
    assert.equal(prepareLocalpart('foo\\20bar'), 'foo\\20bar');
    assert.equal(prepareLocalpart("!#$%()*+,-.;=?[]^_`{|}~"), "!#$%()*+,-.;=?[]^_`{|}~");
  });
});

describe('resourcepart: PRECIS OpaqueString (RFC 8265 §4.2)', () => {
  it('keeps case, spaces (leading, inner and trailing), symbols, @ and /', () => {
    assert.equal(prepareResourcepart('Balcony Scene'), 'Balcony Scene');
    assert.equal(prepareResourcepart(' lead and trail '), ' lead and trail ');
    assert.equal(canonical('a@example.com/ Foo  Bar /x@y ♚'), 'a@example.com/ Foo  Bar /x@y ♚');
  });

  it('maps non-ASCII spaces to U+0020 and normalises to NFC, without width mapping', () => {
    assert.equal(prepareResourcepart('a\u3000b\u00a0c\u2003d'), 'a b c d');
    assert.equal(prepareResourcepart('e\u0301'), 'é');
    assert.equal(prepareResourcepart('Ｒｅｓ'), 'Ｒｅｓ', 'fullwidth letters are kept as they are');
  });

  it('refuses controls, private use, noncharacters, default ignorables and lone surrogates', () => {
    for (const s of ['x\u0000', 'x\u0007', 'x\n', 'x\uE000', 'x\uFFFF', 'x\u200b', 'x\uD800']) {
      assert.equal(prepareResourcepart(s), undefined, JSON.stringify(s));
    }
  });
});

describe('domainpart (RFC 7622 §3.2)', () => {
  it('lower-cases, and maps fullwidth forms and ideographic full stops (UTS #46)', () => {
    assert.equal(prepareDomainpart('Example.COM'), 'example.com');
    assert.equal(prepareDomainpart('BÜCHER.example'), 'bücher.example');
    assert.equal(prepareDomainpart('ｅｘａｍｐｌｅ．ｃｏｍ'), 'example.com');
    assert.equal(prepareDomainpart('例え。テスト'), '例え.テスト');
  });

  it('turns A-labels into U-labels, so both spellings are the same JID', () => {
    assert.equal(prepareDomainpart('xn--bcher-kva.example'), 'bücher.example');
    assert.equal(prepareDomainpart('XN--R8JZ45G.XN--ZCKZAH'), '例え.テスト');
    assert.equal(prepareDomainpart('xn--zz'), undefined, 'an A-label that does not decode');
  });

  it('drops one trailing dot', () => {
    assert.equal(prepareDomainpart('example.com.'), 'example.com');
    assert.equal(prepareDomainpart('.'), undefined);
    assert.equal(prepareDomainpart('example.com..'), undefined);
  });

  it('refuses empty labels, hyphens at either end of a label, and characters outside LDH', () => {
    for (const d of ['', 'example..com', '.example.com', '-example.com', 'example-.com', 'é-.com', '-é.com', 'exa mple.com', 'a_b.com', 'example.com:5222', 'a@b', 'ex\u0000ample.com']) {
      assert.equal(prepareDomainpart(d), undefined, JSON.stringify(d));
    }
  });

  it('keeps IPv4 addresses and IPv6 literals (RFC 3986 §3.2.2), lower-casing hex', () => {
    assert.equal(prepareDomainpart('192.0.2.1'), '192.0.2.1');
    for (const [literal, expected] of [
      ['[2001:DB8::1]', '[2001:db8::1]'],
      ['[::1]', '[::1]'],
      ['[::]', '[::]'],
      ['[1:2:3:4:5:6:7:8]', '[1:2:3:4:5:6:7:8]'],
      ['[::FFFF:192.0.2.1]', '[::ffff:192.0.2.1]'],
      ['[fe80::1:2]', '[fe80::1:2]'],
    ]) {
      assert.equal(prepareDomainpart(literal!), expected, literal);
    }
    for (const literal of ['[1:2]', '[1:2:3:4:5:6:7:8:9]', '[1::2::3]', '[12345::]', '[::g]', '[::1', '[]', '[192.0.2.1]', '[::1.2.3.256]', '[v1.x]']) {
      assert.equal(prepareDomainpart(literal), undefined, literal);
    }
    assert.equal(canonical('x@[2001:DB8::1]/r'), 'x@[2001:db8::1]/r');
  });
});

describe('length limits: 1023 bytes of UTF-8 per part (RFC 7622 §3.2–3.4)', () => {
  it('localpart', () => {
    assert.ok(canonical(`${'a'.repeat(1023)}@example.com`));
    assert.equal(canonical(`${'a'.repeat(1024)}@example.com`), undefined);
    assert.ok(canonical(`${'é'.repeat(511)}a@example.com`), '1023 bytes');
    assert.equal(canonical(`${'é'.repeat(512)}@example.com`), undefined, '512 characters but 1024 bytes');
    assert.equal(canonical(`${'Ａ'.repeat(1024)}@example.com`), undefined, '1024 characters after width mapping');
  });

  it('resourcepart', () => {
    assert.ok(canonical(`a@example.com/${'r'.repeat(1023)}`));
    assert.equal(canonical(`a@example.com/${'r'.repeat(1024)}`), undefined);
    assert.ok(canonical(`a@example.com/${'€'.repeat(341)}`), '1023 bytes');
    assert.equal(canonical(`a@example.com/${'€'.repeat(341)}r`), undefined, '1024 bytes');
  });

  it('domainpart, with labels of at most 63 characters', () => {
    const label = (n: number): string => 'a'.repeat(n);
    assert.ok(prepareDomainpart(`${label(63)}.com`));
    assert.equal(prepareDomainpart(`${label(64)}.com`), undefined);
    const long = Array.from({ length: 16 }, () => label(63)).join('.'); // 16 × 63 + 15 = 1023
    assert.equal(long.length, 1023);
    assert.equal(prepareDomainpart(long), long);
    assert.equal(prepareDomainpart(`a${long.slice(1)}.b`), undefined);
    const wide = Array.from({ length: 11 }, () => 'é'.repeat(46)).join('.'); // 11 × 92 + 10 = 1022 bytes
    assert.ok(prepareDomainpart(wide));
    assert.equal(prepareDomainpart(`${wide}.é`), undefined, '1025 bytes');
  });
});
