// Builds the web console: src/main.ts bundled for the browser with esbuild
// (the client's browser entry, so nothing from Node), beside the static
// index.html and console.css. scripts/build.mjs writes it to dist/console/
// next to the server bundle; a server run from source (tsx: tests, `node
// --import tsx`) calls this at start with `write: false` and serves the
// files from memory.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new globalThis.URL('.', import.meta.url));
const root = join(here, '..', '..');
const STATIC = ['index.html', 'console.css'];

/**
 * @param {{ outdir?: string, minify?: boolean }} options  outdir: write there; none: return the files
 * @returns {Promise<Map<string, Uint8Array>>} every file of the console by name (index.html, console.css, console.js)
 */
export async function buildConsole(options = {}) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { console: join(here, 'src', 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox111', 'safari16.4'],
    // The repository's tsconfig maps @switchboard/client to its Node entry; a page gets the browser one.
    alias: { '@switchboard/client': join(root, 'packages', 'client', 'src', 'browser.ts') },
    minify: options.minify ?? true,
    legalComments: 'none',
    write: false,
    outdir: options.outdir ?? join(root, 'dist', 'console'),
    logLevel: 'warning',
  });
  const files = new Map();
  for (const out of result.outputFiles) files.set(out.path.slice(out.path.lastIndexOf('/') + 1), out.contents);
  for (const name of STATIC) files.set(name, readFileSync(join(here, 'src', name)));
  if (options.outdir) {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(options.outdir, { recursive: true });
    for (const [name, body] of files) writeFileSync(join(options.outdir, name), body);
  }
  return files;
}
