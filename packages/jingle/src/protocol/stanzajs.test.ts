// Wire-level interop with a third-party Jingle implementation: StanzaJS's
// own codecs (npm `stanza`, its JXT registry) write Jingle that ours must
// read, and read the Jingle ours writes. The session-level interop test,
// which needs StanzaJS in a browser, is described in README.md.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Element, parseElement, xml } from '@switchboard/xml';
import { createRequire } from 'node:module';
import { jingleError, parseJingle, writeJingle, type Jingle } from './xep0166.ts';
import { replyWithError } from '@switchboard/protocol';

// StanzaJS is CommonJS; require() gives its exports exactly as it uses them.
const require = createRequire(import.meta.url);
const stanza = require('stanza') as typeof import('stanza');
const registry = new stanza.JXT.Registry();
registry.define((require('stanza/protocol') as { default: Parameters<typeof registry.define>[0] }).default);

/** StanzaJS's JSON for an iq, as it would put it on the wire, read by our parser. */
function fromStanza(json: Record<string, unknown>): Jingle {
  const el = parseElement(registry.export('iq', { type: 'set', to: 'bob@example.org/b', ...json })!.toString());
  assert.ok(el instanceof Element);
  const j = parseJingle(el.getChild('jingle')!);
  assert.ok(j.ok);
  return j.jingle;
}

/** Our iq as StanzaJS reads it (inside a client stream, hence jabber:client). */
function toStanza(iq: Element): Record<string, unknown> {
  return registry.import(stanza.JXT.parse(iq.withAttrs({ xmlns: 'jabber:client' }).toString())) as Record<string, unknown>;
}

const ICE = 'urn:xmpp:jingle:transports:ice-udp:1';
const FT = 'urn:xmpp:jingle:apps:file-transfer:5';

