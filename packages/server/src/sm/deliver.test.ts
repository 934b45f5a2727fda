// RFC 6121 §8.5 rows, one test each, on the pure decision functions.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@switchboard/xml';
import { jid } from '@switchboard/jid';
import { classify, type Classified } from './classify.ts';
import { toBareJid, toFullJid, toMissingAccount, type Delivery } from './deliver.ts';
import { SmSession } from './session.ts';
import { InProcessRouter } from '../router/in-process.ts';

const policy = { chatToAllResources: true };

function session(resource: string, priority: number | undefined): SmSession {
  const s = new SmSession(`sm-${resource}`, `c-${resource}`, new InProcessRouter().routeTo('c2s/1'), jid(`bob@localhost/${resource}`));
  if (priority !== undefined) {
    s.presence = xml('presence');
    s.priority = priority;
  }
  return s;
}

function c(name: string, attrs: Record<string, string>): Classified {
  const r = classify(xml(name, { from: 'alice@localhost/a', id: 'x', ...attrs }, name === 'iq' ? xml('query', { xmlns: 'urn:x' }) : undefined), 'localhost');
  assert.ok(r.ok);
  return r.value;
}

function targets(d: Delivery): string[] {
  assert.equal(d.action, 'deliver');
  return (d as { to: readonly SmSession[] }).to.map((s) => s.resource).sort();
}

describe('RFC 6121 §8.5 delivery', () => {
  const high = session('high', 5);
  const low = session('low', 1);
  const neg = session('neg', -1);
  const unavailable = session('idle', undefined);
  const all = [high, low, neg, unavailable];

  it('§8.5.1: no account — message and iq get service-unavailable, presence is ignored', () => {
    assert.equal((toMissingAccount(c('message', { to: 'x@localhost' })) as { error: { condition: string } }).error.condition, 'service-unavailable');
    assert.equal((toMissingAccount(c('iq', { to: 'x@localhost', type: 'get' })) as { error: { condition: string } }).error.condition, 'service-unavailable');
    assert.equal(toMissingAccount(c('presence', { to: 'x@localhost' })).action, 'ignore');
  });

  it('§8.5.2.1.1: normal message to the bare JID goes to the highest-priority resource only', () => {
    assert.deepEqual(targets(toBareJid(c('message', { to: 'bob@localhost' }), all, policy)), ['high']);
  });

  it('§8.5.2.1.1: chat goes to every non-negative available resource by default', () => {
    assert.deepEqual(targets(toBareJid(c('message', { to: 'bob@localhost', type: 'chat' }), all, policy)), ['high', 'low']);
  });

  it('§8.5.2.1.1: chat goes to the highest only when so configured', () => {
    assert.deepEqual(targets(toBareJid(c('message', { to: 'bob@localhost', type: 'chat' }), all, { chatToAllResources: false })), ['high']);
  });

  it('§8.5.2.1.1: ties of highest priority all get a normal message', () => {
    const twin = session('twin', 5);
    assert.deepEqual(targets(toBareJid(c('message', { to: 'bob@localhost' }), [...all, twin], policy)), ['high', 'twin']);
  });

  it('§8.5.2.1.1: negative-priority resources never get a bare-JID message; only they → as if none available', () => {
    assert.equal(toBareJid(c('message', { to: 'bob@localhost', type: 'chat' }), [neg, unavailable], policy).action, 'offline');
  });

  it('presence error to the bare JID goes to every available resource (the answer to a subscription request sent from it); none: ignored', () => {
    assert.deepEqual(targets(toBareJid(c('presence', { to: 'bob@localhost', type: 'error' }), all, policy)), ['high', 'low', 'neg']);
    assert.equal(toBareJid(c('presence', { to: 'bob@localhost', type: 'error' }), [unavailable], policy).action, 'ignore');
  });

  it('§8.5.2.2: headline with nobody available is ignored; groupchat errors', () => {
    assert.equal(toBareJid(c('message', { to: 'bob@localhost', type: 'headline' }), [unavailable], policy).action, 'ignore');
    assert.equal(toBareJid(c('message', { to: 'bob@localhost', type: 'groupchat' }), all, policy).action, 'error');
  });

  it('§8.5.2.1.2: available/unavailable presence to the bare JID reaches every available resource', () => {
    assert.deepEqual(targets(toBareJid(c('presence', { to: 'bob@localhost' }), all, policy)), ['high', 'low', 'neg']);
  });

  it('§8.5.2.1.3: an iq to the bare JID is the server\'s', () => {
    assert.equal(toBareJid(c('iq', { to: 'bob@localhost', type: 'get' }), all, policy).action, 'server');
  });

  it('§8.5.3.1: to a bound full JID, whatever the priority', () => {
    assert.deepEqual(targets(toFullJid(c('message', { to: 'bob@localhost/neg' }), neg, all, policy)), ['neg']);
  });

  it('§8.5.3.2.1: no such resource — chat/normal as bare, groupchat errors, headline ignored', () => {
    assert.deepEqual(targets(toFullJid(c('message', { to: 'bob@localhost/gone', type: 'chat' }), undefined, all, policy)), ['high', 'low']);
    assert.deepEqual(targets(toFullJid(c('message', { to: 'bob@localhost/gone' }), undefined, all, policy)), ['high']);
    assert.equal(toFullJid(c('message', { to: 'bob@localhost/gone', type: 'groupchat' }), undefined, all, policy).action, 'error');
    assert.equal(toFullJid(c('message', { to: 'bob@localhost/gone', type: 'headline' }), undefined, all, policy).action, 'ignore');
  });

  it('§8.5.3.2.2/3: no such resource — presence ignored, iq service-unavailable', () => {
    assert.equal(toFullJid(c('presence', { to: 'bob@localhost/gone' }), undefined, all, policy).action, 'ignore');
    const d = toFullJid(c('iq', { to: 'bob@localhost/gone', type: 'get' }), undefined, all, policy);
    assert.equal(d.action === 'error' && d.error.condition, 'service-unavailable');
  });

  it('classifies addresses once: self, host, bare, full, remote; refuses bad JIDs and iq without id', () => {
    const cls = (to?: string) => classify(xml('message', to ? { to } : {}), 'localhost');
    assert.deepEqual([cls(), cls('localhost'), cls('b@localhost'), cls('b@localhost/r'), cls('b@example.org')].map((r) => r.ok && r.value.address), ['self', 'host', 'bare', 'full', 'remote']);
    assert.deepEqual(cls('@@'), { ok: false, problem: 'jid-malformed' });
    assert.deepEqual(classify(xml('iq', { type: 'get' }), 'localhost'), { ok: false, problem: 'bad-request' });
  });
});
