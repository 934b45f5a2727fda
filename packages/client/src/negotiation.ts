// The client's half of stream negotiation, one function per step:
// STARTTLS (RFC 6120 §5), SASL (RFC 6120 §6), resource binding (RFC 6120
// §7) and the legacy session (RFC 6121 Appendix E; RFC 3921 §3). Each works
// on the stream of one connection attempt and throws a ClientError; the
// machine in client.ts owns the states around them and decides whether an
// error means Retrying or Disconnected (ClientError.fatal).

import { xml, type Element } from '@switchboard/xml';
import { NS_BIND, NS_SASL, NS_SESSION, NS_TLS, parseStanzaError } from '@switchboard/protocol';
import { ClientError } from './errors.ts';
import { fromBase64, toBase64 } from './sasl/bytes.ts';
import type { Credentials, MechanismName } from './sasl/mechanism.ts';
import { selectMechanism } from './sasl/select.ts';
import { DowngradeDetected } from './sasl/scram.ts';
import type { ClientTransport } from './transport/transport.ts';

/** XEP-0440: SASL Channel-Binding Type Capability. */
export const NS_SASL_CB = 'urn:xmpp:sasl-cb:0';

export interface NegotiationStream {
  readonly transport: ClientTransport;
  /** Sends one element in the transport's framing. */
  send(el: Element): void;
  /** The server's next element; rejects when it is not `what`, the stream closes or the server is silent too long. */
  expect(what: string, predicate: (el: Element) => boolean): Promise<Element>;
  /** Opens (or restarts, §4.3.3) the stream and resolves with the checked features (§4.3.2). */
  restart(): Promise<Element>;
}

/** RFC 6120 §5.4: upgrade when offered; without TLS, go on only if the application allows it. Resolves with the features to use next. */
export async function negotiateTls(stream: NegotiationStream, features: Element, requireTls: boolean): Promise<Element> {
  const transport = stream.transport;
  if (transport.secure) return features;
  if (features.getChild('starttls', NS_TLS) && transport.canStartTls) {
    stream.send(xml('starttls', { xmlns: NS_TLS }));
    const answer = await stream.expect('<proceed/> or <failure/>', (el) => el.attrs.xmlns === NS_TLS && (el.name === 'proceed' || el.name === 'failure'));
    // §5.4.2.2: after <failure/> the server closes the stream.
    if (answer.name === 'failure') throw new ClientError('SB_ERR_NEGOTIATION', 'the server refused STARTTLS');
    try {
      await transport.startTls();
    } catch (err) {
      throw tlsError(err);
    }
    return stream.restart();
  }
  if (requireTls) throw new ClientError('SB_ERR_POLICY', 'the server does not offer TLS and requireTls is set', { fatal: true });
  return features;
}

/** Node's codes for a certificate that does not verify (it will not verify on the next attempt either). */
const CERTIFICATE_ERROR = /CERT|SIGNATURE|ALTNAME|ISSUER/;

function certificateError(err: unknown): ClientError | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !CERTIFICATE_ERROR.test(code)) return undefined;
  return new ClientError('SB_ERR_POLICY', `the server's certificate is not trusted: ${(err as Error).message}`, { fatal: true });
}

/** A failed STARTTLS handshake. */
export function tlsError(err: unknown): ClientError {
  return certificateError(err) ?? new ClientError('SB_ERR_TRANSPORT', `TLS failed: ${(err as Error).message}`);
}

/** A transport that could not open (direct TLS included). */
export function connectError(err: unknown): ClientError {
  return certificateError(err) ?? new ClientError('SB_ERR_TRANSPORT', `cannot connect: ${(err as Error).message}`);
}

export interface AuthOptions {
  credentials: Credentials;
  mechanisms: readonly MechanismName[] | undefined;
  allowPlainWithoutTls: boolean;
}

/** XEP-0440 §3: the channel-binding types the server lists, or undefined when it lists none. */
export function channelBindingTypes(features: Element): string[] | undefined {
  const list = features.getChild('sasl-channel-binding', NS_SASL_CB);
  return list?.getChildren('channel-binding').map((c) => c.attrs.type ?? '');
}

