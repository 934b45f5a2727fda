// The router joins c2s and sm components. It carries envelopes between
// addresses and knows nothing of XMPP beyond that; the in-process router
// hands envelopes over by direct call, NATS (nats.ts) carries their wire form.

import type { Envelope } from './envelope.ts';

/** A component's address on the router: `sm`, or `c2s/<node>` for one connection manager. */
export type ComponentAddress = string;

export type EnvelopeHandler = (envelope: Envelope) => void;

/**
 * The way to one address, found once and kept by whoever sends there again
 * and again (a c2s to its sm, an sm session to its c2s), so that a stanza
 * does not look its destination up on every hop. It follows attach and
 * detach: a route to an address with no component drops, as route() does.
 */
export interface Route {
  readonly to: ComponentAddress;
  /** route() for an envelope whose `to` is this route's address. */
  send(envelope: Envelope): void;
}

export interface Router {
  /** Registers a component; envelopes addressed to it are handed to `handler`. */
  attach(address: ComponentAddress, handler: EnvelopeHandler): Promise<void>;
  detach(address: ComponentAddress): Promise<void>;
  /** Sends an envelope. Delivery to a missing component is dropped and counted: the router never bounces. */
  route(envelope: Envelope): void;
  /** The route to `to`, for repeated sends (see {@link Route}). */
  routeTo(to: ComponentAddress): Route;
  close(): Promise<void>;
}
