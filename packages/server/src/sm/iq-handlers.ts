// Server-side iq handling (RFC 6120 §8.2.3, §10.3.3; RFC 6121 §8.5.2.1.3):
// a registry keyed by the payload's namespace and name. An iq nobody handles
// is answered with service-unavailable, never dropped.

import type { Element } from '@switchboard/xml';
import type { Jid } from '@switchboard/jid';
import type { StanzaError } from '@switchboard/protocol';
import type { SmSession } from './session.ts';

export interface IqContext {
  stanza: Element;
  payload: Element;
  type: 'get' | 'set';
  from: Jid;
  /** Where the iq was addressed: the server itself, or a user's bare JID on whose behalf the server answers. */
  target: 'host' | 'account';
  /** The account addressed (target account), else undefined. */
  account: string | undefined;
  /** The sending session, when the iq came from a local client. */
  session: SmSession | undefined;
}

/** The result payload (or undefined for an empty result), or a stanza error. */
export type IqOutcome = Element | undefined | StanzaError;
export type IqHandler = (ctx: IqContext) => IqOutcome | Promise<IqOutcome>;

export interface IqRegistration {
  xmlns: string;
  name: string;
  targets: readonly ('host' | 'account')[];
  handler: IqHandler;
}

/**
 * XEP-0030 §3.2, §4.2: a node of the server's disco tree (XEP-0050's command list, a command).
 * Each answer may depend on who asks (`ctx.from`); `info` undefined: item-not-found for that requester.
 */
export interface DiscoNode {
  /** The identities and features of the node. */
  info?(ctx: IqContext): Element[] | undefined;
  /** The items under the node. */
  items?(ctx: IqContext): Element[];
}

/** What a module registering iq handlers needs of the registry. */
export interface IqRegistry {
  register(reg: IqRegistration): unknown;
  features(target: 'host' | 'account'): string[];
}

export class IqHandlers {
  private readonly handlers = new Map<string, IqRegistration>();

  /** One handler per (namespace, name, target); the same payload may be served differently for the host and accounts. */
  register(reg: IqRegistration): () => void {
    const keys = reg.targets.map((t) => `${t} ${reg.xmlns} ${reg.name}`);
    for (const key of keys) if (this.handlers.has(key)) throw new Error(`iq handler for ${key} registered twice`);
    for (const key of keys) this.handlers.set(key, reg);
    return () => {
      for (const key of keys) this.handlers.delete(key);
    };
  }

  find(payload: Element, target: 'host' | 'account'): IqHandler | undefined {
    return this.handlers.get(`${target} ${payload.attrs.xmlns ?? ''} ${payload.name}`)?.handler;
  }

  /** Namespaces served, for disco#info, plus features declared without a handler. */
  features(target: 'host' | 'account'): string[] {
    const out = new Set<string>(this.extraFeatures[target]);
    for (const [key, reg] of this.handlers) if (key.startsWith(`${target} `)) out.add(reg.xmlns);
    return [...out].sort();
  }

  /** Advertises a feature that is not an iq namespace (e.g. a roster versioning flag). */
  feature(target: 'host' | 'account', name: string): () => void {
    this.extraFeatures[target].add(name);
    return () => this.extraFeatures[target].delete(name);
  }

  private readonly extraFeatures = { host: new Set<string>(), account: new Set<string>() };
  private readonly nodes = new Map<string, DiscoNode>();

  /** Serves a disco node of the server (host target); one owner per node. */
  discoNode(node: string, handlers: DiscoNode): () => void {
    if (this.nodes.has(node)) throw new Error(`disco node ${node} registered twice`);
    this.nodes.set(node, handlers);
    return () => this.nodes.delete(node);
  }

  /** The server's disco node, when a module serves it. */
  node(node: string): DiscoNode | undefined {
    return this.nodes.get(node);
  }
}
