// XEP-0388 SASL2 with XEP-0386 Bind 2 and inline XEP-0198, the client's
// half: one <authenticate/> carries the initial response, the user agent,
// the bind request (with XEP-0198 <enable/>, and XEP-0280 <enable/> and
// XEP-0352 <inactive/> where the server lists them inline) or a <resume/>;
// <success/> brings the
// server's final data (verified as RFC 6120 SASL's would be), the JID, and
// what was done inline. No stream restart follows (§5.6).

import { xml, type Element } from '@switchboard/xml';
import { NS_MAM, parseMamMetadata, type MamMetadata } from '@switchboard/protocol';
import { ClientError } from './errors.ts';
import { channelBindingTypes, mechanismError, type NegotiationStream } from './negotiation.ts';
import { fromBase64, toBase64 } from './sasl/bytes.ts';
import type { Credentials, MechanismName } from './sasl/mechanism.ts';
import { selectMechanism } from './sasl/select.ts';
import { NS_SM } from './stream-management.ts';
import { NS_CARBONS } from './carbons.ts';
import { NS_CSI } from './csi.ts';
import { fastRequestElements, readToken, type FastMechanismName, type HtClient } from './fast.ts';

export const NS_SASL2 = 'urn:xmpp:sasl:2';
export const NS_BIND2 = 'urn:xmpp:bind:0';

export interface UserAgent {
  /** A UUID stable for this installation (XEP-0388 §4.2); keep it across restarts of the app. */
  id: string;
  software?: string;
  device?: string;
}

export interface Sasl2Options {
  credentials: Credentials;
  mechanisms: readonly MechanismName[] | undefined;
  allowPlainWithoutTls: boolean;
  userAgent: UserAgent;
  /** XEP-0386 tag: the server makes the resource from it. */
  tag: string | undefined;
  /** Ask for XEP-0198 inline (enable with resumption). */
  streamManagement: boolean;
  /** XEP-0280 carbons on from the start of a new session (inline when Bind 2 lists them). */
  carbons?: boolean;
  /** XEP-0352: a new session starts inactive (inline when Bind 2 lists CSI). */
  inactive?: boolean;
  /** XEP-0198 inline resumption of this session. */
  resume: Element | undefined;
  /** XEP-0484: log in with a token (this mechanism, this count), and/or ask for one. */
  fast?: { use?: { mechanism: HtClient; count: number }; request?: FastMechanismName };
}

export interface Sasl2Result {
  /** The authorization identifier: the full JID when bound or resumed, else the bare JID. */
  jid: string;
  /** <resumed/> or <failed/> for an inline resumption. */
  resume: Element | undefined;
  /**
   * Bound inline (XEP-0386), with XEP-0198's <enabled/> when it was asked for, and which of carbons and
   * the inactive state went inline (§3.2: they need no answer; what did not go inline is the caller's to do).
   */
  bound: { enabled: Element | undefined; carbons: boolean; inactive: boolean; archive: MamMetadata | undefined } | undefined;
  /** XEP-0484: a new token, asked for or rotated in. */
  token: { token: string; expiry: string } | undefined;
}

/** The SASL2 feature, when the server offers it. */
export function sasl2Feature(features: Element): Element | undefined {
  return features.getChild('authentication', NS_SASL2);
}

/** XEP-0386 §3.1: whether Bind 2 (offered in these features) can enable this feature inline. */
export function bind2Inlines(features: Element | undefined, ns: string): boolean {
  const bind = features?.getChild('authentication', NS_SASL2)?.getChild('inline')?.getChild('bind', NS_BIND2);
  return bind?.getChild('inline')?.getChildren('feature').some((f) => f.attrs.var === ns) === true;
}

