// The package's browser entry (package.json exports: `browser`): the client
// over the browser's WebSocket (RFC 7395), and nothing from Node, so any
// bundler that honours the `browser` condition (esbuild, Vite, webpack) makes
// a bundle without configuration. A TCP transport asked for here is refused
// when the Client is made.

export * from './api.ts';
export { Client } from './client.ts';
