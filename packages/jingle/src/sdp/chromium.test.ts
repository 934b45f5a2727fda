// The SDP ↔ Jingle mapping against a real browser: headless Chromium makes an
// offer with audio, video and a data channel; it goes to Jingle, onto the wire
// as XML and back to SDP for a second peer connection, whose answer takes the
// same way back. The two connections must connect and pass a message over the
// data channel — nothing a browser needs may be lost in Jingle.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '@switchboard/testkit';
import { Element, parseElement } from '@switchboard/xml';
import { parseJingle, writeJingle } from '../protocol/xep0166.ts';
import { jingleToSdp, sdpToJingle, type JingleMedia, type Role } from './jingle-sdp.ts';
import { normalise } from './test-normalise.ts';

function overTheWire(media: JingleMedia, action: 'session-initiate' | 'session-accept'): JingleMedia {
  const el = parseElement(writeJingle({ action, sid: 'chromium', contents: media.contents, groups: media.groups }).toString());
  assert.ok(el instanceof Element);
  const j = parseJingle(el);
  assert.ok(j.ok);
  return { contents: j.jingle.contents, groups: j.jingle.groups };
}

function relay(sdp: string, role: Role, action: 'session-initiate' | 'session-accept'): { sdp: string; jingle: JingleMedia } {
  const jingle = overTheWire(sdpToJingle(sdp, role), action);
  return { sdp: jingleToSdp(jingle, role), jingle };
}

const PAGE = `
const gathered = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
});
const canvas = document.createElement('canvas');
canvas.getContext('2d').fillRect(0, 0, 10, 10);
const video = canvas.captureStream(10).getVideoTracks()[0];
const audioCtx = new AudioContext();
const osc = audioCtx.createOscillator();
const dest = audioCtx.createMediaStreamDestination();
osc.connect(dest);
osc.start();
const stream = new MediaStream([dest.stream.getAudioTracks()[0], video]);
const pc1 = new RTCPeerConnection();
const pc2 = new RTCPeerConnection();
stream.getTracks().forEach((t) => pc1.addTrack(t, stream));
const channel = pc1.createDataChannel('jingle');
window.offer = async () => {
  await pc1.setLocalDescription(await pc1.createOffer());
  await gathered(pc1);
  return pc1.localDescription.sdp;
};
window.answer = async (sdp) => {
  await pc2.setRemoteDescription({ type: 'offer', sdp });
  await pc2.setLocalDescription(await pc2.createAnswer());
  await gathered(pc2);
  return pc2.localDescription.sdp;
};
// pc2 reports tracks while it takes the offer, and the channel once connected: listen from the start.
const received = new Promise((resolve) => {
  pc2.addEventListener('datachannel', (e) => e.channel.addEventListener('message', (m) => resolve(String(m.data))));
});
const kinds = [];
const tracks = new Promise((resolve) => {
  pc2.addEventListener('track', (e) => { kinds.push(e.track.kind); if (kinds.length === 2) resolve(kinds.sort()); });
});
window.finish = async (sdp) => {
  await pc1.setRemoteDescription({ type: 'answer', sdp });
  if (channel.readyState !== 'open') await new Promise((r) => channel.addEventListener('open', r, { once: true }));
  channel.send('hello over jingle');
  return { message: await received, tracks: await tracks, dtls: pc1.getSenders()[0].transport.state };
};
`;

describe('SDP ↔ Jingle with a real RTCPeerConnection (headless Chromium)', () => {
  let browser: Browser;
  let page: Page;

  before(async () => {
    // Plain host addresses instead of mDNS names, which need multicast the test machine may not have.
    browser = await launchChromium(['--disable-features=WebRtcHideLocalIpsWithMdns']);
    page = await browser.newPage();
    await page.setContent('<!doctype html><title>jingle sdp</title>');
    // Plain JavaScript, not a function: the test's TypeScript compiler decorates functions with helpers the page lacks.
    await page.addScriptTag({ content: PAGE });
  });

  after(async () => {
    await browser?.close();
  });

  it('connects two peer connections through Jingle XML both ways', async () => {
    const offer = (await page.evaluate('window.offer()')) as string;
    assert.match(offer, /m=audio[\s\S]*m=video[\s\S]*m=application/);
    const toResponder = relay(offer, 'initiator', 'session-initiate');
    assert.deepEqual(normalise(toResponder.sdp), normalise(offer), 'this Chromium\'s own offer survives the round trip');
    assert.deepEqual(toResponder.jingle.groups?.[0]?.semantics, 'BUNDLE');
    assert.equal(toResponder.jingle.contents.length, 3);
    assert.ok(toResponder.jingle.contents.every((c) => c.transport?.kind === 'ice-udp' && (c.transport.candidates?.length ?? 0) > 0), 'gathered candidates travel in the contents');
    const answer = (await page.evaluate(`window.answer(${JSON.stringify(toResponder.sdp)})`)) as string;
    const toInitiator = relay(answer, 'responder', 'session-accept');
    assert.deepEqual(normalise(toInitiator.sdp), normalise(answer), 'and so does its answer');
    const result = (await page.evaluate(`window.finish(${JSON.stringify(toInitiator.sdp)})`)) as { message: string; tracks: string[]; dtls: string };
    assert.equal(result.message, 'hello over jingle');
    assert.deepEqual(result.tracks, ['audio', 'video']);
    assert.equal(result.dtls, 'connected');
  });
});
