// Test support, run in headless Chromium (bundled by media-session.test.ts):
// two managers, alice and bob, wired back to back in the page by
// test-wire.ts (every iq serialised to XML and parsed again), each with real
// RTCPeerConnections; media from an animated canvas and an oscillator. Each
// scenario is a function on `window.sb` returning plain data for the test
// to assert on.

import { JingleManager } from '../manager.ts';
import { Session } from '../session.ts';
import { actions, wire, type Wire } from '../test-wire.ts';
import type { Content, Reason } from '../protocol/xep0166.ts';
import { registerMedia, type Calls } from './application.ts';
import { MediaSession } from './media-session.ts';

// test-wire delivers on setImmediate, which browsers lack: a MessageChannel turn is the same thing.
const turns: (() => void)[] = [];
const channel = new MessageChannel();
channel.port1.onmessage = () => turns.shift()?.();
(globalThis as unknown as { setImmediate: (fn: () => void) => void }).setImmediate = (fn) => {
  turns.push(fn);
  channel.port2.postMessage(0);
};

const ALICE = 'alice@example.org/browser';
const BOB = 'bob@example.org/browser';

interface Side {
  manager: JingleManager;
  calls: Calls;
}

function pair(): { alice: Side; bob: Side; net: Wire } {
  const side = (selfID: string): Side => {
    const manager = new JingleManager({ selfID });
    // Loopback only: no STUN, host candidates are enough in one page.
    return { manager, calls: registerMedia(manager, { peerConnection: () => new RTCPeerConnection() }) };
  };
  const alice = side(ALICE);
  const bob = side(BOB);
  return { alice, bob, net: wire(alice.manager, bob.manager) };
}

/** Audio from an oscillator and video from a canvas redrawn ten times a second (an unchanged canvas sends no frames). */
function media(colour: string): MediaStream {
  const canvas = document.createElement('canvas');
  canvas.width = 160;
  canvas.height = 120;
  const g = canvas.getContext('2d')!;
  let frame = 0;
  setInterval(() => {
    g.fillStyle = colour;
    g.fillRect(0, 0, 160, 120);
    g.fillStyle = 'white';
    g.fillRect(frame++ % 160, 50, 10, 10);
  }, 100);
  const audio = new AudioContext();
  const osc = audio.createOscillator();
  const dest = audio.createMediaStreamDestination();
  osc.connect(dest);
  osc.start();
  return new MediaStream([dest.stream.getAudioTracks()[0]!, canvas.captureStream(10).getVideoTracks()[0]!]);
}

/** Everything a session reports, as readable lines. */
function record(s: Session): string[] {
  const out: string[] = [];
  s.on('state', ({ to }) => out.push(`state ${to}`));
  s.on('connectionState', ({ to }) => out.push(`connection ${to}`));
  s.on('terminated', ({ reason, by }) => out.push(`terminated ${reason.condition} ${by}`));
  if (s instanceof MediaSession) {
    s.on('info', (i) => out.push(`info ${i.type}${i.name !== undefined ? ` ${i.name}` : ''}`));
    s.on('senders', ({ name, senders, by }) => out.push(`senders ${name} ${senders} ${by}`));
  }
  return out;
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);
}

function connected(s: Session): Promise<void> {
  return within(10_000, `${s.peerID} connected`, new Promise<void>((resolve) => {
    if (s.connected) return resolve();
    const off = s.on('connectionState', ({ to }) => to === 'connected' && (off(), resolve()));
  }));
}

function terminated(s: Session): Promise<Reason> {
  return within(5000, 'terminated', new Promise<Reason>((resolve) => {
    if (s.endReason) return resolve(s.endReason);
    s.on('terminated', ({ reason }) => resolve(reason));
  }));
}

/** packetsReceived of each inbound RTP stream, by kind. */
async function inbound(pc: RTCPeerConnection): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  (await pc.getStats()).forEach((r: { type: string; kind?: string; packetsReceived?: number }) => {
    if (r.type === 'inbound-rtp' && r.kind) out[r.kind] = (out[r.kind] ?? 0) + (r.packetsReceived ?? 0);
  });
  return out;
}

