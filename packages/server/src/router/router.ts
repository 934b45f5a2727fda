// The router joins c2s and sm components. It carries envelopes between
// addresses and knows nothing of XMPP beyond that; the in-process router
// hands envelopes over by direct call, NATS (nats.ts) carries their wire form.

import type { Envelope } from './envelope.ts';

/** A component's address on the router: `sm`, or `c2s/<node>` for one connection manager. */
export type ComponentAddress = string;

export type EnvelopeHandler = (envelope: Envelope) => void;

export interface Router {
  /** Registers a component; envelopes addressed to it are handed to `handler`. */
  attach(address: ComponentAddress, handler: EnvelopeHandler): Promise<void>;
  detach(address: ComponentAddress): Promise<void>;
  /** Sends an envelope. Delivery to a missing component is dropped and counted: the router never bounces. */
  route(envelope: Envelope): void;
  close(): Promise<void>;
}
