// Round trips on browser SDP: offer → Jingle → XML on the wire → Jingle → SDP
// must say everything the original said that Jingle carries. Lines Jingle
// has no element for are dropped before comparing, each for a stated reason.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Element, parseElement } from '@switchboard/xml';
import { parseJingle, writeJingle } from '../protocol/xep0166.ts';
import { normalise } from './test-normalise.ts';
import { candidateId, iceCandidateToJingle, jingleCandidateToIce, jingleToSdp, sdpToJingle, type JingleMedia, type Role } from './jingle-sdp.ts';

const FIXTURES = new URL('../../fixtures/sdp/', import.meta.url).pathname;
const read = (name: string) => readFileSync(FIXTURES + name, 'utf8');

/** Sends the contents over the wire as session-initiate XML and reads them back. */
function viaWire(media: JingleMedia): JingleMedia {
  const el = parseElement(writeJingle({ action: 'session-initiate', sid: 'x', contents: media.contents, groups: media.groups }).toString());
  assert.ok(el instanceof Element);
  const back = parseJingle(el);
  assert.ok(back.ok);
  return { contents: back.jingle.contents, groups: back.jingle.groups };
}

function roundTrip(file: string, role: Role): void {
  const original = read(file);
  const jingle = sdpToJingle(original, role);
  const wired = viaWire(jingle);
  assert.deepEqual(wired, jingle, 'the Jingle survives the wire unchanged');
  const sdp = jingleToSdp(wired, role);
  assert.deepEqual(normalise(sdp), normalise(original), 'SDP → Jingle → SDP');
  assert.deepEqual(sdpToJingle(sdp, role), jingle, 'Jingle → SDP → Jingle');
}