/** Waits until `test` holds for the inbound counts, and returns them. */
async function flowing(pc: RTCPeerConnection, test: (n: Record<string, number>) => boolean): Promise<Record<string, number>> {
  const until = Date.now() + 10_000;
  for (;;) {
    const n = await inbound(pc);
    if (test(n) || Date.now() > until) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function directions(pc: RTCPeerConnection): Record<string, string | null> {
  return Object.fromEntries(pc.getTransceivers().map((t) => [t.receiver.track.kind, t.currentDirection]));
}

function midOf(pc: RTCPeerConnection, kind: string): string {
  return pc.getTransceivers().find((t) => t.receiver.track.kind === kind)!.mid!;
}

let call: { caller: MediaSession; callee: MediaSession; net: Wire; log: { caller: string[]; callee: string[] } } | undefined;

async function placeCall() {
  const { alice, bob, net } = pair();
  const incoming = new Promise<MediaSession>((resolve) => bob.manager.on('incoming', (s) => resolve(s as MediaSession)));
  const caller = await alice.calls.call(BOB, { stream: media('red') });
  const log = { caller: record(caller), callee: [] as string[] };
  const callee = await within(5000, 'incoming', incoming);
  log.callee = record(callee);
  const remoteTracksBeforeAccept = callee.pc.getTransceivers().map((t) => t.receiver.track.kind).sort();
  await callee.ringing();
  await callee.accept(media('blue'));
  await Promise.all([connected(caller), connected(callee)]);
  const both = (n: Record<string, number>) => (n.audio ?? 0) > 0 && (n.video ?? 0) > 0;
  const [callerIn, calleeIn] = await Promise.all([flowing(caller.pc, both), flowing(callee.pc, both)]);
  call = { caller, callee, net, log };
  return {
    log, remoteTracksBeforeAccept, callerIn, calleeIn,
    actions: actions(net.log),
    wire: net.log.map((r) => r.iq.toString()),
    states: [caller.state, callee.state, caller.pc.connectionState, callee.pc.connectionState],
  };
}

async function informational() {
  const { caller, callee, net, log } = call!;
  const audio = midOf(caller.pc, 'audio');
  const sender = () => caller.pc.getTransceivers().find((t) => t.mid === audio)!.sender;
  const answers: boolean[] = [];
  answers.push((await caller.mute(audio)).ok);
  const mutedTrack = sender().track;
  answers.push((await caller.unmute(audio)).ok);
  const unmutedTrack = sender().track?.kind;
  answers.push((await callee.hold()).ok);
  const heldTracks = callee.pc.getSenders().map((s) => s.track);
  answers.push((await callee.unhold()).ok);
  const unheldTracks = callee.pc.getSenders().map((s) => s.track?.kind ?? null).sort();
  // A mute naming a content the session does not have is refused (unknown-content).
  const stray = await caller.send('session-info', { info: { kind: 'rtp-info', type: 'mute', creator: 'initiator', name: 'no-such-content' } });
  await net.settle();
  return {
    audio, answers, mutedTrack, unmutedTrack, heldTracks, unheldTracks,
    stray: stray.ok ? 'ok' : stray.error.application?.name,
    callerLog: log.caller, calleeLog: log.callee,
  };
}

async function modify() {
  const { caller, callee, net, log } = call!;
  const video = midOf(caller.pc, 'video');
  // Only the caller sends video.
  const first = await caller.setSenders(video, 'initiator');
  await net.settle();
  await within(5000, 'callee senders', new Promise<void>((resolve) => {
    if (log.callee.some((l) => l.startsWith('senders'))) return resolve();
    callee.on('senders', () => resolve());
  }));
  const oneWay = { caller: directions(caller.pc), callee: directions(callee.pc), sendersOnCallee: callee.sendersOf(video) };
  // What is in flight lands first; then the callee's video must stop reaching the caller.
  await new Promise((r) => setTimeout(r, 300));
  const quietFrom = (await inbound(caller.pc)).video ?? 0;
  await new Promise((r) => setTimeout(r, 700));
  const quietTo = (await inbound(caller.pc)).video ?? 0;
  const before = (await inbound(callee.pc)).video ?? 0;
  const stillFlowing = await flowing(callee.pc, (n) => (n.video ?? 0) > before);
  // The callee (responder) asks for both ways again.
  const second = await callee.setSenders(video, 'both');
  await net.settle();
  await new Promise((r) => setTimeout(r, 200));
  const twoWay = { caller: directions(caller.pc), callee: directions(callee.pc), sendersOnCaller: caller.sendersOf(video) };
  const backBefore = (await inbound(caller.pc)).video ?? 0;
  const backFlowing = await flowing(caller.pc, (n) => (n.video ?? 0) > backBefore);
  return {
    video, first, second, oneWay, twoWay, quiet: [quietFrom, quietTo], before, after: stillFlowing.video, backBefore, backAfter: backFlowing.video,
    connection: [caller.connectionState, callee.connectionState],
    callerLog: log.caller, calleeLog: log.callee,
  };
}

async function hangUp() {
  const { caller, callee, net, log } = call!;
  const sent = net.log.length;
  caller.hangUp();
  const [mine, theirs] = await Promise.all([terminated(caller), terminated(callee)]);
  await net.settle();
  return {
    mine, theirs, callerLog: log.caller, calleeLog: log.callee,
    actions: actions(net.log.slice(sent)),
    pcs: [caller.pc.signalingState, callee.pc.signalingState],
  };
}

/** An offer a browser cannot take (RTP without DTLS fingerprints) and one over a transport we do not do. */
async function refusals() {
  const out: Record<string, unknown> = {};
  const audio = { kind: 'rtp' as const, media: 'audio', payloadTypes: [{ id: 111, name: 'opus', clockrate: 48000, channels: 2 }] };
  const offers: Record<string, Content> = {
    'no fingerprint': { creator: 'initiator', name: '0', senders: 'both', description: audio, transport: { kind: 'ice-udp', ufrag: 'Fq4M', pwd: 'pqrstuvwxyzabcdefghijk' } },
    'ibb transport': { creator: 'initiator', name: '0', senders: 'both', description: audio, transport: { kind: 'ibb', sid: 'ibb1', blockSize: 4096 } },
  };
  for (const [label, content] of Object.entries(offers)) {
    const { alice, bob, net } = pair();
    let incoming = 0;
    bob.manager.on('incoming', () => incoming++);
    const s = alice.manager.addSession(new Session({ peer: BOB, initiator: true }));
    const log = record(s);
    await s.start([content]);
    const reason = await terminated(s);
    await net.settle();
    out[label] = { reason, incoming, log, actions: actions(net.log) };
  }
  return out;
}

/** Both call each other at once (XEP-0166 §7.2.16): one session survives on both sides, and it connects. */
async function glare() {
  const { alice, bob, net } = pair();
  for (const side of [alice, bob]) side.manager.on('incoming', (s) => void (s as MediaSession).accept(media('green')));
  const [a, b] = await Promise.all([alice.calls.call(BOB, { stream: media('red') }), bob.calls.call(ALICE, { stream: media('blue') })]);
  const loser = await within(5000, 'a tie-break', new Promise<MediaSession>((resolve) => {
    for (const s of [a, b]) if (s.ended) resolve(s); else s.on('terminated', () => resolve(s));
  }));
  await net.settle();
  const liveA = alice.manager.sessionsWith(BOB) as MediaSession[];
  const liveB = bob.manager.sessionsWith(ALICE) as MediaSession[];
  await Promise.all([...liveA, ...liveB].map(connected));
  return {
    sids: [a.sid, b.sid],
    loser: { sid: loser.sid, reason: loser.endReason, pc: loser.pc.signalingState },
    liveA: liveA.map((s) => [s.sid, s.role, s.connectionState]),
    liveB: liveB.map((s) => [s.sid, s.role, s.connectionState]),
    errors: net.log.filter((r) => r.iq.attrs.type === 'error').map((r) => r.iq.toString()),
  };
}

(window as unknown as { sb: unknown }).sb = { placeCall, informational, modify, hangUp, refusals, glare };
