#!/usr/bin/env node
// Compiles the server's CLI into one ESM file, dist/switchboard.mjs, which
// `npm start` and the benchmarks run with plain node. Our workspace packages
// are bundled; every npm dependency stays external and loads from
// node_modules as usual.
//
// Why not run the TypeScript through tsx as the tests do: tsx always compiles
// with esbuild's keepNames, which renames every named closure through
// Object.defineProperty and so gives each one its own dictionary of
// properties. The c2s and sm make several closures per connection; that costs
// ~4 KB of heap per session and CPU on every closure made (see
// docs/benchmarks.md), and tsx itself adds ~40 MB of base RSS.
//
// The web console (packages/console) is built beside it, in dist/console/.
//
// `--outdir DIR` (default dist/) writes it elsewhere: the server package's
// prepack builds packages/server/dist/switchboard.mjs, its `bin`, so that
// `npx switchboard` works from the packed @switchboard/server.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { buildConsole } from '../packages/console/build.mjs';

const root = fileURLToPath(new globalThis.URL('..', import.meta.url));
const at = process.argv.indexOf('--outdir');
const outdir = at > 0 ? resolve(process.argv[at + 1]) : resolve(root, 'dist');
const started = Date.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: { switchboard: 'packages/server/src/cli/main.ts' },
  outdir,
  metafile: process.argv.includes('--externals'),
  define: { SWITCHBOARD_VERSION: JSON.stringify(JSON.parse(readFileSync(resolve(root, 'packages/server/package.json'), 'utf8')).version) },
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [
    {
      name: 'npm-dependencies-external',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@switchboard/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
// The web console (http.console), served from beside the bundle: outdir/console/.
await buildConsole({ outdir: resolve(outdir, 'console') });
if (process.argv.includes('--verbose')) console.error(`built ${outdir}/switchboard.mjs and ${outdir}/console/ in ${Date.now() - started} ms`);
// The npm packages the bundle loads at run time: the server package's dependencies must list each.
if (result.metafile) {
  const external = new Set(Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && !i.path.startsWith('node:')).map((i) => i.path)));
  console.log([...external].sort().join('\n'));
}
