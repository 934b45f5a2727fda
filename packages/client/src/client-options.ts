// What a Client is configured with: ClientOptions and the keepalive defaults. Kept out of
// client.ts so the machine reads as a machine; transport/create.ts needs only these types.

import type { Element } from '@switchboard/xml';
import type { MechanismName } from './sasl/mechanism.ts';
import type { RetryPolicy, Timers } from './timers.ts';
import type { ClientTransport, TransportOptions } from './transport/transport.ts';
import type { UserAgent } from './sasl2.ts';
import type { FastTokenStorage } from './fast.ts';

export interface ClientOptions {
  domain: string;
  username: string;
  password: string;
  /** Requested resource; the server picks one when absent. */
  resource?: string;
  /** How to reach the server; default TCP with SRV lookup of the domain. */
  transport?: TransportOptions;
  /** Refuse to authenticate without TLS (default true). */
  requireTls?: boolean;
  /** Allow PLAIN without TLS (default false). */
  allowPlainWithoutTls?: boolean;
  /** Mechanisms to use, in order of preference (default: strongest first). */
  mechanisms?: MechanismName[];
  /** Send initial presence after binding (default true), or this presence. */
  initialPresence?: boolean | Element;
  retry?: Partial<RetryPolicy>;
  /**
   * XEP-0388 SASL2 with XEP-0386 Bind 2 (and XEP-0198 inline) when the server offers it (default
   * true): one round trip less at login, and a resumption inside the authentication. Bind 2 makes
   * the resource from `resource` (the tag) and a suffix of the server's.
   */
  sasl2?: boolean;
  /** XEP-0388 §4.2: this installation's user agent; `id` (a UUID) should be stored and kept by the app. Default: a new UUID per Client. */
  userAgent?: UserAgent;
  /**
   * XEP-0484 FAST with SASL2: where the app keeps its token. A password login asks for one; the next
   * connection logs in with it in one message (with Bind 2 and inline resumption), and falls back to
   * the password when the server refuses it. Tokens are bound to `userAgent.id`: keep both. With a
   * token, `password` may be '' (then a refused token ends in SB_ERR_AUTH).
   */
  fast?: FastTokenStorage;
  /** XEP-0198 when the server offers it (default true). */
  streamManagement?: boolean;
  /**
   * XEP-0280 message carbons on for every new session (default false; setCarbons changes it later): inside
   * the Bind 2 request when the server lists carbons there (XEP-0386 §3.2, no round trip, no message missed
   * between binding and enabling), else an iq right after binding.
   */
  carbons?: boolean;
  /**
   * XEP-0352: the state new sessions start in (default true, active; setActive changes it later). false:
   * <inactive/> inside the Bind 2 request when the server lists CSI there, else sent right after binding.
   */
  active?: boolean;
  /**
   * Notices a link that died silently: after `intervalMs` without a word from the server, a probe
   * (XEP-0198 <r/> when stream management is on and `method` allows, else a XEP-0199 ping) must be
   * answered within `timeoutMs`, or the attempt fails with SB_ERR_TIMEOUT and the machine goes to
   * Retrying. Default { intervalMs: 60000, timeoutMs: 20000, method: 'auto' }; false turns it off.
   */
  keepalive?: false | Partial<KeepaliveOptions>;
  /** Longest wait for the transport to open and for each answer during negotiation, ms (default 20000). */
  timeoutMs?: number;
  iqTimeoutMs?: number;
  timers?: Timers;
  /** For tests and custom transports. */
  transportFactory?: (options: ClientOptions) => ClientTransport;
}

export interface KeepaliveOptions {
  intervalMs: number;
  timeoutMs: number;
  /** 'auto': <r/> when XEP-0198 is enabled, else ping; 'sm' falls back to ping without XEP-0198. */
  method: 'auto' | 'ping' | 'sm';
}

export const DEFAULT_KEEPALIVE: KeepaliveOptions = { intervalMs: 60_000, timeoutMs: 20_000, method: 'auto' };
