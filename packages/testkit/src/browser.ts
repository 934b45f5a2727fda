// Headless Chromium for the tests that run our code in a browser: one set of
// launch flags, and a page server for a bundle of TypeScript.

import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, which scripts/test-env.sh installs. */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags every test browser needs: no sandbox (root in a container), no GPU, nothing phoning home. */
const BASE_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...BASE_ARGS, ...extraArgs] });
}

export interface ServedPage {
  /** The page: it imports the bundle, sets `window[global]` to its exports and `window.ready`. */
  url: string;
  /** esbuild's metafile, to check what the bundle imports. */
  metafile: Metafile;
  close(): Promise<void>;
}

/**
 * Bundles `entry` for the browser (ESM, split so lazily imported Node-only
 * chunks stay out of the page) and serves it on 127.0.0.1 behind a page
 * that exposes its exports as `window[global]`.
 */
export async function servePage(options: { entry: string; global: string; title?: string }): Promise<ServedPage> {
  const outdir = mkdtempSync(join(tmpdir(), 'switchboard-page-'));
  const result = await build({
    entryPoints: { [options.global]: options.entry },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    outdir,
    // Only lazily loaded Node transports refer to these; a page never loads those chunks.
    external: ['node:*', 'ws'],
    metafile: true,
    logLevel: 'silent',
  });
  const page = `<!doctype html><title>${options.title ?? options.global}</title><script type="module">import * as m from "./${options.global}.js"; window.${options.global} = m; window.ready = true;</script>`;
  const http = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      return;
    }
    try {
      const body = readFileSync(join(outdir, basename(req.url ?? '')));
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(http.address() as { port: number }).port}/`,
    metafile: result.metafile,
    async close() {
      await new Promise((resolve) => http.close(resolve));
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}