/** RFC 6120 §6.4: the strongest acceptable mechanism, to <success/> (whose additional data SCRAM verifies) or <failure/>. */
export async function authenticate(stream: NegotiationStream, features: Element, options: AuthOptions): Promise<void> {
  const list = features.getChild('mechanisms', NS_SASL);
  if (!list) throw new ClientError('SB_ERR_NEGOTIATION', 'the stream features offer no SASL mechanisms');
  const offered = list.getChildren('mechanism').map((m) => m.text().trim());
  const transport = stream.transport;
  const mechanism = selectMechanism({
    offered,
    credentials: options.credentials,
    allowed: options.mechanisms,
    secure: transport.secure,
    allowPlainWithoutTls: options.allowPlainWithoutTls,
    channelBinding: transport.channelBinding(),
    channelBindingTypes: channelBindingTypes(features),
    tlsVersion: transport.tlsVersion?.(),
  });
  if (!mechanism) throw new ClientError('SB_ERR_AUTH', `no usable SASL mechanism (offered: ${offered.join(' ') || 'none'})`, { fatal: true });
  const initial = await mechanism.initial();
  // §6.4.2: an empty initial response is sent as "=".
  stream.send(xml('auth', { xmlns: NS_SASL, mechanism: mechanism.name }, initial === undefined ? undefined : initial.length === 0 ? '=' : toBase64(initial)));
  for (;;) {
    const el = await stream.expect('a SASL answer', (e) => e.attrs.xmlns === NS_SASL && (e.name === 'challenge' || e.name === 'success' || e.name === 'failure'));
    const data = el.text().trim();
    const bytes = data && data !== '=' ? fromBase64(data) : undefined;
    if (el.name === 'failure') {
      const condition = el.getChildren().find((c) => c.name !== 'text')?.name ?? 'not-authorized';
      // §6.5.12: temporary-auth-failure is worth another attempt; every other failure would repeat itself.
      throw new ClientError('SB_ERR_AUTH', `authentication failed: ${condition}`, { saslCondition: condition, fatal: condition !== 'temporary-auth-failure' });
    }
    try {
      if (el.name === 'success') return await mechanism.success(bytes);
      const response = await mechanism.challenge(bytes ?? new Uint8Array());
      stream.send(xml('response', { xmlns: NS_SASL }, toBase64(response)));
    } catch (err) {
      // §6.4.4: tell the server we give up; a server that cannot prove it knows the password is not to be retried.
      if (el.name === 'challenge') stream.send(xml('abort', { xmlns: NS_SASL }));
      throw mechanismError(err);
    }
  }
}

/**
 * A mechanism refused the server's answer: a downgrade (XEP-0474, XEP-0515) or a server that cannot prove it knows
 * the secret. Fatal, so never retried: not with another mechanism, not on the next connection (which would meet the
 * same relay).
 */
export function mechanismError(err: unknown): ClientError {
  if (err instanceof DowngradeDetected) return new ClientError('SB_ERR_DOWNGRADE', err.message, { fatal: true, downgrade: err.downgrade });
  return new ClientError('SB_ERR_AUTH', (err as Error).message, { fatal: true });
}

/** RFC 6120 §7: binds the requested resource, or lets the server pick one; resolves with the full JID. */
export async function bindResource(stream: NegotiationStream, features: Element, resource: string | undefined, id: string): Promise<string> {
  if (!features.getChild('bind', NS_BIND)) throw new ClientError('SB_ERR_NEGOTIATION', 'the server offers no resource binding');
  stream.send(xml('iq', { type: 'set', id }, xml('bind', { xmlns: NS_BIND }, resource !== undefined && xml('resource', {}, resource))));
  const bound = await stream.expect('the bind result', (el) => el.name === 'iq' && el.attrs.id === id);
  if (bound.attrs.type !== 'result') {
    const err = parseStanzaError(bound);
    // §7.6.2.2: conflict with an existing resource that the server will not replace.
    throw new ClientError('SB_ERR_NEGOTIATION', `resource binding failed: ${err?.condition ?? 'unknown'}`, { fatal: err?.condition === 'not-allowed' || err?.condition === 'bad-request' });
  }
  const jid = bound.getChild('bind', NS_BIND)?.getChildText('jid');
  if (!jid) throw new ClientError('SB_ERR_NEGOTIATION', 'the bind result carries no JID');
  return jid;
}

/** RFC 6121 Appendix E: only when the server still requires the legacy session (no <optional/>). */
export async function establishSession(stream: NegotiationStream, features: Element, id: string): Promise<void> {
  const session = features.getChild('session', NS_SESSION);
  if (!session || session.getChild('optional')) return;
  stream.send(xml('iq', { type: 'set', id }, xml('session', { xmlns: NS_SESSION })));
  const answer = await stream.expect('the session result', (el) => el.name === 'iq' && el.attrs.id === id);
  if (answer.attrs.type !== 'result') throw new ClientError('SB_ERR_NEGOTIATION', `session establishment failed: ${parseStanzaError(answer)?.condition ?? 'unknown'}`);
}
