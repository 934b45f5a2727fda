// XEP-0215 v1.0.0 External Service Discovery: the STUN and TURN servers (or
// any other external service) of the configuration, for this server's own
// users, so their Jingle calls (XEP-0176) find relays. §3.1 all services,
// §3.2 those of one type, §3.3 credentials for one service, §5 the feature.
//
// A service with a `secret` gets ephemeral TURN credentials per request
// (draft-uberti-behave-turn-rest-00 §2.2, coturn's `use-auth-secret`):
// username = "<expiry unix time>:<requesting bare JID>", password =
// base64(HMAC-SHA1(secret, username)). A `restricted` service is listed
// without credentials; the client asks for them (§3.3).
//
// Registered only when services are configured, so the server advertises
// urn:xmpp:extdisco:2 exactly when it has something to tell.

import { createHmac } from 'node:crypto';
import { xml, type Element } from '@switchboard/xml';
import { stanzaError } from '@switchboard/protocol';
import type { ExternalService } from '../../config.ts';
import type { IqContext, IqRegistry, IqOutcome } from '../iq-handlers.ts';
import { defineModule } from '../module.ts';

export const NS_EXTDISCO = 'urn:xmpp:extdisco:2';

/** draft-uberti-behave-turn-rest-00 §2.2 recommends a day. */
export const DEFAULT_TTL_SECONDS = 86_400;

export interface ExternalServicesDeps {
  services: readonly ExternalService[];
  /** Milliseconds since the epoch (swappable for tests). */
  now?: () => number;
}

/** A service as it goes on the wire: the configuration plus the credentials of this answer. */
interface Listed {
  service: ExternalService;
  credentials?: { username: string; password: string; expires?: string };
}

/** Checks the `externalServices` of a configuration; throws on the first entry a client could not use. */
export function validateExternalServices(services: readonly ExternalService[]): void {
  services.forEach((s, i) => {
    const where = `externalServices[${i}]`;
    if (typeof s !== 'object' || s === null) throw new Error(`${where}: not an object`);
    if (typeof s.type !== 'string' || !/^[a-z0-9][a-z0-9.+-]*$/i.test(s.type)) throw new Error(`${where}: type must be a service type such as stun or turn`);
    if (typeof s.host !== 'string' || s.host === '') throw new Error(`${where}: host is required`);
    if (s.port !== undefined && !(Number.isInteger(s.port) && s.port > 0 && s.port < 65536)) throw new Error(`${where}: port must be 1–65535`);
    if (s.transport !== undefined && s.transport !== 'udp' && s.transport !== 'tcp') throw new Error(`${where}: transport must be udp or tcp`);
    if (s.secret !== undefined && (s.username !== undefined || s.password !== undefined)) throw new Error(`${where}: secret (ephemeral credentials) excludes username/password`);
    if (s.secret !== undefined && (typeof s.secret !== 'string' || s.secret === '')) throw new Error(`${where}: secret must be a non-empty string`);
    if ((s.username === undefined) !== (s.password === undefined)) throw new Error(`${where}: username and password go together`);
    if (s.ttlSeconds !== undefined && !(Number.isInteger(s.ttlSeconds) && s.ttlSeconds > 0)) throw new Error(`${where}: ttlSeconds must be a positive integer`);
  });
}

export function registerExternalServices(iq: IqRegistry, deps: ExternalServicesDeps): void {
  if (deps.services.length === 0) return;
  validateExternalServices(deps.services);
  const now = deps.now ?? Date.now;

  const credentialsFor = (s: ExternalService, user: string): Listed['credentials'] => {
    if (s.username !== undefined && s.password !== undefined) return { username: s.username, password: s.password };
    if (s.secret === undefined) return undefined;
    const expiry = Math.floor(now() / 1000) + (s.ttlSeconds ?? DEFAULT_TTL_SECONDS);
    const username = `${expiry}:${user}`;
    const password = createHmac('sha1', s.secret).update(username).digest('base64');
    // XEP-0082 DateTime, UTC, whole seconds.
    return { username, password, expires: new Date(expiry * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  };

  iq.register({
    xmlns: NS_EXTDISCO,
    name: 'services',
    targets: ['host'],
    handler: (ctx) => {
      const refused = refuse(ctx);
      if (refused) return refused;
      const type = ctx.payload.attrs.type;
      const user = ctx.from.bare().toString();
      const listed = deps.services
        .filter((s) => type === undefined || s.type === type)
        .map((service): Listed => ({ service, credentials: service.restricted ? undefined : credentialsFor(service, user) }));
      return xml('services', { xmlns: NS_EXTDISCO, type }, listed.map(serviceElement));
    },
  });

  iq.register({
    xmlns: NS_EXTDISCO,
    name: 'credentials',
    targets: ['host'],
    handler: (ctx) => {
      const refused = refuse(ctx);
      if (refused) return refused;
      // §3.3: the <service/> MUST name host and type; port tells apart services on one host.
      const wanted = ctx.payload.getChildren().find((c) => c.localName === 'service');
      const { host, type, port } = wanted?.attrs ?? {};
      if (!host || !type) return stanzaError('bad-request', { text: 'a <service/> with host and type' });
      if (port !== undefined && !/^\d+$/.test(port)) return stanzaError('bad-request', { text: 'port is a number' });
      const matches = deps.services.filter((s) => s.host === host && s.type === type && (port === undefined || s.port === Number(port)));
      if (matches.length === 0) return stanzaError('item-not-found', { text: 'no such service' });
      const user = ctx.from.bare().toString();
      const listed = matches.flatMap((service): Listed[] => {
        const credentials = credentialsFor(service, user);
        return credentials ? [{ service: { ...service, restricted: undefined }, credentials }] : [];
      });
      // §3.3: the server cannot obtain credentials at a service that has none.
      if (listed.length === 0) return stanzaError('item-not-found', { text: 'this service takes no credentials' });
      return xml('credentials', { xmlns: NS_EXTDISCO }, listed.map(serviceElement));
    },
  });
}

/** Only this server's users learn its relays (and their credentials); a push set is the server's to send (§3.2). */
function refuse(ctx: IqContext): IqOutcome | undefined {
  if (ctx.type !== 'get') return stanzaError('bad-request', { text: 'services are requested with a get' });
  if (ctx.session === undefined) return stanzaError('forbidden');
  return undefined;
}

function serviceElement({ service: s, credentials: c }: Listed): Element {
  return xml('service', {
    type: s.type,
    host: s.host,
    port: s.port === undefined ? undefined : String(s.port),
    transport: s.transport,
    name: s.name,
    restricted: s.restricted ? '1' : undefined,
    username: c?.username,
    password: c?.password,
    expires: c?.expires,
  });
}

export const externalServices = defineModule<{ services: readonly ExternalService[] }>({
  name: 'external-services',
  setup(ctx, options) {
    registerExternalServices({ register: ctx.iq, features: ctx.features }, { services: options.services });
  },
});
