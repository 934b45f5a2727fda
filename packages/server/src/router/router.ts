// The router joins c2s, sm and service components. It carries envelopes
// between addresses and knows nothing of XMPP beyond that; the in-process
// router hands envelopes over by direct call, NATS (nats.ts) carries their
// wire form. It also knows who is alive (liveness.ts, docs/protocol.md
// "Liveness"): every component announces itself with an epoch when it is
// attached and says goodbye when it is detached, and one that vanishes is
// reported dead within a bounded time.

import type { Envelope } from './envelope.ts';

/** A component's address on the router: `sm`, `c2s/<node>` for one connection manager, `component/<domain>` for a service. */
export type ComponentAddress = string;

export type EnvelopeHandler = (envelope: Envelope) => void;

/**
 * Why the router could not hand an envelope over: no component is attached
 * at its address (`no-component`), the router has no connection to the
 * others (`disconnected`), or it was written out but the connection failed
 * before the NATS server confirmed it (`unconfirmed`: it may have arrived).
 */
export type UndeliverableReason = 'no-component' | 'disconnected' | 'unconfirmed';

/** Told of an envelope its component sent that the router could not hand over; the sender decides what happens to it. */
export type UndeliverableHandler = (envelope: Envelope, reason: UndeliverableReason) => void;

export interface AttachOptions {
  /**
   * Envelopes this component sent (their `from` is its address) that could
   * not be handed over come back here, never dropped silently: the sender
   * stores, bounces or answers them (docs/protocol.md "Nothing lost in flight").
   */
  undeliverable?: UndeliverableHandler;
}

/** A component came up (announced with a new epoch) or went down (said goodbye, or fell silent past the bound). */
export type LivenessEvent =
  | { state: 'up'; address: ComponentAddress; epoch: string }
  | { state: 'down'; address: ComponentAddress; epoch: string; why: 'goodbye' | 'timeout' | 'restarted' };

export type LivenessListener = (event: LivenessEvent) => void;

/**
 * The way to one address, found once and kept by whoever sends there again
 * and again (a c2s to its sm, an sm session to its c2s), so that a stanza
 * does not look its destination up on every hop. It follows attach and
 * detach: a route to an address with no component is undeliverable, as route() is.
 */
export interface Route {
  readonly to: ComponentAddress;
  /** route() for an envelope whose `to` is this route's address. */
  send(envelope: Envelope): void;
}

export interface Router {
  /** Registers a component and announces it with a fresh epoch; envelopes addressed to it are handed to `handler`. */
  attach(address: ComponentAddress, handler: EnvelopeHandler, options?: AttachOptions): Promise<void>;
  /** Says goodbye for the component and stops handing it envelopes. */
  detach(address: ComponentAddress): Promise<void>;
  /** Sends an envelope. One that cannot be handed over goes to its sender's `undeliverable` handler. */
  route(envelope: Envelope): void;
  /** The route to `to`, for repeated sends (see {@link Route}). */
  routeTo(to: ComponentAddress): Route;
  /**
   * Follows the liveness of every component on the router, in this process
   * and others. The components alive now are reported `up` at once; the
   * returned function stops the listener.
   */
  watch(listener: LivenessListener): () => void;
  /** The epoch of the live component at `address`, or undefined when none is known to be alive. */
  epochOf(address: ComponentAddress): string | undefined;
  close(): Promise<void>;
}