describe('wire interop with StanzaJS codecs', () => {
  it('reads StanzaJS\'s file offer over a data channel (hash-used sha-1, ice-udp, fingerprint, sctpmap)', () => {
    const j = fromStanza({ jingle: { action: 'session-initiate', sid: 's1', initiator: 'alice@example.org/a', contents: [{
      creator: 'initiator', name: '0',
      application: { applicationType: FT, file: { name: 'x.bin', size: 3, date: new Date('2024-01-02T03:04:05Z'), hashesUsed: [{ algorithm: 'sha-1' }] } },
      transport: { transportType: ICE, usernameFragment: 'u', password: 'p', fingerprints: [{ algorithm: 'sha-256', setup: 'actpass', value: 'AA:BB' }], sctp: { port: 5000, protocol: 'webrtc-datachannel' } },
    }] } });
    const c = j.contents[0]!;
    assert.deepEqual(c.description, { kind: 'file-transfer', file: { name: 'x.bin', date: '2024-01-02T03:04:05.000Z', size: 3, hashesUsed: ['sha-1'] } });
    assert.deepEqual(c.transport, { kind: 'ice-udp', ufrag: 'u', pwd: 'p', fingerprints: [{ hash: 'sha-256', setup: 'actpass', value: 'AA:BB' }], sctp: { number: 5000, protocol: 'webrtc-datachannel' } });
  });

  it('reads StanzaJS\'s trickled candidate, end of candidates and checksum', () => {
    const cand = fromStanza({ jingle: { action: 'transport-info', sid: 's1', contents: [{ creator: 'initiator', name: '0', transport: {
      transportType: ICE, usernameFragment: 'u', candidates: [{ component: 1, foundation: '1', ip: '192.0.2.2', port: 5000, priority: 2113937151, protocol: 'udp', type: 'host' }],
    } }] } });
    assert.deepEqual(cand.contents[0]!.transport, { kind: 'ice-udp', ufrag: 'u', candidates: [{ component: 1, foundation: '1', ip: '192.0.2.2', port: 5000, priority: 2113937151, protocol: 'udp', type: 'host' }] });
    const end = fromStanza({ jingle: { action: 'transport-info', sid: 's1', contents: [{ creator: 'initiator', name: '0', transport: { transportType: ICE, usernameFragment: 'u', gatheringComplete: true } }] } });
    assert.equal((end.contents[0]!.transport as { gatheringComplete?: true }).gatheringComplete, true);
    const sum = fromStanza({ jingle: { action: 'session-info', sid: 's1', info: { infoType: `{${FT}}checksum`, creator: 'initiator', name: '0', file: { hashes: [{ algorithm: 'sha-1', value: Buffer.from('0123456789abcdef0123', 'utf8') }] } } } });
    assert.deepEqual(sum.info, { kind: 'checksum', creator: 'initiator', name: '0', file: { hashes: [{ algo: 'sha-1', value: Buffer.from('0123456789abcdef0123').toString('base64') }] } });
  });

  it('reads StanzaJS\'s terminate reasons, and StanzaJS reads ours', () => {
    const t = fromStanza({ jingle: { action: 'session-terminate', sid: 's1', reason: { condition: 'media-error', text: 'bad hash' } } });
    assert.deepEqual(t.reason, { condition: 'media-error', text: 'bad hash' });
    // StanzaJS puts the alternative sid straight into <alternative-session/>; we read that too.
    const alt = fromStanza({ jingle: { action: 'session-terminate', sid: 's1', reason: { condition: 'alternative-session', alternativeSession: 'other' } } });
    assert.deepEqual(alt.reason, { condition: 'alternative-session', alternativeSession: 'other' });
    const ours = xml('iq', { type: 'set', id: '1', to: 'a@b/c' }, writeJingle({ action: 'session-terminate', sid: 's2', contents: [], reason: { condition: 'alternative-session', alternativeSession: 's3', text: 'see s3' } }));
    const theirs = toStanza(ours) as { jingle: { sid: string; reason: { condition: string; text: string; alternativeSession?: string } } };
    assert.equal(theirs.jingle.sid, 's2');
    assert.equal(theirs.jingle.reason.condition, 'alternative-session');
    assert.equal(theirs.jingle.reason.text, 'see s3');
    // …but it does not find the sid where XEP-0166 §7.4 puts it (<sid/>), which is what we write.
    assert.equal(theirs.jingle.reason.alternativeSession, undefined);
  });

  it('StanzaJS reads our file offer (IBB transport, sha-256 hash) and our Jingle errors', () => {
    const offer = xml('iq', { type: 'set', id: '2', to: 'a@b/c' }, writeJingle({ action: 'session-initiate', sid: 's4', initiator: 'alice@example.org/a', contents: [{
      creator: 'initiator', name: 'file', senders: 'initiator',
      description: { kind: 'file-transfer', file: { name: 'y.bin', size: 42, hashes: [{ algo: 'sha-256', value: 'qqqq' }] } },
      transport: { kind: 'ibb', sid: 'ibb1', blockSize: 4096 },
    }] }));
    const read = toStanza(offer) as { jingle: { contents: { application: { file: { name: string; size: number; hashes: { algorithm: string }[] } }; transport: { transportType: string; blockSize: number; sid: string } }[] } };
    const c = read.jingle.contents[0]!;
    assert.equal(c.application.file.name, 'y.bin');
    assert.equal(c.application.file.size, 42);
    assert.equal(c.application.file.hashes[0]!.algorithm, 'sha-256');
    assert.deepEqual([c.transport.transportType, c.transport.blockSize, c.transport.sid], ['urn:xmpp:jingle:transports:ibb:1', 4096, 'ibb1']);
    const error = replyWithError(xml('iq', { type: 'set', id: '3', from: 'a@b/c', to: 'b@b/d' }), jingleError('tie-break'))!;
    const err = toStanza(error) as { error: { condition: string; jingleError: string } };
    assert.equal(err.error.condition, 'conflict');
    assert.equal(err.error.jingleError, 'tie-break');
  });
});
