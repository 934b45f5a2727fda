// Declarative sm modules: `defineModule({ name, dependsOn, setup(ctx, options) })`.
// A module reaches the sm only through the typed handles of its context:
// `ctx.hook` on the chains of chains.ts, `ctx.iq` and `ctx.feature` on the iq
// registry. The host records every registration and takes them all back on
// unload (ejabberd's start list, Prosody's recorded handlers).

import type { Element } from '@switchboard/xml';
import type { StanzaError } from '@switchboard/protocol';
import type { Storage } from '../storage/ports.ts';
import type { ChainName, Chains, SmChains } from './chains.ts';
import type { InstantMessaging } from './im.ts';
import type { DiscoNode, IqHandlers, IqRegistration } from './iq-handlers.ts';
import type { Rosters } from './roster.ts';
import type { SmSession } from './session.ts';
import type { SessionTable } from './sessions.ts';
import type { AdminOperations } from '../admin/operations.ts';

/** What the sm lends every module. */
export interface ModuleServices {
  domain: string;
  storage: Storage;
  sessions: SessionTable;
  rosters: Rosters;
  im: InstantMessaging;
  /** Sends a stanza to one session's client (it passes outSess). */
  sendTo(session: SmSession, stanza: Element): void;
  /** Answers `stanza` with an error to its sender (never an error or a result, RFC 6120 §8.3.1). */
  sendError(stanza: Element, error: StanzaError): void;
  /** Sends an iq get from the server to a client and resolves with its answer. */
  queryClient(to: string, payload: Element): Promise<Element | undefined>;
  /** Removes an account through the `sm:sessions delete` path. */
  removeUser(bareJid: string): void;
  /** The sm owning `bare` when that user is another shard's (docs/protocol.md "Shards"); undefined when this one's. */
  peerOf(bare: string): string | undefined;
  /** Hands a stanza for a user of another shard to that shard's sm. */
  toPeer(peer: string, stanza: Element): void;
  /** User and session administration, shared with the admin socket (admin/operations.ts): the process's, over every shard it serves; asked for when used. */
  admin(): AdminOperations;
}

export interface ModuleContext extends ModuleServices {
  /** Adds a handler to a chain (chains.ts); default priority 0, the core sits below zero. */
  hook<K extends ChainName>(name: K, handler: SmChains[K], priority?: number): void;
  /** Serves an iq payload (namespace and name) for the host, for accounts, or both. */
  iq(registration: IqRegistration): void;
  /** Advertises a disco#info feature that is not an iq namespace. */
  feature(target: 'host' | 'account', name: string): void;
  /** Every feature advertised for the host or for accounts (for disco#info answers). */
  features(target: 'host' | 'account'): string[];
  /** Serves a node of the server's disco tree (XEP-0030 §3.2, §4.2). */
  discoNode(node: string, handlers: DiscoNode): void;
  /** The disco node a module serves, for the disco#info and disco#items answers. */
  findDiscoNode(node: string): DiscoNode | undefined;
}

export interface SmModule<Options, Api> {
  name: string;
  /** Modules that must be loaded first. */
  dependsOn?: readonly string[];
  setup(ctx: ModuleContext, options: Options): Api;
}

export function defineModule<Options = void, Api = void>(module: SmModule<Options, Api>): SmModule<Options, Api> {
  return module;
}

/** Loads modules into one sm and remembers what each registered. */
export class ModuleHost {
  private readonly loaded = new Map<string, (() => void)[]>();

  constructor(
    private readonly services: ModuleServices,
    private readonly chains: Chains,
    private readonly iqs: IqHandlers,
  ) {}

  load<Options, Api>(module: SmModule<Options, Api>, options: Options): Api {
    if (this.loaded.has(module.name)) throw new Error(`sm module ${module.name} loaded twice`);
    for (const dep of module.dependsOn ?? []) if (!this.loaded.has(dep)) throw new Error(`sm module ${module.name} needs ${dep} loaded first`);
    const undo: (() => void)[] = [];
    this.loaded.set(module.name, undo);
    const ctx: ModuleContext = {
      ...this.services,
      hook: (name, handler, priority) => void undo.push(this.chains.hook(name, handler, priority)),
      iq: (registration) => void undo.push(this.iqs.register(registration)),
      feature: (target, name) => void undo.push(this.iqs.feature(target, name)),
      features: (target) => this.iqs.features(target),
      discoNode: (node, handlers) => void undo.push(this.iqs.discoNode(node, handlers)),
      findDiscoNode: (node) => this.iqs.node(node),
    };
    return module.setup(ctx, options);
  }

  /** Takes back everything the module registered. */
  unload(name: string): void {
    const undo = this.loaded.get(name);
    if (!undo) return;
    this.loaded.delete(name);
    for (const u of undo.reverse()) u();
  }

  has(name: string): boolean {
    return this.loaded.has(name);
  }
}
