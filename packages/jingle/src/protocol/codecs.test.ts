import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Element, parseElement, xml } from '@switchboard/xml';
import { parseStanzaError, replyWithError } from '@switchboard/protocol';
import {
  JINGLE_ERROR_CONDITIONS, REASON_CONDITIONS, jingleError, jingleErrorCondition, parseJingle, parseReason, reasonOf, writeJingle, writeReason,
} from './xep0166.ts';
import { base64ToBytes, bytesToBase64 } from './base64.ts';
import {
  MORE, clientGreeting, connectReply, connectRequest, dstAddr, methodChoice, readClientGreeting, readConnectReply, readConnectRequest, readMethodChoice,
} from './xep0065.ts';
import { candidatePriority } from './xep0260.ts';
import { nextSeq, parseIbb } from './xep0047.ts';

describe('XEP-0166 reasons (§7.4)', () => {
  it('writes and reads back every defined condition, with text', () => {
    assert.equal(REASON_CONDITIONS.length, 17);
    for (const condition of REASON_CONDITIONS) {
      const reason = condition === 'alternative-session'
        ? { condition, text: 'use the other one', alternativeSession: 'b84tkkwlmb48kgfb' }
        : { condition, text: `because ${condition}` };
      const wire = parseElement(writeJingle({ action: 'session-terminate', sid: 's1', contents: [], reason }).toString());
      assert.ok(wire instanceof Element);
      const back = parseJingle(wire);
      assert.ok(back.ok);
      assert.deepEqual(back.jingle.reason, reason, condition);
    }
  });

  it('reads an unknown condition as general-error and keeps an application condition', () => {
    const r = parseReason(xml('reason', { xmlns: 'urn:xmpp:jingle:1' }, xml('made-up'), xml('x', { xmlns: 'urn:example' })));
    assert.equal(r.condition, 'general-error');
    assert.equal(r.application?.attrs.xmlns, 'urn:example');
    assert.equal(writeReason(r).toString(), '<reason><general-error/><x xmlns="urn:example"/></reason>');
  });

  it('refuses a reason outside the XEP-0166 list from callers', () => {
    assert.throws(() => reasonOf('bored' as never), RangeError);
    assert.deepEqual(reasonOf('busy'), { condition: 'busy' });
  });
});

describe('XEP-0166 errors (§10)', () => {
  it('pairs each Jingle condition with its XMPP condition and reads it back', () => {
    const general = { 'out-of-order': 'unexpected-request', 'tie-break': 'conflict', 'unknown-content': 'item-not-found', 'unknown-session': 'item-not-found', 'unsupported-info': 'feature-not-implemented', 'security-required': 'not-acceptable' };
    for (const condition of JINGLE_ERROR_CONDITIONS) {
      const reply = replyWithError(xml('iq', { type: 'set', id: '1', from: 'a@x/r', to: 'b@x/r' }), jingleError(condition));
      const wire = parseElement(reply!.toString());
      assert.ok(wire instanceof Element);
      const err = parseStanzaError(wire);
      assert.equal(err?.condition, general[condition]);
      assert.equal(jingleErrorCondition(err), condition);
    }
    assert.equal(jingleError('unsupported-info').type, 'modify');
    assert.equal(jingleError('tie-break').type, 'cancel');
  });
});

describe('XEP-0166 parsing', () => {
  it('refuses a missing sid, an unknown action and a nameless content', () => {
    assert.equal(parseJingle(xml('jingle', { xmlns: 'urn:xmpp:jingle:1', action: 'session-info' })).ok, false);
    assert.equal(parseJingle(xml('jingle', { xmlns: 'urn:xmpp:jingle:1', action: 'session-dance', sid: 'x' })).ok, false);
    assert.equal(parseJingle(xml('jingle', { xmlns: 'urn:xmpp:jingle:1', action: 'content-add', sid: 'x' }, xml('content', { creator: 'initiator' }))).ok, false);
  });

  it('reads children that repeat their namespace the same as ones that inherit it', () => {
    const el = parseElement(
      "<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='s'><reason xmlns='urn:xmpp:jingle:1'><busy xmlns='urn:xmpp:jingle:1'/></reason></jingle>",
    );
    assert.ok(el instanceof Element);
    const r = parseJingle(el);
    assert.ok(r.ok);
    assert.equal(r.jingle.reason?.condition, 'busy');
  });
});

describe('XEP-0047 payloads', () => {
  it('refuses a block-size above 65535 and a seq outside 16 bits; seq wraps', () => {
    assert.equal(parseIbb(xml('open', { xmlns: 'http://jabber.org/protocol/ibb', sid: 's', 'block-size': '65536' })), undefined);
    assert.equal(parseIbb(xml('data', { xmlns: 'http://jabber.org/protocol/ibb', sid: 's', seq: '65536' })), undefined);
    assert.equal(nextSeq(65535), 0);
    assert.equal(nextSeq(7), 8);
  });
});

describe('base64 (RFC 4648)', () => {
  it('agrees with Node on every length up to 70 and on random data', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = randomBytes(n);
      const b64 = bytesToBase64(bytes);
      assert.equal(b64, bytes.toString('base64'));
      assert.deepEqual(base64ToBytes(b64), new Uint8Array(bytes));
    }
    assert.deepEqual(base64ToBytes('qANQ\nR1DB'), new Uint8Array(Buffer.from('qANQR1DB', 'base64')));
    assert.equal(base64ToBytes('abc'), undefined);
    assert.equal(base64ToBytes('ab!d'), undefined);
  });
});

describe('XEP-0065 / RFC 1928 framing', () => {
  it('computes DST.ADDR as hex SHA-1 of sid + requester + target (XEP-0065 §5.3.2 example)', async () => {
    const expected = createHash('sha1').update('vj3hs98yromeo@montague.example/dr4hcr0st3lup4cjuliet@capulet.example/yn0cl4bnw0yr3vym').digest('hex');
    assert.equal(await dstAddr('vj3hs98y', 'romeo@montague.example/dr4hcr0st3lup4c', 'juliet@capulet.example/yn0cl4bnw0yr3vym'), expected);
  });

  it('round-trips the handshake messages and asks for more on partial input', () => {
    const g = clientGreeting();
    assert.equal(readClientGreeting(g.subarray(0, 1)), MORE);
    assert.deepEqual(readClientGreeting(g), { ok: true, length: 3, noAuth: true });
    assert.deepEqual(readMethodChoice(methodChoice(true)), { ok: true, length: 2, noAuth: true });
    const dst = 'a'.repeat(40);
    const req = connectRequest(dst);
    assert.equal(req.length, 47);
    assert.equal(readConnectRequest(req.subarray(0, 20)), MORE);
    assert.deepEqual(readConnectRequest(req), { ok: true, length: 47, command: 1, host: dst, port: 0 });
    assert.deepEqual(readConnectReply(connectReply(0, dst)), { ok: true, length: 47, status: 0, host: dst });
    assert.deepEqual(readClientGreeting(Uint8Array.of(4, 1, 0)), { ok: false, reason: 'not SOCKS5' });
  });

  it('computes XEP-0260 §2.1 priorities', () => {
    assert.equal(candidatePriority('direct'), 126 * 65536);
    assert.equal(candidatePriority('proxy', 7), 10 * 65536 + 7);
    assert.ok(candidatePriority('direct') > candidatePriority('assisted', 65535));
  });
});
