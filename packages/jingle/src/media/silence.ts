// XEP-0167 §7 mute and hold as a browser does them: the sender of a muted
// content (of every content, on hold) has its track taken off with
// replaceTrack(null) and kept, to be put back when that ends. No
// renegotiation, and the application's tracks are left alone, so a local
// preview keeps running.

export class Silence {
  private held = false;
  private readonly muted = new Set<string>();
  private readonly parked = new Map<RTCRtpSender, MediaStreamTrack>();

  constructor(private readonly pc: RTCPeerConnection) {}

  mute(names: readonly string[]): Promise<void> {
    for (const n of names) this.muted.add(n);
    return this.apply();
  }

  /** Unmutes the named contents, or all of them. */
  unmute(names?: readonly string[]): Promise<void> {
    if (names === undefined) this.muted.clear();
    else for (const n of names) this.muted.delete(n);
    return this.apply();
  }

  hold(on: boolean): Promise<void> {
    this.held = on;
    return this.apply();
  }

  private async apply(): Promise<void> {
    if (this.pc.signalingState === 'closed') return;
    for (const t of this.pc.getTransceivers()) {
      if (t.mid === null || t.currentDirection === 'stopped') continue;
      const quiet = this.held || this.muted.has(t.mid);
      const parked = this.parked.get(t.sender);
      if (quiet && !parked && t.sender.track) {
        this.parked.set(t.sender, t.sender.track);
        await t.sender.replaceTrack(null);
      } else if (!quiet && parked) {
        this.parked.delete(t.sender);
        await t.sender.replaceTrack(parked);
      }
    }
  }
}