describe('SDP ↔ Jingle (XEP-0167/0176/0320/0338/0343)', () => {
  // chromium-156-*.sdp were captured from the headless Chromium the browser test drives; the others are written by hand.
  for (const [file, role] of [
    ['chrome-offer.sdp', 'initiator'], ['firefox-offer.sdp', 'initiator'], ['chrome-answer.sdp', 'responder'],
    ['chromium-156-offer.sdp', 'initiator'], ['chromium-156-answer.sdp', 'responder'],
  ] as const) {
    it(`round-trips ${file}`, () => roundTrip(file, role));
  }

  it('maps a Chrome offer: BUNDLE, three contents, codecs, feedback, extmaps, sources, candidates, data channel', () => {
    const j = sdpToJingle(read('chrome-offer.sdp'), 'initiator');
    assert.deepEqual(j.groups, [{ semantics: 'BUNDLE', contents: ['0', '1', '2'] }]);
    assert.deepEqual(j.contents.map((c) => [c.name, c.creator, c.senders, c.description?.kind ?? 'none']), [['0', 'initiator', 'both', 'rtp'], ['1', 'initiator', 'both', 'rtp'], ['2', 'initiator', 'both', 'none']]);
    const [audio, video, data] = j.contents;
    assert.ok(audio?.description?.kind === 'rtp' && video?.description?.kind === 'rtp');
    assert.deepEqual(audio.description.payloadTypes[0], { id: 111, name: 'opus', clockrate: 48000, channels: 2, parameters: [{ name: 'minptime', value: '10' }, { name: 'useinbandfec', value: '1' }], rtcpFeedback: [{ type: 'transport-cc' }] });
    assert.deepEqual(audio.description.payloadTypes[1]?.parameters, [{ name: '111/111' }]);
    assert.equal(audio.description.extmapAllowMixed, true, 'session-level extmap-allow-mixed applies to each RTP content');
    assert.deepEqual(audio.description.msid, { stream: '3Tq4kWBtKcNrWQkR8TZ0ISE6mF3ZaYJ0xRjZ', track: '7d2d8b4e-8f4e-4c7d-9a3e-1f2b3c4d5e6f' });
    assert.deepEqual(video.description.sourceGroups, [{ semantics: 'FID', sources: ['2231627014', '632943048'] }]);
    assert.equal(video.description.payloadTypes.length, 6);
    assert.deepEqual(video.description.payloadTypes[0]?.rtcpFeedback?.at(-1), { type: 'nack', subtype: 'pli' });
    const t = audio.transport;
    assert.ok(t?.kind === 'ice-udp');
    assert.equal(t.ufrag, 'Fq4M');
    assert.deepEqual(t.fingerprints, [{ hash: 'sha-256', setup: 'actpass', value: '7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08' }]);
    assert.deepEqual(t.candidates?.map((c) => [c.type, c.protocol, c.tcptype ?? '-', c.relAddr ?? '-']), [
      ['host', 'udp', '-', '-'], ['host', 'udp', '-', '-'], ['srflx', 'udp', '-', '192.168.1.23'], ['host', 'tcp', 'active', '-'], ['relay', 'udp', '-', '198.51.100.7'],
    ]);
    assert.ok(t.candidates!.every((c) => c.id === candidateId(c) && /^c[0-9a-f]{8}$/.test(c.id!)));
    assert.ok(data?.transport?.kind === 'ice-udp');
    assert.deepEqual(data.transport.sctp, { number: 5000, protocol: 'webrtc-datachannel' });
  });

  it('maps a Firefox offer: session-level fingerprint, extmap directions, upper-case transports', () => {
    const j = sdpToJingle(read('firefox-offer.sdp'), 'initiator');
    for (const c of j.contents) {
      assert.ok(c.transport?.kind === 'ice-udp');
      assert.equal(c.transport.fingerprints?.[0]?.hash, 'sha-256');
      assert.equal(c.transport.fingerprints?.[0]?.setup, 'actpass');
      assert.equal(c.transport.candidates?.[0]?.protocol, 'udp');
    }
    const audio = j.contents[0]!.description;
    assert.ok(audio?.kind === 'rtp');
    // a=extmap:2/recvonly in the initiator's offer: only the responder sends it.
    assert.deepEqual(audio.headerExtensions?.[1], { id: 2, uri: 'urn:ietf:params:rtp-hdrext:csrc-audio-level', senders: 'responder' });
    assert.equal(audio.extmapAllowMixed, undefined);
    assert.deepEqual(audio.payloadTypes.find((p) => p.id === 101)?.parameters, [{ name: '0-15' }]);
  });

  it('reads directions relative to the party whose SDP it is (XEP-0167 §5)', () => {
    const answer = sdpToJingle(read('chrome-answer.sdp'), 'responder');
    assert.deepEqual(answer.contents.map((c) => c.senders), ['responder', 'initiator']);
    const t = answer.contents[0]!.transport;
    assert.ok(t?.kind === 'ice-udp');
    assert.equal(t.fingerprints?.[0]?.setup, 'active');
    // The same Jingle given to the initiator's browser reads from its side: it receives audio, sends video.
    const forInitiator = jingleToSdp(answer, 'responder');
    assert.match(forInitiator, /a=mid:0\r\n(?:a=extmap:[^\r]+\r\n)*a=sendonly/);
    const asOffer = sdpToJingle(read('chrome-answer.sdp'), 'initiator');
    assert.deepEqual(asOffer.contents.map((c) => c.senders), ['initiator', 'responder']);
  });

  it('converts trickled candidates both ways', () => {
    const c = iceCandidateToJingle('candidate:1512470391 1 udp 1686052607 198.51.100.7 54321 typ srflx raddr 192.168.1.23 rport 54321 generation 0 ufrag Fq4M network-id 1');
    assert.deepEqual(c, {
      component: 1, foundation: '1512470391', generation: 0, ip: '198.51.100.7', network: 1, port: 54321, priority: 1686052607,
      protocol: 'udp', relAddr: '192.168.1.23', relPort: 54321, type: 'srflx', id: candidateId(c!),
    });
    assert.equal(jingleCandidateToIce(c!, 'Fq4M'), 'candidate:1512470391 1 udp 1686052607 198.51.100.7 54321 typ srflx raddr 192.168.1.23 rport 54321 generation 0 ufrag Fq4M network-id 1');
    assert.equal(iceCandidateToJingle('candidate:garbage'), undefined);
  });
});
