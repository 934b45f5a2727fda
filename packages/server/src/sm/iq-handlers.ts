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

export class IqHandlers {
  private readonly handlers = new Map<string, IqRegistration>();

  register(reg: IqRegistration): () => void {
    const key = `${reg.xmlns} ${reg.name}`;
    if (this.handlers.has(key)) throw new Error(`iq handler for ${key} registered twice`);
    this.handlers.set(key, reg);
    return () => this.handlers.delete(key);
  }

  find(payload: Element, target: 'host' | 'account'): IqHandler | undefined {
    const reg = this.handlers.get(`${payload.attrs.xmlns ?? ''} ${payload.name}`);
    return reg && reg.targets.includes(target) ? reg.handler : undefined;
  }

  /** Namespaces served, for disco#info. */
  features(target: 'host' | 'account'): string[] {
    const out = new Set<string>();
    for (const reg of this.handlers.values()) if (reg.targets.includes(target)) out.add(reg.xmlns);
    return [...out].sort();
  }
}
