// The one file that knows both a JingleManager and an XMPP connection
// (@switchboard/client's Client, or anything of the same shape): the
// manager's contract (README, "The contract with the connection") wired to
// the connection's API. How each stanza goes:
//
//   out  manager `send` (sets, results, errors)   → connection.send, in order
//   in   iq get/set <jingle/> (XEP-0166),
//        <open/> <data/> <close/> (XEP-0047)      → handleIq → manager.process;
//                                                   the manager answers itself
//   in   iq result/error the client did not issue → 'stanza' → manager.process
//        (the client only keeps the ids it issued; the manager's come back here)
//   in   presence                                 → 'stanza' → manager.process
//                                                   (unavailable ends that peer's sessions, XEP-0166 §6.7)
//   —    'online'                                 → selfID := the bound full JID; a new binding
//                                                   (not a XEP-0198 resumption) ends the old stream's sessions
//   —    'offline'                                → endAllSessions (silent: nothing can be sent)
//   in   disco#info get (XEP-0030 §3.1)           → identity client/pc, the manager's features
//
// No runtime dependency on @switchboard/client: the connection is the
// structural JingleConnection below, which Client satisfies as it is.

import { xml, type Element } from '@switchboard/xml';
import { NS_DISCO_INFO, stanzaError, type StanzaError } from '@switchboard/protocol';
import type { JingleManager } from './manager.ts';
import { NS_IBB, NS_JINGLE } from './namespaces.ts';

/** As @switchboard/client's: a payload, an error, or null when the handler sent the answer itself. */
export type IqAnswer = Element | undefined | StanzaError | null;

/** The part of a connection attachJingle uses; @switchboard/client's Client has all of it. */
export interface JingleConnection {
  /** The bound full JID, once online. */
  readonly jid?: string | undefined;
  send(stanza: Element): void;
  /**
   * Claims incoming iq get/set by payload (namespace and name); the settled
   * value of the handler is sent as the answer. Returns the unregistering function.
   */
  handleIq(xmlns: string, name: string, handler: (iq: Element) => IqAnswer | Promise<IqAnswer>): () => void;
  /** 'stanza' must carry iq results/errors the connection did not match itself, and presence. */
  on(event: 'stanza', listener: (stanza: Element) => void): unknown;
  on(event: 'online', listener: (bound: { jid: string }) => void): unknown;
  on(event: 'offline', listener: () => void): unknown;
  off(event: 'stanza', listener: (stanza: Element) => void): unknown;
  off(event: 'online', listener: (bound: { jid: string }) => void): unknown;
  off(event: 'offline', listener: () => void): unknown;
}

export interface AttachOptions {
  /**
   * Answer disco#info (XEP-0030) for the connection (default true): identity
   * client/pc, disco#info itself, `features` and the manager's features. Set
   * false when the application has its own disco responder; it should then
   * list manager.features().
   */
  readonly disco?: boolean;
  /** More features the connection supports, for the disco#info answer (e.g. urn:xmpp:ping). */
  readonly features?: readonly string[];
}

/** XEP-0047 payloads a Jingle session may own (XEP-0261). */
const IBB_PAYLOADS = ['open', 'data', 'close'] as const;

/** Wires `manager` to `connection`; returns the function that undoes it (sessions are left as they are). */
export function attachJingle(connection: JingleConnection, manager: JingleManager, options: AttachOptions = {}): () => void {
  let bound = connection.jid;
  if (bound !== undefined) manager.selfID = bound;

  const toPeer = (iq: Element): void => connection.send(iq);
  const claim = (iq: Element): StanzaError | null => {
    if (manager.process(iq) === 'pass') return notOurs(iq);
    // The manager answers through `send` itself, in order with what follows
    // the answer (a session-initiate's ack before the session-accept, a
    // transport-replace's ack before the transport-accept).
    return null;
  };
  const onStanza = (stanza: Element): void => {
    // Gets and sets come through handleIq; anything else is presence, or an answer to the manager's own ids.
    const type = stanza.attrs.type;
    if (stanza.name === 'presence' || (stanza.name === 'iq' && (type === 'result' || type === 'error'))) manager.process(stanza);
  };
  const onOnline = ({ jid }: { jid: string }): void => {
    // A new binding, not a resumption: the old stream's session has ended
    // and peers were told we left (RFC 6121 §4.5.2), so its Jingle sessions are over.
    if (bound !== undefined) manager.endAllSessions();
    bound = jid;
    manager.selfID = jid;
  };
  const onOffline = (): void => manager.endAllSessions();

  const unregister = [connection.handleIq(NS_JINGLE, 'jingle', claim), ...IBB_PAYLOADS.map((name) => connection.handleIq(NS_IBB, name, claim))];
  if (options.disco ?? true) unregister.push(connection.handleIq(NS_DISCO_INFO, 'query', (iq) => discoInfo(iq, manager, options.features ?? [])));
  manager.on('send', toPeer);
  connection.on('stanza', onStanza);
  connection.on('online', onOnline);
  connection.on('offline', onOffline);

  return () => {
    for (const off of unregister) off();
    manager.off('send', toPeer);
    connection.off('stanza', onStanza);
    connection.off('online', onOnline);
    connection.off('offline', onOffline);
  };
}

/** The answer to a request the manager passed on: no session owns it. */
function notOurs(iq: Element): StanzaError {
  const payload = iq.getChildren()[0];
  if (payload?.attrs.xmlns === NS_IBB) {
    // XEP-0047 §2.1: an open nobody negotiated is refused; §2.2, §2.3: data or close for an unknown sid.
    return payload.localName === 'open' ? stanzaError('not-acceptable') : stanzaError('item-not-found');
  }
  return stanzaError('service-unavailable');
}

/** XEP-0030 §3.1: at least one identity, and every feature, disco#info included. */
function discoInfo(iq: Element, manager: JingleManager, extra: readonly string[]): IqAnswer {
  if (iq.attrs.type !== 'get') return stanzaError('bad-request');
  // We publish no nodes (no XEP-0115 caps node), so a node query names nothing we have (§3.2).
  if (iq.getChildren()[0]?.attrs.node !== undefined) return stanzaError('item-not-found');
  const features = [...new Set([NS_DISCO_INFO, ...extra, ...manager.features()])].sort();
  return xml('query', { xmlns: NS_DISCO_INFO }, xml('identity', { category: 'client', type: 'pc' }), ...features.map((v) => xml('feature', { var: v })));
}
