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
import { build } from 'esbuild';

const started = Date.now();
await build({
  entryPoints: { switchboard: 'packages/server/src/cli/main.ts' },
  outdir: 'dist',
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
if (process.argv.includes('--verbose')) console.error(`built dist/switchboard.mjs in ${Date.now() - started} ms`);
