// The sm's hook chains: a closed, typed set, after jabberd2's sm (in-sess,
// out-sess, pkt-user, pkt-sm, sess-start, sess-end, user-load, user-delete)
// and fastify's closed hook list. `SmChains` below is the whole list: a
// handler for a name not in it, or of the wrong shape, does not compile.
//
// Packet chains answer with a Verdict (jabberd2's handled / pass / -error):
//   'pass'       the next handler sees the packet
//   'handled'    nobody after sees it (the handler delivered, stored or dropped it)
//   StanzaError  the packet is refused; the dispatcher answers its sender
// Handlers run in numeric priority order, highest first; the core's own
// handlers sit below zero (Prosody's convention), so a module at 0 or above
// sees a packet before the core acts on it. A handler may return a promise;
// the rest of the chain waits for it, and the stanzas of one session pass the
// chain one after the other (the session's SerialQueue), so ordering holds.
// Event chains (sessions and users coming and going) run every handler in
// order; a handler that fails is logged and the others still run, except on
// sessStart and userLoad, whose failure refuses the bind.
//
// docs/sm-chains.md lists every chain, its payload and the priorities in use.

import type { Element } from '@switchboard/xml';
import type { Jid } from '@switchboard/jid';
import type { StanzaError } from '@switchboard/protocol';
import type { EndReason } from '../router/envelope.ts';
import type { Classified } from './classify.ts';
import type { Delivery } from './deliver.ts';
import type { SmSession } from './session.ts';

export type Verdict = 'pass' | 'handled' | StanzaError;

/** A stanza a session sent, classified once, before it is routed (jabberd2 in-sess). */
export interface InSess {
  session: SmSession;
  /** A handler that changes `c.stanza` clears `c.text` (the text is of the stanza as the client sent it). */
  c: Classified;
}

/**
 * A stanza for a local user, bare or full JID, from a session, a component or
 * the server (jabberd2 pkt-user). `delivery` is the RFC 6121 §8.5 decision of
 * deliver.ts; a handler may replace it, and the core carries out what it says.
 */
export interface PktUser {
  c: Classified;
  to: Jid;
  /** The addressed user's bare JID and local part. */
  bare: string;
  username: string;
  /** The addressed user's sessions, connected resources first to last bound. */
  sessions: readonly SmSession[];
  /** The sending session, when a local client sent it. */
  from: SmSession | undefined;
  delivery: Delivery;
}

/** A stanza for the server itself (jabberd2 pkt-sm): its domain, or an iq on the user's account. */
export interface PktSm {
  c: Classified;
  target: 'host' | 'account';
  /** The account addressed (target account). */
  account: string | undefined;
  session: SmSession | undefined;
}

/** A stanza about to go to one session's client (jabberd2 out-sess). Synchronous: every send passes it. */
export interface OutSess {
  session: SmSession;
  stanza: Element;
  /** The stanza as text when it goes out unchanged; a handler that changes `stanza` clears it. */
  text: string | undefined;
}

/** The user's presence is about to go to a contact (RFC 6121 §4.2.2 broadcast, §4.3.2 probe answers). */
export interface PresenceOut {
  username: string;
  /** The contact's bare JID. */
  contact: string;
}

export interface SessionEvent {
  session: SmSession;
  /** sessStart: what the client asked to have on from the start (XEP-0386 inline, e.g. XEP-0280 `<enable/>`). */
  features?: readonly Element[];
  /**
   * sessStart: what modules answer inside XEP-0386's `<bound/>` (XEP-0313 `<metadata/>`), pushed here; it goes back
   * to the c2s with `started`. Only for a Bind 2 start, which asks for it among `features`.
   */
  bound?: Element[];
}

/** The session's own available presence has been processed (broadcast, probes answered). */
export interface SessionAvailable {
  session: SmSession;
  presence: Element;
  /** RFC 6121 §4.2: the first available presence of the session. */
  initial: boolean;
}

export interface SessionEnded {
  session: SmSession;
  reason: EndReason;
  /** The status of the session's last available presence, if any. */
  status: string | undefined;
}

export interface UserEvent {
  username: string;
  /** user@domain */
  bare: string;
}

type Async<T> = T | Promise<T>;

