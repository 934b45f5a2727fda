// SASLprep (RFC 4013) against the RFC's own examples and, differentially,
// against the npm `saslprep` package the server derives its keys with: a
// password must map to the same string on both sides or SCRAM fails.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import reference from 'saslprep';
import { saslprep } from './saslprep.ts';

const outcome = (f: () => string): string => {
  try {
    return `ok:${f()}`;
  } catch {
    return 'refused';
  }
};

describe('SASLprep', () => {
  it('RFC 4013 §3 examples', () => {
    assert.equal(saslprep('I\u00ADX'), 'IX');
    assert.equal(saslprep('user'), 'user');
    assert.equal(saslprep('USER'), 'USER');
    assert.equal(saslprep('\u00AA'), 'a');
    assert.equal(saslprep('\u2168'), 'IX');
    assert.throws(() => saslprep('\u0007'));
    assert.throws(() => saslprep('\u0627\u0031'));
  });

  it('maps, normalises and refuses exactly as the server does', () => {
    const samples = [
      'pencil', 'pass word', 'p\u00A0w', 'p\u200Bw', 'p\u2003w', 'p\u3000w', 'p\u00ADw', 'p\uFE0Fw', 'p\u200Dw', 'p\u2060w', 'p\u034Fw',
      'ﬁ', 'Ⅸ', 'ｆｕｌｌ', '\u1E9B\u0323', 'café', 'cafe\u0301', 'Straße', 'Ǆ', '①②', 'パスワード', 'ｶﾞ', '密码', '비밀번호',
      'пароль', 'κωδικός', '😀emoji', 'a\u{1F600}b',
      '\u05D0\u05D1\u05D2', '\u05D0a\u05D1', '\u05D0\u05D11', '\u0627\u0644\u0639', '\u0627\u0031\u0628', 'a\u0627', '\u200F',
      'p\u0000w', 'p\u007Fw', 'p\u0085w', 'p\u2028w', 'p\uE000w', 'p\uFDD0w', 'p\uFFFEw', 'p\uFFFCw', 'p\u2FF0w', 'p\u200Ew', 'p\u202Aw',
      'p\u{E0001}w', 'p\u{E0041}w', 'p\u{1D173}w', 'p\u{F0000}w', 'p\u06DDw', 'p\u180Ew', 'p\uD800w', 'p\uDC00w', '\t', 'a\nb',
    ];
    for (const s of samples) {
      assert.equal(outcome(() => saslprep(s)), outcome(() => reference(s, { allowUnassigned: true })), JSON.stringify(s));
    }
  });
});
