// The sm's session model, as Prosody's: who the session is, what it last
// broadcast, and whether it asked for the roster. One session per bound
// full JID; it lives from `sm:session start` to its single destroy.

import type { Element } from '@switchboard/xml';
import type { Jid } from '@switchboard/jid';
import type { ComponentAddress, Route } from '../router/router.ts';
import type { LoadedRoster } from './roster.ts';
import { SerialQueue } from './serial-queue.ts';
import type { ResumeCopy } from './resume-copy.ts';

export class SmSession {
  /** Prosody's session type; a session reaches the sm only once authenticated and bound. */
  readonly type = 'c2s' as const;
  readonly username: string;
  readonly host: string;
  readonly resource: string;
  readonly bareJid: string;
  /** Prosody's runner: the session's stanzas and its ending run in the order they came. */
  readonly queue = new SerialQueue();
  /** RFC 6121 §4.7.2.3: the priority of the last available presence; 0 until one is sent. */
  priority = 0;
  /** The last available presence the client broadcast; undefined while unavailable. */
  presence: Element | undefined;
  /** RFC 6121 §4.6: where this session sent directed presence (they get its unavailable). */
  readonly directedTo = new Set<string>();
  /** RFC 6121 §2.1.6: requested the roster, so it gets roster pushes. */
  interested = false;
  /** XEP-0191: asked for the block list, so it gets block list pushes. */
  blocklistRequested = false;
  /** The user's roster, loaded at bind and shared by all the user's sessions. */
  roster: LoadedRoster | undefined;
  ended = false;
  /** XEP-0198: the sm's copy of what it sent, while the client may resume through any c2s (resume-copy.ts). */
  resume: ResumeCopy | undefined;
  /** `<c2s address> <c2s id>` of the streams this session was resumed away from: their notices are stale. */
  former: Set<string> | undefined;

  constructor(
    readonly smId: string,
    /** The c2s's id for the stream; changes when the session is resumed through another c2s. */
    public c2sId: string,
    /** The way to the c2s component that holds the client's stream (changes with c2sId). */
    public c2s: Route,
    readonly jid: Jid,
  ) {
    this.username = jid.local!;
    this.host = jid.domain;
    this.resource = jid.resource!;
    this.bareJid = `${this.username}@${this.host}`;
  }

  /** The c2s component that holds the client's stream. */
  get c2sAddress(): ComponentAddress {
    return this.c2s.to;
  }

  /** Bound to a resource (every sm session is). */
  get connected(): boolean {
    return !this.ended;
  }

  /** RFC 6121 §1.5: has sent initial presence and not yet unavailable. */
  get available(): boolean {
    return !this.ended && this.presence !== undefined;
  }

  get fullJid(): string {
    return this.jid.toString();
  }
}
