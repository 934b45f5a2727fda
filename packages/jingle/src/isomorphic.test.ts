// The package runs in browsers: bundled for the browser platform, the main
// entry pulls in no Node built-in (those live in node-*.ts, behind ./node).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';

describe('@switchboard/jingle in a browser bundle', () => {
  it('has no Node built-in behind its main entry', async () => {
    const result = await build({
      entryPoints: [new URL('./index.ts', import.meta.url).pathname],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((i) => i.endsWith('jingle/src/manager.ts')));
    assert.deepEqual(inputs.filter((i) => i.includes('node-') || i.startsWith('node:')), []);
    const imports = Object.values(result.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
    assert.deepEqual(imports.filter((p) => p.startsWith('node:')), []);
  });
});