/** Every hook point of the sm and its handler's shape. */
export interface SmChains {
  inSess(p: InSess): Async<Verdict>;
  pktUser(p: PktUser): Async<Verdict>;
  pktSm(p: PktSm): Async<Verdict>;
  outSess(p: OutSess): Verdict;
  /** 'handled' withholds the presence from that contact. */
  presenceOut(p: PresenceOut): Verdict;
  /** Before the session is announced; a failure refuses the bind (its sessEnd still runs). */
  sessStart(p: SessionEvent): Async<void>;
  sessAvailable(p: SessionAvailable): Async<void>;
  /** After the unavailable broadcast, on the session's queue behind its last stanza. */
  sessEnd(p: SessionEnded): Async<void>;
  /** A user with no session is about to get one (may repeat while binds race: keep handlers idempotent). */
  userLoad(p: UserEvent): Async<void>;
  /** `sm:sessions create`: the account was just created. */
  userCreate(p: UserEvent): Async<void>;
  /** The account and its stored data are gone; its sessions have ended. */
  userDelete(p: UserEvent): Async<void>;
}

export type ChainName = keyof SmChains;
export type Payload<K extends ChainName> = Parameters<SmChains[K]>[0];
type PacketChain = 'inSess' | 'pktUser' | 'pktSm';
type SyncChain = 'outSess' | 'presenceOut';
type EventChain = Exclude<ChainName, PacketChain | SyncChain>;

/** The core's handlers sit below zero; modules at zero and above intercept before it. */
export const CORE_PRIORITY = -100;

interface Entry {
  priority: number;
  order: number;
  handler: (p: never) => unknown;
}

export class Chains {
  private readonly entries = new Map<ChainName, Entry[]>();
  /** Per chain, the handlers in running order (rebuilt on registration, read on every packet). */
  private readonly running = new Map<ChainName, ((p: unknown) => unknown)[]>();
  private order = 0;

  /** Adds a handler; returns the function that removes it again. */
  hook<K extends ChainName>(name: K, handler: SmChains[K], priority = 0): () => void {
    const entry: Entry = { priority, order: this.order++, handler: handler as (p: never) => unknown };
    const list = [...(this.entries.get(name) ?? []), entry].sort((a, b) => b.priority - a.priority || a.order - b.order);
    this.entries.set(name, list);
    this.rebuild(name);
    return () => {
      this.entries.set(name, (this.entries.get(name) ?? []).filter((e) => e !== entry));
      this.rebuild(name);
    };
  }

  has(name: ChainName): boolean {
    return (this.running.get(name)?.length ?? 0) > 0;
  }

  /** Runs a packet chain; synchronous while every handler is. */
  run<K extends PacketChain>(name: K, payload: Payload<K>): Async<Verdict> {
    return this.runFrom(this.running.get(name) ?? [], 0, payload);
  }

  private runFrom(handlers: readonly ((p: unknown) => unknown)[], start: number, payload: unknown): Async<Verdict> {
    for (let i = start; i < handlers.length; i++) {
      const result = handlers[i]!(payload) as Async<Verdict>;
      if (result === 'pass') continue;
      if (result instanceof Promise) return result.then((v) => (v === 'pass' ? this.runFrom(handlers, i + 1, payload) : v));
      return result;
    }
    return 'pass';
  }

  /** Runs a synchronous chain. */
  runSync<K extends SyncChain>(name: K, payload: Payload<K>): Verdict {
    const handlers = this.running.get(name);
    if (handlers === undefined) return 'pass';
    for (const handler of handlers) {
      const result = handler(payload) as Verdict;
      if (result !== 'pass') return result;
    }
    return 'pass';
  }

  /** Runs an event chain: every handler, in order; a failing one is logged and the rest still run. */
  async emit<K extends EventChain>(name: K, payload: Payload<K>): Promise<void> {
    for (const handler of this.running.get(name) ?? []) {
      try {
        await handler(payload);
      } catch (err) {
        console.error(`switchboard: sm ${name} handler failed`, err);
      }
    }
  }

  /** Runs an event chain whose failure refuses what it announces (sessStart, userLoad): the first failure is thrown. */
  async emitStrict<K extends 'sessStart' | 'userLoad'>(name: K, payload: Payload<K>): Promise<void> {
    for (const handler of this.running.get(name) ?? []) await handler(payload);
  }

  private rebuild(name: ChainName): void {
    const list = this.entries.get(name) ?? [];
    if (list.length === 0) this.running.delete(name);
    else this.running.set(name, list.map((e) => e.handler as (p: unknown) => unknown));
  }
}
