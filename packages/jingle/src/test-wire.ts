// Test support: two managers wired back to back in memory, the way a server
// would connect them. Every iq is stamped with its sender's JID, serialised
// and parsed again (so only what survives the wire arrives), and delivered
// on a later turn of the event loop in order, per direction.

import { Element, parseElement, xml } from '@switchboard/xml';
import { Session, type Done } from './session.ts';
import type { IncomingInit, JingleManager } from './manager.ts';
import type { Content, Jingle, JingleAction } from './protocol/xep0166.ts';

export interface WireRecord {
  readonly from: string;
  readonly to: string;
  readonly iq: Element;
}

export interface Wire {
  readonly log: WireRecord[];
  /** Resolves once nothing is in flight and nothing new was sent for a few turns. */
  settle(): Promise<void>;
  /** Stops delivering (to simulate a peer whose stanzas go nowhere). */
  cut(): void;
}

export function wire(a: JingleManager, b: JingleManager): Wire {
  const log: WireRecord[] = [];
  let inFlight = 0;
  let cut = false;
  const connect = (src: JingleManager, dst: JingleManager) => {
    src.on('send', (iq) => {
      const from = src.selfID!;
      // Addressed to someone not on this wire (a third party in a test): it goes nowhere.
      if (iq.attrs.to !== dst.selfID) return;
      const text = iq.withAttrs({ from }).toString();
      const parsed = parseElement(text);
      if (!(parsed instanceof Element)) throw new Error(`test wire: unparsable ${text}`);
      log.push({ from, to: iq.attrs.to!, iq: parsed });
      inFlight++;
      setImmediate(() => {
        inFlight--;
        if (!cut) dst.process(parsed);
      });
    });
  };
  connect(a, b);
  connect(b, a);
  return {
    log,
    cut: () => { cut = true; },
    async settle() {
      let quiet = 0;
      while (quiet < 5) {
        const before = log.length;
        await new Promise((r) => setImmediate(r));
        quiet = inFlight === 0 && log.length === before ? quiet + 1 : 0;
      }
    },
  };
}

/** The jingle actions in a log, as `from→to action` lines, for readable assertions. */
export function actions(log: readonly WireRecord[]): string[] {
  return log.flatMap((r) => {
    const j = r.iq.getChild('jingle');
    const who = (jid: string) => jid.split('@')[0];
    if (j) return [`${who(r.from)} ${j.attrs.action}`];
    if (r.iq.attrs.type === 'result' || r.iq.attrs.type === 'error') return [`${who(r.from)} ${r.iq.attrs.type}`];
    return [];
  });
}

export const NS_STUB = 'urn:example:jingle:stub:0';
export const NS_STUB_TRANSPORT = 'urn:example:jingle:stub-transport:0';

export function stubContent(name = 'stub', creator: Content['creator'] = 'initiator'): Content {
  return {
    creator, name,
    description: { kind: 'unknown', xmlns: NS_STUB, element: xml('description', { xmlns: NS_STUB }) },
    transport: { kind: 'unknown', xmlns: NS_STUB_TRANSPORT, element: xml('transport', { xmlns: NS_STUB_TRANSPORT }) },
  };
}

/**
 * A minimal application: accepts, takes content-add (answering
 * content-accept), records what it handled, and can be told to be slow on
 * transport-info so the queue's ordering shows.
 */
export class StubSession extends Session {
  readonly handled: string[] = [];
  readonly lost: JingleAction[] = [];
  slowMs = 0;
  running = 0;
  maxRunning = 0;

  override start(contents: readonly Content[] = [stubContent()]): Promise<void> {
    return super.start(contents);
  }

  override accept(): Promise<void> {
    return this.runLocal(() => {
      this.setState('active');
      void this.send('session-accept', { contents: [stubContent()] });
    });
  }

  addContent(name: string): void {
    void this.send('content-add', { contents: [stubContent(name, this.role)] });
  }

  protected override onContentAdd(data: Jingle, done: Done): void {
    this.handled.push(`content-add ${data.contents[0]?.name}`);
    done();
    void this.send('content-accept', { contents: data.contents });
  }

  protected override onContentAccept(data: Jingle, done: Done): void {
    this.handled.push(`content-accept ${data.contents[0]?.name}`);
    done();
  }

  protected override async onTransportInfo(data: Jingle, done: Done): Promise<void> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const n = data.contents[0]?.name ?? '';
    if (this.slowMs > 0 && n === 'first') await new Promise((r) => setTimeout(r, this.slowMs));
    this.handled.push(`transport-info ${n}`);
    this.running--;
    done();
  }

  protected override onTieBreakLost(action: JingleAction): void {
    this.lost.push(action);
  }
}

export const stubApplication = {
  namespace: NS_STUB,
  features: [NS_STUB],
  create: (init: IncomingInit) => new StubSession(init),
};
