#!/usr/bin/env node
// Runs every *.test.ts under packages/ and test/ with node's own test runner.
// Node 20's --test cannot glob, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const roots = ['packages', 'test'];
const filter = process.argv.slice(2);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

// One certificate for every test server, trusted by every test process through
// NODE_EXTRA_CA_CERTS, so that clients in tests verify TLS as they would in use.
const tlsDir = join('run', 'test-tls');
const certFile = join(tlsDir, 'localhost.crt');
const keyFile = join(tlsDir, 'localhost.key');
if (!existsSync(certFile) || !existsSync(keyFile)) {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  mkdirSync(tlsDir, { recursive: true });
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  writeFileSync(certFile, pems.cert);
}
const env = {
  ...process.env,
  NODE_EXTRA_CA_CERTS: resolve(certFile),
  SWITCHBOARD_TEST_TLS_CERT: resolve(certFile),
  SWITCHBOARD_TEST_TLS_KEY: resolve(keyFile),
  // Servers the tests spawn run side by side: no operator HTTP listener on its fixed default port
  // unless a test asks for one (a flag wins over the environment).
  SWITCHBOARD_HTTP__PORT: '-1',
};

const files = roots.flatMap((r) => walk(r, [])).filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));
files.sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  // A test file fails after 10 minutes instead of holding CI until its limit; a fuzzer's long run by hand
  // (FUZZ_SECONDS) gets its own length and shrinking time.
  ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${(Number(process.env.FUZZ_SECONDS ?? 0) + 600) * 1000}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