export async function authenticate2(stream: NegotiationStream, features: Element, feature: Element, options: Sasl2Options): Promise<Sasl2Result> {
  const offered = feature.getChildren('mechanism').map((m) => m.text().trim());
  const mechanism = options.fast?.use?.mechanism ?? selectMechanism({
    offered,
    credentials: options.credentials,
    allowed: options.mechanisms,
    secure: stream.transport.secure,
    allowPlainWithoutTls: options.allowPlainWithoutTls,
    channelBinding: stream.transport.channelBinding(),
    channelBindingTypes: channelBindingTypes(features),
    tlsVersion: stream.transport.tlsVersion?.(),
  });
  if (!mechanism) throw new ClientError('SB_ERR_AUTH', `no usable SASL2 mechanism (offered: ${offered.join(' ') || 'none'})`, { fatal: true });
  const inline = feature.getChild('inline');
  const bind2 = inline?.getChild('bind', NS_BIND2);
  const smInline = inline?.getChild('sm', NS_SM) !== undefined;
  const bindSm = bind2Inlines(features, NS_SM);
  const carbons = options.carbons === true && bind2Inlines(features, NS_CARBONS);
  const inactive = options.inactive === true && bind2Inlines(features, NS_CSI);
  const initial = await mechanism.initial();
  const ua = options.userAgent;
  stream.send(
    xml(
      'authenticate',
      { xmlns: NS_SASL2, mechanism: mechanism.name },
      initial !== undefined && xml('initial-response', {}, initial.length === 0 ? '=' : toBase64(initial)),
      xml('user-agent', { id: ua.id }, ua.software !== undefined && xml('software', {}, ua.software), ua.device !== undefined && xml('device', {}, ua.device)),
      smInline && options.resume,
      fastRequestElements({ use: options.fast?.use, request: options.fast?.request }),
      bind2 &&
        xml(
          'bind',
          { xmlns: NS_BIND2 },
          options.tag !== undefined && xml('tag', {}, options.tag),
          options.streamManagement && bindSm && xml('enable', { xmlns: NS_SM, resume: 'true' }),
          carbons && xml('enable', { xmlns: NS_CARBONS }),
          inactive && xml('inactive', { xmlns: NS_CSI }),
        ),
    ),
  );
  for (;;) {
    const el = await stream.expect('a SASL2 answer', (e) => e.attrs.xmlns === NS_SASL2 && (e.name === 'challenge' || e.name === 'success' || e.name === 'failure'));
    if (el.name === 'failure') {
      const condition = el.getChildren().find((c) => c.name !== 'text')?.name ?? 'not-authorized';
      throw new ClientError('SB_ERR_AUTH', `authentication failed: ${condition}`, { saslCondition: condition, fatal: condition !== 'temporary-auth-failure' });
    }
    const data = (el.name === 'success' ? el.getChildText('additional-data') : el.text())?.trim();
    const bytes = data && data !== '=' ? fromBase64(data) : undefined;
    try {
      if (el.name === 'challenge') {
        stream.send(xml('response', { xmlns: NS_SASL2 }, toBase64(await mechanism.challenge(bytes ?? new Uint8Array()))));
        continue;
      }
      await mechanism.success(bytes);
    } catch (err) {
      if (el.name === 'challenge') stream.send(xml('abort', { xmlns: NS_SASL2 }));
      throw mechanismError(err);
    }
    const jid = el.getChildText('authorization-identifier');
    if (!jid) throw new ClientError('SB_ERR_NEGOTIATION', 'SASL2 success without an authorization identifier');
    const resume = el.getChildren().find((c) => c.attrs.xmlns === NS_SM && (c.name === 'resumed' || c.name === 'failed'));
    const bound = el.getChild('bound', NS_BIND2);
    // XEP-0386 §3.2: the archive as the session was bound (XEP-0313 metadata), when the server's archive is on.
    const archive = parseMamMetadata(bound?.getChild('metadata', NS_MAM));
    return { jid, resume, bound: bound ? { enabled: bound.getChild('enabled', NS_SM), carbons, inactive, archive } : undefined, token: readToken(el) };
  }
}
