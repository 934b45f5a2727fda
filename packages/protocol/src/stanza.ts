// RFC 6120 §8: the three stanza kinds and their types, as types.

import { Element, xml } from '@switchboard/xml';

export type StanzaKind = 'message' | 'presence' | 'iq';
export type MessageType = 'chat' | 'error' | 'groupchat' | 'headline' | 'normal';
export type PresenceType = 'available' | 'error' | 'probe' | 'subscribe' | 'subscribed' | 'unavailable' | 'unsubscribe' | 'unsubscribed';
export type IqType = 'get' | 'set' | 'result' | 'error';

const MESSAGE_TYPES = new Set<string>(['chat', 'error', 'groupchat', 'headline', 'normal']);
const PRESENCE_TYPES = new Set<string>(['error', 'probe', 'subscribe', 'subscribed', 'unavailable', 'unsubscribe', 'unsubscribed']);
const IQ_TYPES = new Set<string>(['get', 'set', 'result', 'error']);

export function stanzaKind(el: Element): StanzaKind | undefined {
  const name = el.name;
  return name === 'message' || name === 'presence' || name === 'iq' ? name : undefined;
}

/** RFC 6121 §5.2.2: an absent or unknown message type is treated as normal. */
export function messageType(el: Element): MessageType {
  const t = el.attrs.type;
  return t !== undefined && MESSAGE_TYPES.has(t) ? (t as MessageType) : 'normal';
}

/** An absent type is availability; an unknown type is undefined (the caller refuses it). */
export function presenceType(el: Element): PresenceType | undefined {
  const t = el.attrs.type;
  if (t === undefined) return 'available';
  return PRESENCE_TYPES.has(t) ? (t as PresenceType) : undefined;
}

export function iqType(el: Element): IqType | undefined {
  const t = el.attrs.type;
  return t !== undefined && IQ_TYPES.has(t) ? (t as IqType) : undefined;
}

/** RFC 6120 §8.2.3: a get/set iq carries exactly one payload element. */
export function iqPayload(el: Element): Element | undefined {
  const children = el.getChildren();
  return children.length === 1 ? children[0] : undefined;
}

export function iqResult(request: Element, payload?: Element): Element {
  return xml('iq', { type: 'result', id: request.attrs.id, to: request.attrs.from, from: request.attrs.to }, payload);
}
