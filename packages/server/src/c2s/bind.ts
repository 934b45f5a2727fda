// RFC 6120 §7: reading a resource binding request.

import type { Element } from '@switchboard/xml';
import { prepareResourcepart } from '@switchboard/jid';
import { NS_BIND, stanzaError, type StanzaError } from '@switchboard/protocol';

export type BindRequest =
  | { kind: 'bind'; resource: string }
  | { kind: 'error'; error: StanzaError }
  | { kind: 'not-bind' };

export function bindRequest(el: Element): BindRequest {
  if (el.name !== 'iq') return { kind: 'not-bind' };
  const bind = el.getChild('bind', NS_BIND);
  if (!bind) return { kind: 'not-bind' };
  if (el.attrs.type !== 'set') return { kind: 'error', error: stanzaError('bad-request') };
  const requested = bind.getChildText('resource');
  // §7.6: no resource requested, the server makes one.
  if (requested === undefined || requested.trim() === '') return { kind: 'bind', resource: generateResource() };
  const resource = prepareResourcepart(requested);
  // §7.7.2.1: a resource that fails preparation is bad-request.
  if (resource === undefined) return { kind: 'error', error: stanzaError('bad-request', { text: 'invalid resource' }) };
  return { kind: 'bind', resource };
}

function generateResource(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return `sb-${Buffer.from(bytes).toString('base64url')}`;
}
