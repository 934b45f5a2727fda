// A service on the router (jabberd2's component model, STYLE.md "Services on
// the router"): something addressed by a domain — group chat today, pubsub,
// upload and s2s later — that the sm reaches only through envelopes. The sm
// routes every stanza whose `to` is in the service's domain to it and routes
// whatever it sends; it knows nothing else of it. A service knows nothing of
// the sm but this interface.

import type { Element } from '@switchboard/xml';

/** What a running service may do: send stanzas from its domain. */
export interface ServiceContext {
  readonly domain: string;
  /** A stanza from the service's domain (or a JID in it), to a user or another service; the sm routes it. */
  send(stanza: Element): void;
  /**
   * One stanza (without `to`) for many full JIDs, e.g. a room's groupchat
   * copies: it travels once to the sm and once to each c2s, which stamps
   * `to` per recipient. Each recipient is treated as if sent its own copy
   * (blocking, errors back to the service, nothing lost).
   */
  fanOut(stanza: Element, recipients: readonly string[]): void;
}

export interface Service {
  /** The domain it serves, e.g. `conference.example.org`. */
  readonly domain: string;
  /** What the service is, for logs. */
  readonly kind: string;
  start(ctx: ServiceContext): Promise<void>;
  /**
   * A stanza addressed to the domain or a JID in it, `from` stamped by the
   * server. The service must answer, deliver or store it (never drop it);
   * a rejection is answered by the host with internal-server-error.
   */
  receive(stanza: Element): void | Promise<void>;
  /** Stops serving: tells whoever it serves (a MUC sends 332), keeps what must survive. */
  stop(): Promise<void>;
  /**
   * This process no longer serves one shard of the domain (docs/protocol.md
   * "Service shards"): forget what is in memory for the addresses `belongs`
   * says are in it, after telling their users when `clean` (a handover; not
   * when the shard was lost to another owner, who serves them already).
   * What must survive is in the store, for the next owner to load.
   */
  stopShard?(belongs: (bareJid: string) => boolean, clean: boolean): Promise<void>;
}
