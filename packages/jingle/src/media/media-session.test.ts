// MediaSession against real browsers: test-call-page.ts is bundled for the
// browser and run in headless Chromium, where two MediaSessions (alice calls
// bob) signal through the test wire as XML and two RTCPeerConnections carry
// audio (an oscillator) and video (a canvas). Each case asserts on what the
// page reports: states, the Jingle on the wire, and getStats() counters.
// Firefox is not installed here, so only Chromium's side is exercised live;
// Firefox's offer shape is covered by the SDP fixtures (sdp/sdp.test.ts).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '@switchboard/testkit';
import { Element, parseElement } from '@switchboard/xml';
import { parseJingle, type Jingle } from '../protocol/xep0166.ts';
import { NS_JINGLE } from '../namespaces.ts';

type Counts = Record<string, number>;

function jingleOf(text: string): Jingle | undefined {
  const el = parseElement(text);
  assert.ok(el instanceof Element);
  const j = el.getChild('jingle', NS_JINGLE);
  if (!j) return undefined;
  const parsed = parseJingle(j);
  assert.ok(parsed.ok);
  return parsed.jingle;
}

describe('MediaSession: XEP-0167 calls between two RTCPeerConnections (headless Chromium)', { timeout: 90_000 }, () => {
  let browser: Browser;
  let page: Page;
  const run = async <T>(scenario: string): Promise<T> => (await page.evaluate(`window.sb.${scenario}()`)) as T;

  before(async () => {
    const bundle = await build({
      entryPoints: [new URL('./test-call-page.ts', import.meta.url).pathname],
      bundle: true, format: 'iife', platform: 'browser', write: false, logLevel: 'silent',
    });
    browser = await launchChromium(['--disable-features=WebRtcHideLocalIpsWithMdns', '--autoplay-policy=no-user-gesture-required']);
    page = await browser.newPage();
    page.on('pageerror', (err) => console.error('page error:', err));
    // A secure context (http://localhost is one; about:blank is not), as RTCPeerConnection with real media expects.
    await page.route('http://localhost/', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>jingle calls</title>' }));
    await page.goto('http://localhost/');
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  });

  after(async () => {
    await browser?.close();
  });

  it('calls: offer → session-initiate, ringing, answer → session-accept, trickled candidates, both connected, media flows both ways', async () => {
    const r = await run<{
      log: { caller: string[]; callee: string[] }; remoteTracksBeforeAccept: string[]; callerIn: Counts; calleeIn: Counts;
      actions: string[]; wire: string[]; states: string[];
    }>('placeCall');
    assert.deepEqual(r.states, ['active', 'active', 'connected', 'connected']);
    assert.ok(r.callerIn.audio! > 0 && r.callerIn.video! > 0, `caller receives audio and video: ${JSON.stringify(r.callerIn)}`);
    assert.ok(r.calleeIn.audio! > 0 && r.calleeIn.video! > 0, `callee receives audio and video: ${JSON.stringify(r.calleeIn)}`);
    assert.deepEqual(r.remoteTracksBeforeAccept, ['audio', 'video'], 'the offer is in the browser before the application answers');
    assert.deepEqual(r.log.caller.filter((l) => !l.startsWith('connection')), ['info ringing', 'state active'], 'pending before call() resolved');
    assert.deepEqual(r.log.callee.filter((l) => !l.startsWith('connection')), ['state active']);
    for (const log of [r.log.caller, r.log.callee]) assert.deepEqual(log.filter((l) => l.startsWith('connection')).at(-1), 'connection connected');
    // The wire: initiate acked, ringing, accept, and every candidate in the offer/answer or in a transport-info of its own.
    assert.deepEqual(r.actions.slice(0, 2), ['alice session-initiate', 'bob result']);
    const order = r.actions.filter((a) => !a.endsWith('result') && !a.endsWith('transport-info'));
    assert.deepEqual(order, ['alice session-initiate', 'bob session-info', 'bob session-accept']);
    assert.ok(!r.actions.some((a) => a.endsWith('error')), r.actions.join(', '));
    const jingles = r.wire.map(jingleOf).filter((j) => j !== undefined);
    const initiate = jingles[0]!;
    assert.equal(initiate.action, 'session-initiate');
    assert.deepEqual(initiate.groups?.[0]?.semantics, 'BUNDLE');
    assert.deepEqual(initiate.contents.map((c) => c.description?.kind === 'rtp' && c.description.media), ['audio', 'video']);
    for (const c of initiate.contents) {
      assert.ok(c.transport?.kind === 'ice-udp');
      assert.equal(c.transport.fingerprints?.[0]?.setup, 'actpass', 'XEP-0320 fingerprint with the DTLS role');
    }
    const accept = jingles.find((j) => j.action === 'session-accept')!;
    assert.ok(accept.contents.every((c) => c.transport?.kind === 'ice-udp' && c.transport.fingerprints?.[0]?.setup === 'active'));
    assert.equal(jingles.find((j) => j.action === 'session-info')?.info?.kind, 'rtp-info');
    const candidatesFrom = (who: 'session-initiate' | 'session-accept', from: string) => {
      const own = jingles.find((j) => j.action === who)!;
      const inline = own.contents.flatMap((c) => (c.transport?.kind === 'ice-udp' ? (c.transport.candidates ?? []) : []));
      const trickled = r.wire.filter((x) => x.includes(`from="${from}`)).map(jingleOf)
        .filter((j) => j?.action === 'transport-info').flatMap((j) => j!.contents.flatMap((c) => (c.transport?.kind === 'ice-udp' ? (c.transport.candidates ?? []) : [])));
      return [...inline, ...trickled];
    };
    for (const [who, from] of [['session-initiate', 'alice'], ['session-accept', 'bob']] as const) {
      const all = candidatesFrom(who, from);
      assert.ok(all.length > 0, `${from} sends candidates`);
      assert.equal(new Set(all.map((c) => c.id)).size, all.length, `${from} sends each candidate once`);
    }
  });

  it('session-info: mute/unmute a content and hold/unhold, each acknowledged, reported to the peer, and applied to the senders', async () => {
    const r = await run<{
      audio: string; answers: boolean[]; mutedTrack: unknown; unmutedTrack: string; heldTracks: unknown[]; unheldTracks: string[]; stray: string;
      callerLog: string[]; calleeLog: string[];
    }>('informational');
    assert.deepEqual(r.answers, [true, true, true, true]);
    assert.equal(r.mutedTrack, null, 'a muted content sends nothing');
    assert.equal(r.unmutedTrack, 'audio', 'and gets its track back');
    assert.deepEqual(r.heldTracks, [null, null], 'on hold nothing is sent');
    assert.deepEqual(r.unheldTracks, ['audio', 'video']);
    assert.deepEqual(r.calleeLog.filter((l) => l.startsWith('info')), [`info mute ${r.audio}`, `info unmute ${r.audio}`]);
    assert.deepEqual(r.callerLog.filter((l) => l.startsWith('info')), ['info ringing', 'info hold', 'info unhold']);
    assert.equal(r.stray, 'unknown-content');
  });

  it('content-modify: senders change (initiator and responder asking), both browsers renegotiate, media keeps flowing', async () => {
    const r = await run<{
      video: string; first: boolean; second: boolean; quiet: [number, number]; before: number; after: number; backBefore: number; backAfter: number;
      oneWay: { caller: Record<string, string>; callee: Record<string, string>; sendersOnCallee: string };
      twoWay: { caller: Record<string, string>; callee: Record<string, string>; sendersOnCaller: string };
      connection: string[]; callerLog: string[]; calleeLog: string[];
    }>('modify');
    assert.equal(r.first, true);
    assert.equal(r.oneWay.sendersOnCallee, 'initiator');
    assert.deepEqual([r.oneWay.caller.video, r.oneWay.callee.video], ['sendonly', 'recvonly']);
    assert.deepEqual([r.oneWay.caller.audio, r.oneWay.callee.audio], ['sendrecv', 'sendrecv'], 'the other content is untouched');
    assert.equal(r.quiet[1], r.quiet[0], 'the callee sends no video while only the caller may');
    assert.ok(r.after > r.before, `caller's video still reaches the callee (${r.before} → ${r.after})`);
    assert.equal(r.second, true);
    assert.equal(r.twoWay.sendersOnCaller, 'both');
    assert.deepEqual([r.twoWay.caller.video, r.twoWay.callee.video], ['sendrecv', 'sendrecv']);
    assert.ok(r.backAfter > r.backBefore, `callee's video flows again (${r.backBefore} → ${r.backAfter})`);
    assert.deepEqual(r.connection, ['connected', 'connected']);
    assert.deepEqual(r.callerLog.filter((l) => l.startsWith('senders')), [`senders ${r.video} initiator local`, `senders ${r.video} both peer`]);
    assert.deepEqual(r.calleeLog.filter((l) => l.startsWith('senders')), [`senders ${r.video} initiator peer`, `senders ${r.video} both local`]);
  });

  it('hang-up: session-terminate with success, seen by both, peer connections closed', async () => {
    const r = await run<{ mine: { condition: string }; theirs: { condition: string }; callerLog: string[]; calleeLog: string[]; actions: string[]; pcs: string[] }>('hangUp');
    assert.deepEqual(r.mine, { condition: 'success' });
    assert.deepEqual(r.theirs, { condition: 'success' });
    assert.equal(r.callerLog.at(-1), 'terminated success local');
    assert.equal(r.calleeLog.at(-1), 'terminated success peer');
    assert.deepEqual(r.actions, ['alice session-terminate', 'bob result']);
    assert.deepEqual(r.pcs, ['closed', 'closed']);
  });

  it('refuses what a browser cannot take: acknowledged, then terminated with media-error or unsupported-transports', async () => {
    const r = await run<Record<string, { reason: { condition: string; text?: string }; incoming: number; log: string[]; actions: string[] }>>('refusals');
    const noFingerprint = r['no fingerprint']!;
    assert.equal(noFingerprint.reason.condition, 'media-error');
    assert.ok(noFingerprint.reason.text, 'with the browser\'s reason as text');
    const ibb = r['ibb transport']!;
    assert.equal(ibb.reason.condition, 'unsupported-transports');
    for (const x of [noFingerprint, ibb]) {
      assert.equal(x.incoming, 0, 'never offered to the application');
      assert.deepEqual(x.actions, ['alice session-initiate', 'bob result', 'bob session-terminate', 'alice result']);
      assert.equal(x.log.at(-1), `terminated ${x.reason.condition} peer`);
    }
  });

  it('both call each other at once: the lower sid wins on both sides and that call connects (XEP-0166 §7.2.16)', async () => {
    const r = await run<{
      sids: string[]; loser: { sid: string; reason: { condition: string; alternativeSession?: string }; pc: string };
      liveA: [string, string, string][]; liveB: [string, string, string][]; errors: string[];
    }>('glare');
    const winner = [...r.sids].sort()[0]!;
    assert.notEqual(r.loser.sid, winner);
    assert.deepEqual(r.loser.reason, { condition: 'alternative-session', alternativeSession: winner });
    assert.equal(r.loser.pc, 'closed');
    assert.equal(r.liveA.length, 1);
    assert.equal(r.liveB.length, 1);
    assert.equal(r.liveA[0]![0], winner);
    assert.equal(r.liveB[0]![0], winner);
    assert.notEqual(r.liveA[0]![1], r.liveB[0]![1], 'one initiator, one responder');
    assert.deepEqual([r.liveA[0]![2], r.liveB[0]![2]], ['connected', 'connected']);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!, /<tie-break xmlns="urn:xmpp:jingle:errors:1"\/>/);
  });
});
