// XEP-0352 Client State Indication: while the client says it is inactive
// (a phone in a pocket), what it need not see at once waits in the c2s, which
// owns the stream's output (as Prosody's mod_csi_simple does):
//
//   held     presence updates (available, unavailable; only the newest per
//            sender is kept) and messages without a body that carry chat
//            states (XEP-0085), also inside a carbon
//   at once  everything else. Iqs (pings, call set-up, queries) go alone:
//            a request or its answer does not depend on presence or typing.
//            Messages with a body or a subject, errors and subscription
//            requests take the held stanzas with them, before them and in
//            their order, so nothing is overtaken (a stale "composing" after
//            the message it announced, a room's presence after its messages).
//
// `active` flushes in order. The queue is bounded (policy.csiQueueSize): at
// the bound it is flushed, as when something urgent comes. A held stanza is
// written (and counted for XEP-0198) only when it goes out; if the stream
// hibernates or is taken over, the held ones join the XEP-0198 queue.

import type { Element } from '@switchboard/xml';

export const NS_CSI = 'urn:xmpp:csi:0';
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';

export interface Outgoing {
  stanza: Element;
  text: string | undefined;
  /** Its number in the sm's resumption copy (Envelope.seq). */
  seq: number | undefined;
}

export class ClientState {
  private inactive = false;
  /** Held stanzas in arrival order; a superseded presence is left as undefined. */
  private held: (Outgoing | undefined)[] = [];
  /** Sender → index in `held` of its held presence. */
  private presenceAt = new Map<string, number>();
  private count = 0;

  constructor(
    private readonly maxHeld: number,
    /** A held presence superseded by a newer one: it never goes out. */
    private readonly superseded: (dropped: Outgoing) => void = () => {},
  ) {}

  get isInactive(): boolean {
    return this.inactive;
  }

  /** The client's <active/> or <inactive/>; returns what must go out now (in order). */
  set(inactive: boolean): Outgoing[] {
    this.inactive = inactive;
    return inactive ? [] : this.drain();
  }

  /**
   * A stanza for the client. Returns what to write now, in order: nothing
   * (held), the stanza alone, or the held ones followed by it.
   */
  offer(stanza: Element, text: string | undefined, seq?: number): Outgoing[] | undefined {
    if (!this.inactive || stanza.name === 'iq') return undefined; // the common path: written as it comes
    if (!holdable(stanza)) return this.count === 0 ? undefined : [...this.drain(), { stanza, text, seq }];
    if (stanza.name === 'presence') {
      const from = stanza.attrs.from ?? '';
      const at = this.presenceAt.get(from);
      if (at !== undefined) {
        // Only the newest presence of a sender matters.
        const old = this.held[at];
        if (old) this.superseded(old);
        this.held[at] = undefined;
        this.count--;
      }
      this.presenceAt.set(from, this.held.length);
    }
    this.held.push({ stanza, text, seq });
    this.count++;
    return this.count >= this.maxHeld ? this.drain() : [];
  }

  /** Everything held, in order, and the queue emptied. */
  drain(): Outgoing[] {
    const out: Outgoing[] = [];
    for (const item of this.held) if (item !== undefined) out.push(item);
    this.held = [];
    this.presenceAt.clear();
    this.count = 0;
    return out;
  }
}

function holdable(stanza: Element): boolean {
  const type = stanza.attrs.type;
  if (stanza.name === 'presence') return type === undefined || type === 'unavailable';
  if (stanza.name !== 'message' || type === 'error') return false;
  return chatStateOnly(stanza);
}

/** A message that only says someone is typing (or stopped): no body, no subject, a chat state; or a carbon of one. */
function chatStateOnly(message: Element): boolean {
  let state = false;
  for (const child of message.children) {
    if (typeof child === 'string') continue;
    const ns = child.attrs.xmlns;
    if (child.name === 'body' || child.name === 'subject') return false;
    if (ns === NS_CHATSTATES) state = true;
    else if (ns === NS_CARBONS && (child.name === 'received' || child.name === 'sent')) {
      const inner = child.getChild('forwarded', NS_FORWARD)?.getChild('message');
      return inner !== undefined && chatStateOnly(inner);
    }
  }
  return state;
}
