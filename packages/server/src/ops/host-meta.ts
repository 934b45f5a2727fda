// XEP-0156 §3: web clients (Converse.js, JSXC, …) find the WebSocket endpoint
// of a domain at https://DOMAIN/.well-known/host-meta (XRD, RFC 6415) or
// host-meta.json (JRD); CORS lets a page on another origin read them.

export const WEBSOCKET_REL = 'urn:xmpp:alt-connections:websocket';

export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, OPTIONS',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '86400',
};

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function hostMetaXrd(websocketUrl: string): string {
  return `<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n  <Link rel="${WEBSOCKET_REL}" href="${escapeXml(websocketUrl)}"/>\n</XRD>\n`;
}

export function hostMetaJson(websocketUrl: string): string {
  return `${JSON.stringify({ links: [{ rel: WEBSOCKET_REL, href: websocketUrl }] })}\n`;
}

/** The URL clients are told: the configured one, else made from the domain and the WebSocket listener. */
export function publicWebSocketUrl(config: { publicWebSocketUrl: string; domain: string; wsPort: number; wsPath: string; wsTls: boolean }, wsPort: number | undefined): string | undefined {
  if (config.publicWebSocketUrl !== '') return config.publicWebSocketUrl;
  if (wsPort === undefined) return undefined;
  return `${config.wsTls ? 'wss' : 'ws'}://${config.domain}:${wsPort}${config.wsPath}`;
}
