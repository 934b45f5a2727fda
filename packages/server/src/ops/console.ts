// The web console's files (packages/console), served by the operator HTTP
// listener when `http.console` is on. The page is an XMPP client: it logs in
// over the WebSocket endpoint this listener announces (host-meta.json), and
// every admin action is an ad-hoc command the sm authorizes, so the
// listener serves files and nothing else for it: no HTTP API.
//
// The compiled server (dist/switchboard.mjs, scripts/build.mjs) finds the
// console built beside it in dist/console/; run from source (tsx) it builds
// it in memory at start with esbuild (~0.2 s).

import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ConsoleFiles = ReadonlyMap<string, Uint8Array>;

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

// The page loads only its own files and talks only to its origin and a WebSocket endpoint (which host-meta names).
const HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' wss: ws:; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export async function loadConsoleFiles(): Promise<ConsoleFiles> {
  const built = fileURLToPath(new URL('./console/', import.meta.url));
  if (existsSync(join(built, 'index.html'))) return new Map(Object.keys(TYPES).map((name) => [name, readFileSync(join(built, name))]));
  const source = new URL('../../../console/build.mjs', import.meta.url);
  if (!existsSync(fileURLToPath(source))) throw new Error(`http.console: no built console in ${built} (npm run build makes it)`);
  const { buildConsole } = (await import(source.href)) as { buildConsole(): Promise<Map<string, Uint8Array>> };
  return buildConsole();
}

/** Answers GET / and the console's files; false for any other path. */
export function serveConsoleFile(files: ConsoleFiles, path: string, res: ServerResponse): boolean {
  const name = path === '/' ? 'index.html' : path.slice(1);
  const body = TYPES[name] !== undefined ? files.get(name) : undefined;
  if (!body) return false;
  res.writeHead(200, { ...HEADERS, 'content-type': TYPES[name]! }).end(body);
  return true;
}
