// A SASL2 login with XEP-0484 when the application keeps a token: the token
// first (one message), the password when the token is refused (§5.1: the
// token is forgotten), and a token asked for at every password login so the
// next reconnect needs no password. Without a token storage, or a server
// without <fast/>, it is the plain SASL2 login.

import { ClientError } from './errors.ts';
import { chooseFastMechanism, fastMechanisms, HtClient, tokenUsable, type FastTokenStorage } from './fast.ts';
import { channelBindingTypes, type NegotiationStream } from './negotiation.ts';
import { authenticate2, type Sasl2Options, type Sasl2Result } from './sasl2.ts';
import type { Element } from '@switchboard/xml';

export async function sasl2Login(stream: NegotiationStream, features: Element, feature: Element, options: Sasl2Options, storage: FastTokenStorage | undefined): Promise<Sasl2Result> {
  const offered = fastMechanisms(feature);
  if (!storage || offered.length === 0) return authenticate2(stream, features, feature, options);
  const cb = stream.transport.channelBinding();
  const saved = await storage.load();
  if (saved && tokenUsable(saved, offered, cb)) {
    // §4.4: every attempt counts, whether it succeeds or not, so the count is kept before it is sent.
    const count = saved.count + 1;
    await storage.save({ ...saved, count });
    try {
      const mechanism = new HtClient(saved.mechanism, options.credentials.username, saved.token, cb);
      const result = await authenticate2(stream, features, feature, { ...options, fast: { use: { mechanism, count } } });
      // §4.5: a rotated token replaces this one.
      if (result.token) await storage.save({ mechanism: saved.mechanism, ...result.token, count: 0 });
      return result;
    } catch (err) {
      // A SASL failure is the server refusing the token (expired, revoked, another agent's): it is
      // forgotten and the password takes over. Anything else (the server could not prove it holds
      // the token, the link broke) is not a reason to try a password on this stream.
      if (!(err instanceof ClientError) || err.detail.saslCondition === undefined || err.detail.saslCondition === 'temporary-auth-failure') throw err;
      await storage.save(undefined);
      if (options.credentials.password === '') throw err;
    }
  }
  const request = chooseFastMechanism(offered, cb, channelBindingTypes(features));
  const result = await authenticate2(stream, features, feature, { ...options, fast: request ? { request } : undefined });
  if (result.token && request) await storage.save({ mechanism: request, ...result.token, count: 0 });
  return result;
}
